import type { Param, ParamStore } from '../params.js';
import type { Engine, Ptr } from '../wasm.js';
import { checkDims, fillConst, loadTorchParams, type TorchParam, torchParamValues } from './torch-io.js';

/**
 * BatchNorm1d with PyTorch semantics (eps 1e-5, momentum 0.1, affine, tracked running stats) over
 * x (B, C) or (B, C, L); kernels in src/engine/as/batchnorm.ts.
 * Training: normalise by the batch mean and biased variance over the B·L values of each channel, and
 * update running_mean / running_var (the latter with the unbiased variance). Needs B·L >= 2.
 * Eval: normalise by the running stats (a per-channel affine map; samples don't interact).
 *
 * Parameters: `${prefix}weight`, `${prefix}bias` (C), as in PyTorch. Buffers (not learned, not in the
 * ParamStore; saved with the model): `${prefix}running_mean`, `${prefix}running_var` (C) in `runningMean`,
 * `runningVar`. Backward (once per forward, same mode) ACCUMULATES into the parameter grads, WRITES dx.
 */
export interface BatchNormConfig {
  channels: number;
  eps?: number;
  momentum?: number;
  prefix?: string;
}

export class BatchNorm1d {
  readonly C: number;
  readonly eps: number;
  readonly momentum: number;
  readonly prefix: string;
  readonly weight: Param;
  readonly bias: Param;
  runningMean: Ptr = 0;
  runningVar: Ptr = 0;
  out: Ptr = 0;
  dx: Ptr = 0;
  maxRows = 0;
  private mean: Ptr = 0;
  private rstd: Ptr = 0;
  private x: Ptr = 0;
  private B = 0;
  private L = 1;
  private training = false;

  constructor(store: ParamStore, cfg: BatchNormConfig) {
    const C = cfg.channels;
    if (!Number.isInteger(C) || C < 1) throw new Error(`batchnorm: channels ${C} must be >= 1`);
    this.C = C;
    this.eps = cfg.eps ?? 1e-5;
    this.momentum = cfg.momentum ?? 0.1;
    this.prefix = cfg.prefix ?? '';
    this.weight = store.declare(`${this.prefix}weight`, [C]);
    this.bias = store.declare(`${this.prefix}bias`, [C]);
  }

  /** Allocate for inputs of up to maxRows = B·L values per channel; running stats start at 0 / 1. */
  allocate(e: Engine, maxRows: number): void {
    const { C } = this;
    this.maxRows = maxRows;
    this.runningMean = e.alloc(C);
    this.runningVar = e.alloc(C, false);
    e.f32(this.runningVar, C).fill(1);
    this.mean = e.alloc(C, false);
    this.rstd = e.alloc(C, false);
    this.out = e.alloc(maxRows * C, false);
    this.dx = e.alloc(maxRows * C, false);
  }

  /** x (B, C, L) → `out`; training uses and updates batch statistics. Returns `out`. */
  forward(e: Engine, B: number, x: Ptr, training: boolean, L = 1): Ptr {
    checkDims('batchnorm', { 'B*L': [B * L, this.maxRows] });
    if (training && B * L < 2)
      throw new Error(`batchnorm: training needs more than one value per channel (got B=${B}, L=${L})`);
    const { C, weight: w, bias: b } = this;
    this.x = x;
    this.B = B;
    this.L = L;
    this.training = training;
    if (training)
      e.k.batchnorm_train_forward(
        B,
        C,
        L,
        this.eps,
        this.momentum,
        x,
        w.ptr,
        b.ptr,
        this.runningMean,
        this.runningVar,
        this.out,
        this.mean,
        this.rstd,
      );
    else
      e.k.batchnorm_eval_forward(
        B,
        C,
        L,
        this.eps,
        x,
        w.ptr,
        b.ptr,
        this.runningMean,
        this.runningVar,
        this.out,
      );
    return this.out;
  }

  /** dOut (like x) → grads (+=) and `dx` (returned). */
  backward(e: Engine, dOut: Ptr): Ptr {
    const { B, C, L, weight: w, bias: b } = this;
    if (!B) throw new Error('batchnorm: backward before forward');
    if (this.training)
      e.k.batchnorm_train_backward(
        B,
        C,
        L,
        this.x,
        w.ptr,
        this.mean,
        this.rstd,
        dOut,
        this.dx,
        w.grad,
        b.grad,
      );
    else
      e.k.batchnorm_eval_backward(
        B,
        C,
        L,
        this.eps,
        this.x,
        w.ptr,
        this.runningMean,
        this.runningVar,
        dOut,
        this.dx,
        w.grad,
        b.grad,
      );
    return this.dx;
  }

  /** PyTorch's init: weight 1, bias 0 (running stats are reset by `resetRunningStats`). */
  initTorchDefault(e: Engine): void {
    fillConst(e, this.weight, 1);
    fillConst(e, this.bias, 0);
    this.resetRunningStats(e);
  }

  resetRunningStats(e: Engine): void {
    e.f32(this.runningMean, this.C).fill(0);
    e.f32(this.runningVar, this.C).fill(1);
  }

  torchParams(): TorchParam[] {
    return [
      { param: this.weight, torchShape: [this.C], transpose: false },
      { param: this.bias, torchShape: [this.C], transpose: false },
    ];
  }

  /** Buffers under their state_dict names. */
  buffers(e: Engine): Record<string, Float32Array> {
    return {
      [`${this.prefix}running_mean`]: e.f32(this.runningMean, this.C),
      [`${this.prefix}running_var`]: e.f32(this.runningVar, this.C),
    };
  }

  /** Load weight, bias and the running stats (all required) from PyTorch tensors keyed by state_dict name. */
  loadTorch(e: Engine, tensors: Record<string, ArrayLike<number>>): void {
    loadTorchParams(e, 'batchnorm', this.torchParams(), tensors);
    for (const [name, view] of Object.entries(this.buffers(e))) {
      const src = tensors[name];
      if (!src) throw new Error(`batchnorm: missing buffer ${name}`);
      if (src.length !== this.C)
        throw new Error(`batchnorm: ${name} has ${src.length} values, expected ${this.C}`);
      view.set(src);
    }
  }

  toTorch(e: Engine, which: 'value' | 'grad' = 'value'): Record<string, Float64Array> {
    return torchParamValues(e, this.torchParams(), which);
  }
}
