import { loadNeural, writeShrink } from '../model/checkpoint.js';
import { makeBatch, type PreparedData } from '../model/dataset.js';
import {
  fitShrink,
  type LossWeights,
  type NeuralForecaster,
  quantileHead,
  quantileLoss,
} from '../model/neural.js';

/**
 * What the trainer measures on the validation split: each epoch's loss, P50 MAE and P10–P90 coverage
 * (`validate`), the untrained model's as the bar to beat, and once at the end the per-horizon shrinkage
 * toward persistence fitted on the best checkpoint (`shrinkOnValidation`, `fitShrinkage`).
 */

/** One epoch of training as history.json records it. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss: number;
  /** Mean absolute error of p50 over all horizons on the validation samples, nodes. */
  val_mae: number;
  /** Share of validation targets inside P10..P90. */
  val_coverage: number;
  /** Persistence's MAE on the same validation samples (the bar to beat), nodes. */
  val_mae_persistence: number;
  samples_per_s: number;
  epoch_seconds: number;
  grad_norm: number;
  improved: boolean;
}

/** Validation of the untrained model ("epoch 0": p50 = persistence by construction), the bar every epoch must beat. */
export interface UntrainedRecord {
  val_loss: number;
  val_mae: number;
  val_coverage: number;
  val_mae_persistence: number;
}

/** The per-horizon shrinkage toward persistence fitted on validation after training (see fitShrink). */
export interface ShrinkReport {
  /** α_h, h = 1..H. */
  alpha: number[];
  /** Validation origins it was fitted on. */
  samples: number;
  /** Validation P50 MAE over all horizons (nodes), before (α = 1) and after, and persistence's. */
  val_mae_before: number;
  val_mae_after: number;
  val_mae_persistence: number;
  /** Share of validation targets inside P10..P90, before and after (the band moves with the median). */
  val_coverage_before: number;
  val_coverage_after: number;
}

/** Validation loss, p50 MAE (nodes) and P10–P90 coverage of a model over origins. */
export function validate(
  f: NeuralForecaster,
  p: PreparedData,
  origins: Int32Array,
  w: LossWeights,
  chunk = 512,
): { loss: number; mae: number; coverage: number; persistenceMae: number } {
  const { cfg, target } = f;
  const H = cfg.horizon;
  let loss = 0;
  let abs = 0;
  let inside = 0;
  let absPersist = 0;
  let n = 0;
  for (let i = 0; i < origins.length; i += chunk) {
    const o = origins.subarray(i, Math.min(i + chunk, origins.length));
    const batch = makeBatch(p.data, o, { lookback: cfg.lookback, x: p.x });
    const B = batch.B;
    const raw = f.raw(B, batch.x, batch.lengths);
    const y = new Float32Array(B * H);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) y[b * H + h] = (batch.y[b * H + h] - p.data.busy[o[b]]) / target.scale;
    loss += quantileLoss(B, H, raw, y, w, new Float32Array(B * 3 * H)).loss * B;
    const d50 = new Float32Array(B * H);
    const d10 = new Float32Array(B * H);
    const d90 = new Float32Array(B * H);
    quantileHead(B, H, raw, d50, d10, d90);
    for (let k = 0; k < B * H; k++) {
      abs += Math.abs(d50[k] - y[k]) * target.scale;
      absPersist += Math.abs(y[k]) * target.scale;
      if (y[k] >= d10[k] && y[k] <= d90[k]) inside++;
    }
    n += B;
  }
  return {
    loss: loss / Math.max(1, n),
    mae: abs / Math.max(1, n * H),
    coverage: inside / Math.max(1, n * H),
    persistenceMae: absPersist / Math.max(1, n * H),
  };
}

/** Validate the untrained model: "epoch 0", where P50 = persistence by construction. */
export function validateUntrained(
  f: NeuralForecaster,
  p: PreparedData,
  origins: Int32Array,
  w: LossWeights,
): UntrainedRecord {
  const v0 = validate(f, p, origins, w);
  return {
    val_loss: v0.loss,
    val_mae: v0.mae,
    val_coverage: v0.coverage,
    val_mae_persistence: v0.persistenceMae,
  };
}

/**
 * Fit the per-horizon shrinkage toward persistence of a trained model on validation origins (deterministic:
 * eval-mode forward, fixed grid) and report MAE and P10–P90 coverage before and after.
 */
function shrinkOnValidation(
  f: NeuralForecaster,
  p: PreparedData,
  origins: Int32Array,
  chunk = 512,
): ShrinkReport {
  const { cfg, target } = f;
  const H = cfg.horizon;
  const N = origins.length;
  const s = target.scale;
  const cap = p.data.capacity;
  // per sample: busy now, predicted changes (nodes), actual busy (N, H)
  const now = new Float64Array(N);
  const c50 = new Float64Array(N * H);
  const c10 = new Float64Array(N * H);
  const c90 = new Float64Array(N * H);
  const y = new Float64Array(N * H);
  for (let i = 0; i < N; i += chunk) {
    const o = origins.subarray(i, Math.min(i + chunk, N));
    const batch = makeBatch(p.data, o, { lookback: cfg.lookback, x: p.x });
    const B = batch.B;
    const raw = f.raw(B, batch.x, batch.lengths);
    const d50 = new Float32Array(B * H);
    const d10 = new Float32Array(B * H);
    const d90 = new Float32Array(B * H);
    quantileHead(B, H, raw, d50, d10, d90);
    for (let b = 0; b < B; b++) {
      now[i + b] = p.data.busy[o[b]];
      for (let h = 0; h < H; h++) {
        const k = b * H + h;
        const j = (i + b) * H + h;
        c50[j] = d50[k] * s;
        c10[j] = d10[k] * s;
        c90[j] = d90[k] * s;
        y[j] = batch.y[k];
      }
    }
  }
  const alpha = fitShrink(N, H, now, c50, y, cap);
  const clip = (v: number) => Math.min(Math.max(v, 0), cap);
  // MAE and coverage of the predictions with shrinkage a (the band shifted by (α − 1)·Δ50, as in predict)
  const score = (a: number[] | null) => {
    let abs = 0;
    let inside = 0;
    let absPersist = 0;
    for (let b = 0; b < N; b++)
      for (let h = 0; h < H; h++) {
        const j = b * H + h;
        const shift = a ? (a[h] - 1) * c50[j] : 0;
        abs += Math.abs(clip(now[b] + c50[j] + shift) - y[j]);
        absPersist += Math.abs(now[b] - y[j]);
        const lo = clip(now[b] + c10[j] + shift);
        const hi = clip(now[b] + c90[j] + shift);
        if (y[j] >= lo && y[j] <= hi) inside++;
      }
    const n = Math.max(1, N * H);
    return { mae: abs / n, coverage: inside / n, persistence: absPersist / n };
  };
  const before = score(null);
  const after = score(alpha);
  return {
    alpha,
    samples: N,
    val_mae_before: before.mae,
    val_mae_after: after.mae,
    val_mae_persistence: before.persistence,
    val_coverage_before: before.coverage,
    val_coverage_after: after.coverage,
  };
}

/** Fit the shrinkage on the best model in `dir` and store it there; returns what was fitted. */
export function fitShrinkage(dir: string, p: PreparedData, origins: Int32Array): ShrinkReport {
  const shrink = shrinkOnValidation(loadNeural(dir), p, origins);
  writeShrink(dir, shrink.alpha, { ...shrink });
  return shrink;
}
