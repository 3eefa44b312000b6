import type { Batch, Dataset } from './dataset.js';
import type { FeatureSpec } from './features.js';
import type { StandardScaler } from './scaler.js';

/**
 * The model contract: baselines (model/baselines/) and the trained network (model/neural.ts) are all a
 * `Forecaster`, so the evaluator, the power replay and the service run them the same way.
 * Point forecasts and bands are busy nodes, (B, H) row-major, clipped to [0, capacity].
 */
export interface Forecast {
  p50: Float32Array;
  p10?: Float32Array;
  p90?: Float32Array;
}

/** What fit() sees: the data and the origins of its training and validation samples. */
export interface TrainData {
  data: Dataset;
  train: Int32Array;
  valid: Int32Array;
}

/**
 * The input windows a forecaster reads from `batch.x`: (B, T, F) with T = `lookback`, from features built
 * with `featureSpec` (time zone, holidays, history lead; names must match this build) and scaled by `scaler`.
 */
export interface ForecasterWindow {
  lookback: number;
  scaler?: StandardScaler;
  featureSpec?: FeatureSpec;
}

export interface Forecaster {
  readonly name: string;
  /** Set when predict() reads `batch.x`; series baselines leave it unset and read `batch.data` by origin. */
  readonly window?: ForecasterWindow;
  fit(train: TrainData): void | Promise<void>;
  predict(batch: Batch): Forecast | Promise<Forecast>;
}
