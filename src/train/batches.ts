import { type Dataset, makeBatch, type PreparedData } from '../model/dataset.js';
import { coarsen, type NeuralConfig, neuralConfigProblem, type TargetTransform } from '../model/neural.js';
import { UserError } from '../util/errors.js';
import type { ModelSection } from './config.js';

/**
 * From the prepared data to what a training step reads: the network's config from the `Model` section,
 * the target scale (model units), and a batch's coarsened windows and targets.
 */

export function neuralConfigFrom(m: ModelSection, features: number): NeuralConfig {
  const cfg: NeuralConfig = {
    lookback: m.LookbackMinutes,
    resolution: m.ResolutionMinutes,
    features,
    hidden: m.Hidden,
    layers: m.Layers,
    heads: m.Heads,
    headHidden: m.HeadHidden,
    dropout: m.Dropout,
    horizon: m.Horizon,
    nowEveryStep: m.NowEveryStep,
    lastStepSkip: m.LastStepSkip,
  };
  const p = neuralConfigProblem(cfg);
  if (p) throw new UserError(`Model: ${p}`);
  return cfg;
}

/** RMS of the H-minute change busy(t+H) − busy(t) over the training origins (nodes, at least 1). */
export function targetScale(data: Dataset, origins: Int32Array): number {
  const H = data.horizon;
  let s = 0;
  for (const t of origins) {
    const d = data.busy[t + H] - data.busy[t];
    s += d * d;
  }
  return Math.max(1, Math.sqrt(s / Math.max(1, origins.length)));
}

/**
 * Fill coarsened windows and model-unit targets of `origins` into x (B, Tc, Fs), y (B, H), lengths (B).
 */
export function fillWindows(
  p: PreparedData,
  cfg: NeuralConfig,
  target: TargetTransform,
  origins: Int32Array,
  x: Float32Array,
  y: Float32Array,
  lengths: Int32Array,
): void {
  const batch = makeBatch(p.data, origins, { lookback: cfg.lookback, x: p.x });
  coarsen(batch.B, batch.T, batch.F, cfg.resolution, batch.x, batch.lengths, x, lengths, cfg.nowEveryStep);
  const H = cfg.horizon;
  const busy = p.data.busy;
  for (let b = 0; b < batch.B; b++) {
    const now = busy[origins[b]];
    for (let h = 0; h < H; h++) y[b * H + h] = (batch.y[b * H + h] - now) / target.scale;
  }
}
