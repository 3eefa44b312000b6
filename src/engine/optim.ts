import type { ParamStore } from './params.js';
import type { Engine, Ptr } from './wasm.js';

/**
 * Optimizers and gradient clipping over the flat parameter / gradient blocks of a ParamStore
 * (kernels in src/engine/as/optim.ts). Padding between parameters stays 0 in every block, so flat loops
 * over the whole block are exact.
 */
export interface AdamConfig {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** true: AdamW's decoupled decay (p *= 1 − lr·wd); false: Adam's L2 term (g += wd·p). */
  decoupled?: boolean;
}

/**
 * Adam / AdamW with PyTorch semantics (torch.optim.Adam / AdamW, amsgrad off, bias correction, eps added
 * after dividing sqrt(v) by sqrt(1 − β2^t)). `lr` may be changed between steps (warm-up, plateau).
 * The moments live in the engine's arena next to the parameters, in the same flat layout.
 */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  /** Steps taken (t of the last step). */
  t = 0;
  readonly m: Ptr;
  readonly v: Ptr;

  constructor(
    private readonly e: Engine,
    private readonly store: ParamStore,
    cfg: AdamConfig = {},
  ) {
    if (!store.base) throw new Error('Adam: allocate the ParamStore first');
    this.lr = cfg.lr ?? 1e-3;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
    this.decoupled = cfg.decoupled ?? false;
    for (const [k, v] of Object.entries({ lr: this.lr, eps: this.eps, weightDecay: this.weightDecay }))
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`Adam: ${k}=${v} must be a finite number >= 0`);
    for (const [k, v] of Object.entries({ beta1: this.beta1, beta2: this.beta2 }))
      if (!(v >= 0 && v < 1)) throw new Error(`Adam: ${k}=${v} must be in [0, 1)`);
    this.m = e.alloc(store.total);
    this.v = e.alloc(store.total);
  }

  /** One update of every parameter from the current gradients. */
  step(): void {
    this.t += 1;
    const { store, beta1: b1, beta2: b2, lr, weightDecay: wd } = this;
    // scalars in f64 (as PyTorch computes them in Python), rounded to f32 once by the call
    const step = lr / (1 - b1 ** this.t);
    const bc2s = Math.sqrt(1 - b2 ** this.t);
    const l2 = this.decoupled ? 0 : wd;
    const decay = this.decoupled ? 1 - lr * wd : 1;
    this.e.k.adam_step(
      store.total,
      store.base,
      store.gradBase,
      this.m,
      this.v,
      b1,
      1 - b1,
      b2,
      1 - b2,
      step,
      bc2s,
      this.eps,
      l2,
      decay,
    );
  }

  /** The moment blocks (views; re-take after memory growth), for checkpoints. */
  state(): { t: number; m: Float32Array; v: Float32Array } {
    return { t: this.t, m: this.e.f32(this.m, this.store.total), v: this.e.f32(this.v, this.store.total) };
  }

  /** Restore from `state()` output. */
  loadState(s: { t: number; m: ArrayLike<number>; v: ArrayLike<number> }): void {
    const n = this.store.total;
    if (s.m.length !== n || s.v.length !== n)
      throw new Error(`Adam: state has ${s.m.length}/${s.v.length} values, the model has ${n}`);
    this.t = s.t;
    this.e.f32(this.m, n).set(s.m);
    this.e.f32(this.v, n).set(s.v);
  }
}

/** AdamW: Adam with decoupled weight decay (PyTorch's default weight_decay 0.01). */
export class AdamW extends Adam {
  constructor(e: Engine, store: ParamStore, cfg: Omit<AdamConfig, 'decoupled'> = {}) {
    super(e, store, { weightDecay: 0.01, ...cfg, decoupled: true });
  }
}

/** The global L2 norm of all gradients (f64 accumulation). */
export function gradNorm(e: Engine, store: ParamStore): number {
  return Math.sqrt(e.k.sumsq_f64(store.total, store.gradBase) as number);
}

/**
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm)`: total = ‖all grads‖₂; if maxNorm/(total + 1e-6) < 1
 * every gradient is scaled by it. Returns the total norm BEFORE clipping (a non-finite norm is returned
 * as is and scales the gradients to NaN, as PyTorch does without error_if_nonfinite: check it).
 */
export function clipGradNorm(e: Engine, store: ParamStore, maxNorm: number): number {
  const total = gradNorm(e, store);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1 || Number.isNaN(coef)) e.k.scale(store.total, coef, store.gradBase);
  return total;
}
