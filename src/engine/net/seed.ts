import { SelfAttention } from '../layers/attention.js';
import { BatchNorm1d } from '../layers/batchnorm.js';
import { BiLSTM } from '../layers/bilstm.js';
import { Dropout, dropoutSeed } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { MeanPool } from '../layers/meanpool.js';
import { ParamStore } from '../params.js';
import type { Engine, Ptr } from '../wasm.js';
import { LastStepConcat } from './last-step.js';

/**
 * The seed forecaster (the PyTorch `SeedForecaster` that test/fixtures/torch/generate.py builds at toy size), one replica in one
 * Engine:
 *
 *   x (B, T, F) → biLSTM (numLayers, H per direction, dropout between layers) → h (B, T, 2H)
 *   → self-attention (heads, E = 2H, attention dropout) → a (B, T, E) → dropout → mean over valid t (B, E)
 *   → BatchNorm1d(E) → Linear(E, headHidden) → ReLU → dropout → Linear(headHidden, horizon) → pred (B, horizon)
 *
 * With `lastStepSkip` (not in the seed) the head also sees the origin step directly: the pooled (B, E) is
 * concatenated with the biLSTM output at the last step h[:, T−1] (E) and the input there x[:, T−1] (F)
 * (src/engine/net/last-step.ts), and BatchNorm1d / fc1 take D = 2E + F inputs. Without it the model is
 * exactly the seed's (and matches the PyTorch fixtures).
 *
 * Parameters carry the PyTorch state_dict names (`lstm.weight_ih_l0`, …, `attn.in_proj_weight`,
 * `attn.out_proj.weight`, `bn.weight`, `fc1.weight`, `fc2.bias`, …) in one ParamStore (our layouts:
 * weight matrices transposed; `loadTorch`/`toTorch` convert). Buffers: `bn.running_mean`, `bn.running_var`.
 *
 * Variable-length histories are left-padded: `lengths[b]` valid steps at the end of the T window. A
 * sample's prediction and gradients do not depend on the padding (nor on the other samples, in eval mode;
 * in training mode BatchNorm's batch statistics couple the samples, as in PyTorch).
 *
 * Training mode: BatchNorm uses batch statistics (B >= 2) and updates its running stats; every dropout is
 * on, with masks derived from `seed` (give each step its own, e.g. `dropoutSeed(runSeed, step, 0)`).
 * Backward (once per forward) ACCUMULATES into the parameter gradients: zero them once per step
 * (`store.zeroGrad(e)`).
 */
export interface SeedModelConfig {
  /** Input features per time step (F). */
  features: number;
  /** LSTM hidden size per direction (H); the attention width is 2H. */
  hidden: number;
  numLayers: number;
  heads: number;
  headHidden: number;
  horizon: number;
  dropout: number;
  /** Head input = concat(mean-pooled attention, biLSTM output and input at the last step) (default false). */
  lastStepSkip?: boolean;
}

/** The seed's defaults (seed_model.py SeedConfig): F = 20, H = 128, 2 layers, 4 heads, 128, 30, 0.2. */
export const SEED_DEFAULTS: SeedModelConfig = {
  features: 20,
  hidden: 128,
  numLayers: 2,
  heads: 4,
  headHidden: 128,
  horizon: 30,
  dropout: 0.2,
  lastStepSkip: false,
};

export interface SeedForwardOptions {
  /** Valid steps per sample (1..T, left-padded); default: all T. */
  lengths?: ArrayLike<number>;
  training?: boolean;
  /** Dropout seed for this call (training only). */
  seed?: number;
}

// dropout sites (for per-site seeds)
const SITE_LSTM = 1;
const SITE_ATTN = 2;
const SITE_POOL = 3;
const SITE_HEAD = 4;

export class SeedModel {
  readonly cfg: SeedModelConfig;
  readonly store = new ParamStore();
  readonly lstm: BiLSTM;
  readonly attn: SelfAttention;
  readonly dropAttnOut: Dropout;
  readonly pool: MeanPool;
  /** The head's skip input (lastStepSkip only). */
  readonly skip: LastStepConcat | null;
  readonly bn: BatchNorm1d;
  readonly fc1: Linear;
  readonly dropHead: Dropout;
  readonly fc2: Linear;
  readonly maxB: number;
  readonly maxT: number;
  /** Width of the attention / pooled features (2H). */
  readonly E: number;
  /** Width of the head's input: E, or 2E + F with lastStepSkip. */
  readonly D: number;
  private readonly lengthsPtr: Ptr;
  private readonly lstmMask: Ptr;
  // what the last forward ran with
  private B = 0;
  private T = 0;
  private training = false;

  constructor(
    readonly e: Engine,
    cfg: Partial<SeedModelConfig>,
    maxB: number,
    maxT: number,
  ) {
    const c = { ...SEED_DEFAULTS, ...cfg };
    for (const k of ['features', 'hidden', 'numLayers', 'heads', 'headHidden', 'horizon'] as const)
      if (!Number.isInteger(c[k]) || c[k] < 1)
        throw new Error(`seed model: ${k}=${c[k]} must be a positive integer`);
    if (!(c.dropout >= 0 && c.dropout < 1))
      throw new Error(`seed model: dropout=${c.dropout} must be in [0, 1)`);
    if (!Number.isInteger(maxB) || maxB < 1 || !Number.isInteger(maxT) || maxT < 1)
      throw new Error(`seed model: maxB=${maxB}, maxT=${maxT} must be positive integers`);
    this.cfg = c;
    this.maxB = maxB;
    this.maxT = maxT;
    const E = 2 * c.hidden;
    this.E = E;
    this.skip = c.lastStepSkip ? new LastStepConcat(E, E, c.features) : null;
    const D = this.skip ? this.skip.D : E;
    this.D = D;
    const s = this.store;
    // declare parameters in PyTorch's module order
    this.lstm = new BiLSTM(s, {
      inputSize: c.features,
      hidden: c.hidden,
      numLayers: c.numLayers,
      prefix: 'lstm.',
    });
    this.attn = new SelfAttention(s, { embedDim: E, numHeads: c.heads, dropout: c.dropout, prefix: 'attn.' });
    this.dropAttnOut = new Dropout(c.dropout);
    this.pool = new MeanPool(E);
    this.bn = new BatchNorm1d(s, { channels: D, prefix: 'bn.' });
    this.fc1 = new Linear(s, { inFeatures: D, outFeatures: c.headHidden, prefix: 'fc1.' });
    this.dropHead = new Dropout(c.dropout);
    this.fc2 = new Linear(s, { inFeatures: c.headHidden, outFeatures: c.horizon, prefix: 'fc2.' });
    // parameters, then activations sized for maxB x maxT
    s.allocate(e);
    this.lstm.allocate(e, maxB, maxT);
    this.attn.allocate(e, maxB, maxT);
    this.dropAttnOut.allocate(e, maxB * maxT * E);
    this.pool.allocate(e, maxB, maxT);
    this.skip?.allocate(e, maxB);
    this.bn.allocate(e, maxB);
    this.fc1.allocate(e, maxB);
    this.dropHead.allocate(e, maxB * c.headHidden);
    this.fc2.allocate(e, maxB);
    this.lengthsPtr = e.alloc(maxB, false);
    this.lstmMask = c.dropout > 0 && c.numLayers > 1 ? e.alloc(this.lstm.dropMaskSize(maxB, maxT), false) : 0;
  }

  /** Number of learnable values (PyTorch's count_params). */
  get paramCount(): number {
    return this.store.params.reduce((a, p) => a + p.size, 0);
  }

  /** x (B, T, F) → pred (B, horizon); returns the pointer of pred (valid until the next forward). */
  forward(B: number, T: number, x: Ptr, opts: SeedForwardOptions = {}): Ptr {
    const { e, cfg, E } = this;
    const training = opts.training ?? false;
    if (training && B < 2) throw new Error('seed model: training needs a batch of at least 2 (BatchNorm)');
    const seed = (opts.seed ?? 0) >>> 0;
    const lengths = this.setLengths(B, T, opts.lengths);
    this.B = B;
    this.T = T;
    this.training = training;
    // biLSTM (dropout between its layers when training)
    let dropMask = 0;
    if (training && this.lstmMask) {
      e.k.dropout_mask(
        this.lstm.dropMaskSize(B, T),
        cfg.dropout,
        dropoutSeed(seed, 0, SITE_LSTM),
        0,
        this.lstmMask,
      );
      dropMask = this.lstmMask;
    }
    const h = this.lstm.forward(e, B, T, x, { lengths, dropMask });
    // self-attention over the valid steps (padded rows 0)
    const a = this.attn.forward(e, B, T, h, { lengths, training, seed: dropoutSeed(seed, 0, SITE_ATTN) });
    // dropout, mean over valid steps
    const ad = this.dropAttnOut.forward(e, B * T * E, a, training, dropoutSeed(seed, 0, SITE_POOL));
    const pooled = this.pool.forward(e, B, T, ad, lengths);
    // (skip) concat the origin step's biLSTM output and input
    const z = this.skip ? this.skip.forward(e, B, T, pooled, h, x) : pooled;
    // BatchNorm → fc1 → ReLU (in place) → dropout → fc2
    const zn = this.bn.forward(e, B, z, training);
    const u = this.fc1.forward(e, B, zn);
    e.k.relu_forward(B * cfg.headHidden, u, u);
    const ud = this.dropHead.forward(e, B * cfg.headHidden, u, training, dropoutSeed(seed, 0, SITE_HEAD));
    return this.fc2.forward(e, B, ud);
  }

  /**
   * Inference (eval mode, no backward): the same predictions as `forward(…, { training: false })` up to
   * rounding, faster: attention and the mean over time are fused (SelfAttention.forwardPooled).
   */
  predict(B: number, T: number, x: Ptr, lengths?: ArrayLike<number>): Ptr {
    const { e, cfg } = this;
    const len = this.setLengths(B, T, lengths);
    this.B = 0; // no backward from here
    const h = this.lstm.forward(e, B, T, x, { lengths: len });
    const pooled = this.attn.forwardPooled(e, B, T, h, len);
    const z = this.skip ? this.skip.forward(e, B, T, pooled, h, x) : pooled;
    const zn = this.bn.forward(e, B, z, false);
    const u = this.fc1.forward(e, B, zn);
    e.k.relu_forward(B * cfg.headHidden, u, u);
    return this.fc2.forward(e, B, u);
  }

  /** dPred (B, horizon) → parameter grads (+=); with `dx`, returns dL/dx (B, T, F), else 0. */
  backward(dPred: Ptr, opts: { dx?: boolean } = {}): Ptr {
    const { e, B, cfg } = this;
    if (!B) throw new Error('seed model: backward needs a preceding forward (not predict)');
    // fc2 → dropout → ReLU (in place) → fc1
    let d = this.fc2.backward(e, dPred, { dx: true });
    d = this.dropHead.backward(e, d);
    e.k.relu_backward(B * cfg.headHidden, this.fc1.out, d, d);
    d = this.fc1.backward(e, d, { dx: true });
    // BatchNorm → (skip: split off the origin step's part) → mean-pool → dropout → attention
    d = this.bn.backward(e, d);
    if (this.skip) d = this.skip.backward(e, d);
    d = this.pool.backward(e, d);
    d = this.dropAttnOut.backward(e, d);
    const dh = this.attn.backward(e, d, { dx: true });
    // (skip) the origin step's biLSTM output gradient joins the attention's
    if (this.skip) this.skip.addLastStep(e, this.skip.dLastH, this.E, dh);
    // biLSTM
    const dx = this.lstm.backward(e, dh, { dx: opts.dx === true });
    // (skip) the origin step's input gradient
    if (this.skip && dx) this.skip.addLastStep(e, this.skip.dLastX, cfg.features, dx);
    return dx;
  }

  /** Check B, T and the lengths, and copy the lengths (default: all T) into wasm memory. */
  private setLengths(B: number, T: number, lengths?: ArrayLike<number>): Ptr {
    if (!Number.isInteger(B) || B < 1 || B > this.maxB || !Number.isInteger(T) || T < 1 || T > this.maxT)
      throw new Error(`seed model: B=${B}, T=${T} outside the allocated 1..${this.maxB} x 1..${this.maxT}`);
    const len = this.e.i32(this.lengthsPtr, B);
    if (!lengths) {
      len.fill(T);
      return this.lengthsPtr;
    }
    if (lengths.length !== B) throw new Error(`seed model: ${lengths.length} lengths for B=${B}`);
    for (let b = 0; b < B; b++) {
      const L = lengths[b];
      if (!Number.isInteger(L) || L < 1 || L > T)
        throw new Error(`seed model: lengths[${b}]=${L} must be in 1..${T}`);
      len[b] = L;
    }
    return this.lengthsPtr;
  }

  /** PyTorch's default initialisation of every layer; `rand` returns uniform [0, 1). */
  initTorchDefault(rand: () => number): void {
    const { e } = this;
    this.lstm.initTorchDefault(e, rand);
    this.attn.initTorchDefault(e, rand);
    this.bn.initTorchDefault(e);
    this.fc1.initTorchDefault(e, rand);
    this.fc2.initTorchDefault(e, rand);
  }

  /**
   * Load a PyTorch state_dict (values in PyTorch layout keyed by name): all parameters and the BatchNorm
   * running stats are required; other keys (e.g. `bn.num_batches_tracked`) are ignored.
   */
  loadTorch(state: Record<string, ArrayLike<number>>): void {
    const { e } = this;
    this.lstm.loadTorch(e, state);
    this.attn.loadTorch(e, state);
    this.bn.loadTorch(e, state);
    this.fc1.loadTorch(e, state);
    this.fc2.loadTorch(e, state);
  }

  /** All parameters (or gradients) in PyTorch layout, keyed by state_dict name. */
  toTorch(which: 'value' | 'grad' = 'value'): Record<string, Float64Array> {
    const { e } = this;
    return {
      ...this.lstm.toTorch(e, which),
      ...this.attn.toTorch(e, which),
      ...this.bn.toTorch(e, which),
      ...this.fc1.toTorch(e, which),
      ...this.fc2.toTorch(e, which),
    };
  }

  /** Parameters and buffers in PyTorch layout (a state_dict without num_batches_tracked). */
  stateDict(): Record<string, Float64Array> {
    const out = this.toTorch('value');
    for (const [k, v] of Object.entries(this.bn.buffers(this.e))) out[k] = Float64Array.from(v);
    return out;
  }

  /** The intermediates of the last forward (views; for tests and inspection). */
  intermediates(): Record<string, Float32Array> {
    const { e, B, T, E, cfg } = this;
    return {
      lstm_out: e.f32(this.lstm.out, B * T * E),
      attn_out: e.f32(this.attn.out, B * T * E),
      pooled: e.f32(this.pool.out, B * E),
      ...(this.skip ? { head_in: e.f32(this.skip.out, B * this.D) } : {}),
      bn_out: e.f32(this.bn.out, B * this.D),
      fc1_relu: e.f32(this.fc1.out, B * cfg.headHidden),
      pred: e.f32(this.fc2.out, B * cfg.horizon),
    };
  }

  /** Whether the last forward ran in training mode. */
  get wasTraining(): boolean {
    return this.training;
  }
}
