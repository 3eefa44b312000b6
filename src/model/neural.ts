import { SEED_DEFAULTS, SeedModel, type SeedModelConfig } from '../engine/net/seed.js';
import { Engine, type Variant } from '../engine/wasm.js';
import type { Batch } from './dataset.js';
import type { FeatureSpec } from './features.js';
import type { Forecast, Forecaster, TrainData } from './forecaster.js';
import type { StandardScaler } from './scaler.js';

/**
 * The neural forecaster: the seed's BiLSTM + attention (src/engine/net/seed.ts) behind the `Forecaster`
 * interface, with three quantile outputs and a persistence-anchored target.
 *
 * Data flow of one sample (origin t, history window of T minutes, F scaled features per minute):
 *   window (T, F) → coarsen by `resolution` r (T/r steps of [mean of the r minutes, last minute]: 2F
 *   features; r = 1 keeps (T, F)) → SeedModel → raw (3H) → quantile head → Δ50, Δ10, Δ90 (H each)
 *   → busy(t + h) = busy(t) + Δ·targetScale, clipped to [0, capacity].
 *
 * Target transform: the model predicts the CHANGE from the current busy value in units of `targetScale`
 * nodes (the std of the training set's H-minute change), so an all-zero output is persistence; the p50
 * rows of the last layer start at zero, so training starts from persistence.
 *
 * Quantile head, monotone by construction: raw = [m (H), a (H), b (H)],
 *   Δ50 = m, Δ10 = m − softplus(a), Δ90 = m + softplus(b).
 *
 * Variable-length histories: the window is left-padded; `lengths[b]` valid minutes become
 * ceil(lengths[b] / r) valid coarse steps (a partly valid group averages its valid minutes only), so a short
 * history gives exactly what the same history padded to the full window gives.
 * Over 450 lines as one unit: the neural forecaster's config, windows, P10/P50/P90 heads and loading must
 * agree with each other exactly (a checkpoint written by one part is read by another).
 */
export interface NeuralConfig {
  /** History minutes the model reads (window length T). */
  lookback: number;
  /** Minutes per LSTM step (T must be a multiple). */
  resolution: number;
  /** Raw features per minute (F). */
  features: number;
  /** LSTM hidden size per direction. */
  hidden: number;
  layers: number;
  heads: number;
  headHidden: number;
  dropout: number;
  /** Forecast steps H. */
  horizon: number;
  /** Repeat the origin minute's features in every LSTM step (F more inputs per step). */
  nowEveryStep?: boolean;
  /**
   * The head also sees the origin step directly: its input is concat(mean-pooled attention, the biLSTM
   * output and the step's inputs at the last step) instead of the pooled attention alone (the seed).
   * Absent = false (models saved before it existed).
   */
  lastStepSkip?: boolean;
}

/** The target transform stored with a model. */
export interface TargetTransform {
  kind: 'delta';
  /** Nodes per model unit. */
  scale: number;
  /**
   * Per-horizon shrinkage toward persistence α_h ∈ [0, 1] (H values), fitted on validation after training
   * (`fitShrink`): the P50 change becomes α_h·Δ50 and the P10/P90 band moves with it (width unchanged).
   * Absent = all 1 (models saved before it existed: unchanged predictions).
   */
  shrink?: number[];
}

/** LSTM steps of a window of `lookback` minutes. */
export function coarseSteps(cfg: Pick<NeuralConfig, 'lookback' | 'resolution'>): number {
  return cfg.lookback / cfg.resolution;
}

/** Features per LSTM step (2F when the window is coarsened: group mean and last minute). */
export function stepFeatures(cfg: Pick<NeuralConfig, 'features' | 'resolution' | 'nowEveryStep'>): number {
  return (cfg.resolution > 1 ? 2 * cfg.features : cfg.features) + (cfg.nowEveryStep ? cfg.features : 0);
}

/** The SeedModel configuration of a neural config (3H outputs: m, a, b). */
export function seedConfigOf(cfg: NeuralConfig): SeedModelConfig {
  return {
    ...SEED_DEFAULTS,
    features: stepFeatures(cfg),
    hidden: cfg.hidden,
    numLayers: cfg.layers,
    heads: cfg.heads,
    headHidden: cfg.headHidden,
    horizon: 3 * cfg.horizon,
    dropout: cfg.dropout,
    lastStepSkip: cfg.lastStepSkip === true,
  };
}

/** Check a neural config; returns a one-line problem or null. */
export function neuralConfigProblem(c: NeuralConfig): string | null {
  for (const k of [
    'lookback',
    'resolution',
    'features',
    'hidden',
    'layers',
    'heads',
    'headHidden',
    'horizon',
  ] as const)
    if (!Number.isInteger(c[k]) || c[k] < 1) return `${k}: expected a positive integer, got ${c[k]}`;
  if (c.hidden % 4 !== 0) return `hidden: expected a multiple of 4, got ${c.hidden}`;
  if (c.lookback % c.resolution !== 0)
    return `lookback ${c.lookback} is not a multiple of resolution ${c.resolution}`;
  if ((2 * c.hidden) % c.heads !== 0) return `heads ${c.heads} must divide 2·hidden = ${2 * c.hidden}`;
  if (!(c.dropout >= 0 && c.dropout < 1)) return `dropout: expected a number in [0, 1), got ${c.dropout}`;
  for (const k of ['nowEveryStep', 'lastStepSkip'] as const)
    if (c[k] !== undefined && typeof c[k] !== 'boolean') return `${k}: expected true or false, got ${c[k]}`;
  return null;
}

/** Whether two configs build the same model (an absent flag is false: older saved configs lack them). */
export function sameNeuralConfig(a: NeuralConfig, b: NeuralConfig): boolean {
  const norm = (c: NeuralConfig) => ({
    ...c,
    nowEveryStep: c.nowEveryStep === true,
    lastStepSkip: c.lastStepSkip === true,
  });
  const [x, y] = [norm(a), norm(b)];
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]) as Set<keyof NeuralConfig>;
  for (const k of keys) if (x[k] !== y[k]) return false;
  return true;
}

/**
 * Coarsen windows x (B, T, F) with lengths (B) to out (B, T/r, Fs) and outLengths (B):
 * step g of sample b covers minutes [g·r, (g+1)·r) of its window; its features are the mean over the
 * group's valid minutes, then the group's last minute (r = 1: the minute itself), then, with `now`, the
 * window's last minute (the origin) again in every step. Padded steps stay 0.
 */
export function coarsen(
  B: number,
  T: number,
  F: number,
  r: number,
  x: Float32Array,
  lengths: ArrayLike<number>,
  out: Float32Array,
  outLengths: Int32Array,
  now = false,
): void {
  const Tc = T / r;
  if (r === 1 && !now) {
    out.set(x.subarray(0, B * T * F));
    for (let b = 0; b < B; b++) outLengths[b] = lengths[b];
    return;
  }
  const base = r > 1 ? 2 * F : F;
  const Fs = base + (now ? F : 0);
  out.fill(0, 0, B * Tc * Fs);
  for (let b = 0; b < B; b++) {
    const len = lengths[b];
    const firstValid = T - len; // window row of the first real minute
    outLengths[b] = Math.ceil(len / r);
    const nowRow = x.subarray((b * T + T - 1) * F, (b * T + T) * F);
    for (let g = Tc - outLengths[b]; g < Tc; g++) {
      const r0 = Math.max(g * r, firstValid);
      const r1 = (g + 1) * r;
      const o = (b * Tc + g) * Fs;
      if (r > 1) {
        // mean over the valid minutes of the group
        const inv = 1 / (r1 - r0);
        for (let t = r0; t < r1; t++) {
          const xi = (b * T + t) * F;
          for (let f = 0; f < F; f++) out[o + f] += x[xi + f];
        }
        for (let f = 0; f < F; f++) out[o + f] *= inv;
      }
      // the group's last minute
      out.set(x.subarray((b * T + r1 - 1) * F, (b * T + r1) * F), o + base - F);
      // the origin minute in every step
      if (now) out.set(nowRow, o + base);
    }
  }
}

function softplus(v: number): number {
  return v > 20 ? v : Math.log1p(Math.exp(v));
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Inverse of softplus (for initial biases). */
function softplusInverse(y: number): number {
  return y > 20 ? y : Math.log(Math.expm1(y));
}

/** Quantile head forward: raw (B, 3H) → d50, d10, d90 (B, H) each, in model units. */
export function quantileHead(
  B: number,
  H: number,
  raw: Float32Array,
  d50: Float32Array,
  d10: Float32Array,
  d90: Float32Array,
): void {
  for (let b = 0; b < B; b++) {
    const o = b * 3 * H;
    for (let h = 0; h < H; h++) {
      const m = raw[o + h];
      d50[b * H + h] = m;
      d10[b * H + h] = m - softplus(raw[o + H + h]);
      d90[b * H + h] = m + softplus(raw[o + 2 * H + h]);
    }
  }
}

/** Loss weights of the training objective (all in model units). */
export interface LossWeights {
  /** Huber δ of the p50 term (model units). */
  delta: number;
  /** Weight of the smoothness term mean((Δ50[h+1] − Δ50[h])²). */
  smooth: number;
  /** Weight of the P10 + P90 pinball terms. */
  quantile: number;
}

export interface LossParts {
  loss: number;
  huber: number;
  smooth: number;
  pinball: number;
}

/**
 * The training loss of one shard and its gradient w.r.t. raw (B, 3H) (WRITTEN into draw, times `scale`):
 *   huber_δ(m − y) + λ_s·mean((m[h+1] − m[h])²) + λ_q·(pinball_0.1(y, d10) + pinball_0.9(y, d90)),
 * every mean over B·H (smoothness over B·(H−1)). The pinball terms treat m as a constant
 * (stop-gradient): the median is trained by the Huber term only, the spreads a, b by the pinball terms.
 */
export function quantileLoss(
  B: number,
  H: number,
  raw: Float32Array,
  y: Float32Array,
  w: LossWeights,
  draw: Float32Array,
  scale = 1,
): LossParts {
  const n = B * H;
  const ns = B * Math.max(1, H - 1);
  let huber = 0;
  let smooth = 0;
  let pinball = 0;
  const { delta } = w;
  for (let b = 0; b < B; b++) {
    const o = b * 3 * H;
    for (let h = 0; h < H; h++) {
      const m = raw[o + h];
      const t = y[b * H + h];
      // Huber on the median
      const d = m - t;
      const ad = Math.abs(d);
      huber += ad <= delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
      let gm = (ad <= delta ? d : delta * Math.sign(d)) / n;
      // smoothness: (m[h] − m[h−1])² and (m[h+1] − m[h])²
      if (h + 1 < H) {
        const s = raw[o + h + 1] - m;
        smooth += s * s;
        gm -= (w.smooth * 2 * s) / ns;
      }
      if (h > 0) gm += (w.smooth * 2 * (m - raw[o + h - 1])) / ns;
      draw[o + h] = gm * scale;
      // pinball τ = 0.1 on d10 = m − softplus(a): u = y − d10
      const a = raw[o + H + h];
      const u10 = t - (m - softplus(a));
      pinball += u10 >= 0 ? 0.1 * u10 : -0.9 * u10;
      const g10 = u10 > 0 ? -0.1 : u10 < 0 ? 0.9 : 0.4; // dL/dd10
      draw[o + H + h] = ((w.quantile * g10 * -sigmoid(a)) / n) * scale;
      // pinball τ = 0.9 on d90 = m + softplus(b)
      const bb = raw[o + 2 * H + h];
      const u90 = t - (m + softplus(bb));
      pinball += u90 >= 0 ? 0.9 * u90 : -0.1 * u90;
      const g90 = u90 > 0 ? -0.9 : u90 < 0 ? 0.1 : -0.4;
      draw[o + 2 * H + h] = ((w.quantile * g90 * sigmoid(bb)) / n) * scale;
    }
  }
  huber /= n;
  smooth /= ns;
  pinball /= n;
  return { loss: huber + w.smooth * smooth + w.quantile * pinball, huber, smooth, pinball };
}

/**
 * Initialise a fresh model: PyTorch default init, then the last layer's weights 0, its p50 biases 0
 * (the model starts as persistence) and its spread biases at softplus⁻¹(spread0).
 */
export function initNeural(model: SeedModel, H: number, seed: number, spread0 = 0.5): void {
  let s = seed >>> 0;
  model.initTorchDefault(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
  const e = model.e;
  const w = model.fc2.weight;
  e.f32(w.ptr, w.size).fill(0);
  const bias = e.f32(model.fc2.bias.ptr, 3 * H);
  bias.fill(0, 0, H);
  bias.fill(softplusInverse(spread0), H, 3 * H);
}

/** The α grid of `fitShrink`: 0, 0.05, …, 1. */
export const SHRINK_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * Per-horizon shrinkage toward persistence (post-hoc, on validation samples): for each h, the α in `grid`
 * minimising mean_b |clip(now[b] + α·d50[b, h], 0, cap) − y[b, h]|, with d50 the predicted change and y the
 * actual busy value, both in nodes, (B, H) each. Ties keep the larger α (closer to the model).
 */
export function fitShrink(
  B: number,
  H: number,
  now: ArrayLike<number>,
  d50: ArrayLike<number>,
  y: ArrayLike<number>,
  cap: number,
  grid: readonly number[] = SHRINK_GRID,
): number[] {
  const order = [...grid].sort((a, b) => b - a); // largest α first: a tie keeps it
  const alpha: number[] = [];
  for (let h = 0; h < H; h++) {
    let best = 1;
    let bestErr = Number.POSITIVE_INFINITY;
    for (const a of order) {
      // validation P50 MAE of busy(t) + α·Δ̂_h
      let err = 0;
      for (let b = 0; b < B; b++) err += Math.abs(clip(now[b] + a * d50[b * H + h], cap) - y[b * H + h]);
      if (err < bestErr) {
        bestErr = err;
        best = a;
      }
    }
    alpha.push(best);
  }
  return alpha;
}

/** Check a stored shrinkage vector; returns a one-line problem or null. */
export function shrinkProblem(shrink: unknown, H: number): string | null {
  if (!Array.isArray(shrink) || shrink.length !== H) return `expected ${H} numbers in [0, 1]`;
  for (const [h, a] of shrink.entries())
    if (typeof a !== 'number' || !(a >= 0 && a <= 1))
      return `value ${h} is ${JSON.stringify(a)}, expected a number in [0, 1]`;
  return null;
}

/** What a NeuralForecaster needs besides its weights. */
export interface NeuralMeta {
  name?: string;
  config: NeuralConfig;
  featureSpec: FeatureSpec;
  scaler: StandardScaler;
  target: TargetTransform;
}

/** Samples per forward call at inference. */
export const PREDICT_CHUNK = 256;

/**
 * A trained (or being trained) model as a Forecaster. fit() does nothing: the model is trained by
 * `pcm train` (src/train/trainer.ts); the evaluator only predicts with it.
 */
export class NeuralForecaster implements Forecaster {
  readonly name: string;
  readonly window: { lookback: number; scaler: StandardScaler; featureSpec: FeatureSpec };
  readonly model: SeedModel;
  readonly cfg: NeuralConfig;
  readonly target: TargetTransform;
  /** Per-horizon shrinkage toward persistence (null = none, α = 1 everywhere). Settable: `evaluate --no-shrink`. */
  shrink: Float64Array | null;
  private readonly px: number;
  private readonly coarse: Float32Array;
  private readonly coarseLen: Int32Array;

  constructor(
    meta: NeuralMeta,
    opts: { engine?: Engine; model?: SeedModel; variant?: Variant | 'auto'; chunk?: number } = {},
  ) {
    this.name = meta.name ?? 'neural';
    this.cfg = meta.config;
    this.target = meta.target;
    this.shrink = meta.target.shrink ? Float64Array.from(meta.target.shrink) : null;
    this.window = { lookback: meta.config.lookback, scaler: meta.scaler, featureSpec: meta.featureSpec };
    const chunk = opts.chunk ?? PREDICT_CHUNK;
    const Tc = coarseSteps(this.cfg);
    const Fs = stepFeatures(this.cfg);
    if (opts.model) this.model = opts.model;
    else {
      const e = opts.engine ?? new Engine(opts.variant ?? 'auto');
      this.model = new SeedModel(e, seedConfigOf(this.cfg), chunk, Tc);
    }
    this.px = this.model.e.alloc(this.model.maxB * Tc * Fs, false);
    this.coarse = new Float32Array(this.model.maxB * Tc * Fs);
    this.coarseLen = new Int32Array(this.model.maxB);
  }

  fit(_train: TrainData): void {}

  /** Raw model outputs (B, 3H) for windows x (B, T, F) with lengths (eval mode). */
  raw(B: number, x: Float32Array, lengths: ArrayLike<number>): Float32Array {
    const { cfg, model } = this;
    const T = cfg.lookback;
    const F = cfg.features;
    const Tc = coarseSteps(cfg);
    const Fs = stepFeatures(cfg);
    const H3 = 3 * cfg.horizon;
    const out = new Float32Array(B * H3);
    for (let i = 0; i < B; i += model.maxB) {
      const n = Math.min(model.maxB, B - i);
      const len = Int32Array.from({ length: n }, (_, k) => Math.max(1, Math.min(T, lengths[i + k])));
      coarsen(
        n,
        T,
        F,
        cfg.resolution,
        x.subarray(i * T * F, (i + n) * T * F),
        len,
        this.coarse,
        this.coarseLen,
        cfg.nowEveryStep,
      );
      model.e.f32(this.px, n * Tc * Fs).set(this.coarse.subarray(0, n * Tc * Fs));
      const p = model.predict(n, Tc, this.px, this.coarseLen.subarray(0, n));
      out.set(model.e.f32(p, n * H3), i * H3);
    }
    return out;
  }

  predict(batch: Batch): Forecast {
    const { cfg } = this;
    const H = cfg.horizon;
    const { B, T, F } = batch;
    if (T !== cfg.lookback || F !== cfg.features)
      throw new Error(
        `neural: batch windows (T=${T}, F=${F}) do not match the model (${cfg.lookback}, ${cfg.features})`,
      );
    if (batch.H !== H) throw new Error(`neural: batch horizon ${batch.H} but the model predicts ${H}`);
    const raw = this.raw(B, batch.x, batch.lengths);
    const d50 = new Float32Array(B * H);
    const d10 = new Float32Array(B * H);
    const d90 = new Float32Array(B * H);
    quantileHead(B, H, raw, d50, d10, d90);
    const cap = batch.data.capacity;
    const s = this.target.scale;
    const busy = batch.data.busy;
    const alpha = this.shrink;
    for (let b = 0; b < B; b++) {
      const now = busy[batch.origins[b]];
      for (let h = 0; h < H; h++) {
        const i = b * H + h;
        // shrink the median change by α_h and move the band with it: shift = (α_h − 1)·Δ50 (exactly 0 at α = 1)
        const shift = alpha ? (alpha[h] - 1) * d50[i] : 0;
        d50[i] = clip(now + (d50[i] + shift) * s, cap);
        d10[i] = clip(now + (d10[i] + shift) * s, cap);
        d90[i] = clip(now + (d90[i] + shift) * s, cap);
      }
    }
    return { p50: d50, p10: d10, p90: d90 };
  }
}

function clip(v: number, cap: number): number {
  return Math.min(Math.max(v, 0), cap);
}
