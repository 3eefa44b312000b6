import type { Timeline } from '../timeline/columns.js';
import { isoMinute } from '../timeline/csv.js';
import { InputError } from '../util/errors.js';
import { buildFeatures, type FeatureMatrix, type FeatureOptions } from './features.js';
import { StandardScaler } from './scaler.js';

/**
 * Forecast windows over a minute timeline.
 *
 * A sample is identified by its origin t, the row of "now": its history is rows t-L+1..t (fewer near the
 * start of the data: left-padded with zeros, valid length min(L, t+1)), its targets are busy_nodes at rows
 * t+1..t+H. Splits are by time: rows [0, validStart) train, [validStart, testStart) validation,
 * [testStart, end) test; a sample belongs to the split that holds all of its targets, so no target is
 * ever seen by two splits. History may reach back into an earlier split (inputs only, as in real use);
 * `gap` additionally drops the first `gap` origins of the validation and test splits (gap = L+H keeps whole
 * windows apart). Nothing is shuffled here; a trainer may shuffle the train origins itself.
 */

export interface Dataset {
  timeline: Timeline;
  /** Features as built (unscaled); a model scales them with its own scaler. */
  features: FeatureMatrix;
  /** Target series: busy nodes per row. */
  busy: Float64Array;
  capacity: number;
  /** Forecast steps H (targets t+1..t+H). */
  horizon: number;
}

export function makeDataset(timeline: Timeline, features: FeatureMatrix, horizon = 30): Dataset {
  if (features.minutes !== timeline.minutes) {
    throw new Error(`dataset: ${features.minutes} feature rows for ${timeline.minutes} timeline minutes`);
  }
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new InputError(`horizon: expected a positive integer, got ${horizon}`);
  return { timeline, features, busy: timeline.columns.busy_nodes, capacity: timeline.capacity, horizon };
}

/** Row boundaries of a time-ordered split. */
export interface SplitBounds {
  /** First validation row (= end of training rows). */
  validStart: number;
  /** First test row (= end of validation rows). */
  testStart: number;
  /** Rows in the data (end of the test rows). */
  end: number;
}

export interface SplitOptions {
  /** Last fraction of the time used for test (default 0.2); ignored when testFrom is given. */
  testFraction?: number;
  /** Test starts at this epoch second (rounded up to a row). */
  testFrom?: number;
  /** Fraction of all minutes, right before the test, used for validation (default 0.1). */
  validFraction?: number;
}

/** Where train / validation / test start, from fractions or a test start date. */
export function splitBounds(tl: Pick<Timeline, 'start' | 'minutes'>, opts: SplitOptions = {}): SplitBounds {
  const n = tl.minutes;
  const validFraction = opts.validFraction ?? 0.1;
  if (!(validFraction >= 0 && validFraction < 1)) {
    throw new InputError(`--valid-fraction: expected a number in [0, 1), got ${validFraction}`);
  }
  let testStart: number;
  if (opts.testFrom !== undefined) {
    testStart = Math.ceil((opts.testFrom - tl.start) / 60);
    if (testStart <= 0 || testStart >= n) {
      const [at, from, to] = [opts.testFrom, tl.start, tl.start + 60 * n].map(isoMinute);
      throw new InputError(`--from: ${at} is not inside the timeline (${from} .. ${to})`);
    }
  } else {
    const f = opts.testFraction ?? 0.2;
    if (!(f > 0 && f < 1)) throw new InputError(`--test-fraction: expected a number in (0, 1), got ${f}`);
    testStart = n - Math.round(f * n);
  }
  const validStart = Math.max(0, testStart - Math.round(validFraction * n));
  return { validStart, testStart, end: n };
}

export interface OriginOptions {
  /** Keep every stride-th origin (default 1 = every minute). */
  stride?: number;
  /** Skip this many origins after the segment start (leakage guard; L+H separates whole windows). */
  gap?: number;
  /** Fewest valid history rows a sample needs (default 1: the origin row itself). */
  minHistory?: number;
}

/**
 * Origins of the samples whose targets t+1..t+H all lie in rows [from, to):
 * t from max(from - 1 + gap, minHistory - 1) to to - 1 - H, every stride-th.
 */
export function originsIn(from: number, to: number, horizon: number, opts: OriginOptions = {}): Int32Array {
  const stride = opts.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1)
    throw new InputError(`stride: expected a positive integer, got ${stride}`);
  const first = Math.max(from - 1 + (opts.gap ?? 0), (opts.minHistory ?? 1) - 1);
  const last = to - 1 - horizon;
  if (last < first) return new Int32Array(0);
  const out = new Int32Array(Math.floor((last - first) / stride) + 1);
  for (let i = 0; i < out.length; i++) out[i] = first + i * stride;
  return out;
}

export interface Split {
  bounds: SplitBounds;
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

/** The three origin sets of a split (train strided, validation and test every `evalStride` minutes). */
export function splitOrigins(
  bounds: SplitBounds,
  horizon: number,
  opts: { trainStride?: number; evalStride?: number; gap?: number; minHistory?: number } = {},
): Split {
  const gap = opts.gap ?? 0;
  const minHistory = opts.minHistory;
  return {
    bounds,
    train: originsIn(0, bounds.validStart, horizon, { stride: opts.trainStride, minHistory }),
    valid: originsIn(bounds.validStart, bounds.testStart, horizon, {
      stride: opts.evalStride,
      gap,
      minHistory,
    }),
    test: originsIn(bounds.testStart, bounds.end, horizon, { stride: opts.evalStride, gap, minHistory }),
  };
}

/**
 * Rolling-origin folds: the test rows [testStart, end) cut into `folds` successive parts; fold k trains on
 * everything before it (validation = the last `validMinutes` of that) and tests on its part.
 */
export function backtestBounds(bounds: SplitBounds, folds: number, validMinutes: number): SplitBounds[] {
  if (!Number.isInteger(folds) || folds < 1)
    throw new InputError(`--backtest: expected a positive integer, got ${folds}`);
  const span = bounds.end - bounds.testStart;
  if (span < folds) throw new InputError(`--backtest: ${folds} folds do not fit in ${span} test minutes`);
  const out: SplitBounds[] = [];
  for (let k = 0; k < folds; k++) {
    const testStart = bounds.testStart + Math.floor((k * span) / folds);
    const end = bounds.testStart + Math.floor(((k + 1) * span) / folds);
    out.push({ validStart: Math.max(0, testStart - validMinutes), testStart, end });
  }
  return out;
}

/** Fit a standard scaler on the training rows [0, validStart) of a feature matrix. */
export function fitScaler(features: FeatureMatrix, bounds: SplitBounds): StandardScaler {
  return StandardScaler.fit(features.data, features.F, features.spec.names, {
    from: 0,
    to: bounds.validStart,
  });
}

/** One batch: what every forecaster's predict() receives. */
export interface Batch {
  /** Samples. */
  B: number;
  /** History steps per sample (0 when the window was not built). */
  T: number;
  /** Features per step. */
  F: number;
  /** Forecast steps. */
  H: number;
  /** (B, T, F) row-major history, left-padded with zeros when a sample has fewer than T valid rows. */
  x: Float32Array;
  /** (B) valid history rows per sample, in 1..T (the last `lengths[b]` steps of sample b are real). */
  lengths: Int32Array;
  /** (B, H) targets: busy nodes at t+1..t+H (NaN beyond the end of the data). */
  y: Float32Array;
  /** (B) origin row of each sample. */
  origins: Int32Array;
  /** The data the origins index (series-based forecasters read history from here). */
  data: Dataset;
}

export interface BatchOptions {
  /** History length T (default 240). */
  lookback?: number;
  /** Build x from this (rows, F) matrix, e.g. the scaled features (default: data.features.data). */
  x?: Float32Array;
  /** Build x at all (default true); series-based forecasters skip it. */
  withX?: boolean;
}

/** Gather the samples at the given origins into a batch. */
export function makeBatch(data: Dataset, origins: Int32Array, opts: BatchOptions = {}): Batch {
  const B = origins.length;
  const H = data.horizon;
  const F = data.features.F;
  const withX = opts.withX ?? true;
  const T = withX ? (opts.lookback ?? 240) : 0;
  const src = opts.x ?? data.features.data;
  if (src.length !== data.features.minutes * F)
    throw new Error(`batch: x source has ${src.length} values, expected ${data.features.minutes * F}`);
  const x = new Float32Array(B * T * F);
  const lengths = new Int32Array(B);
  const y = new Float32Array(B * H);
  const n = data.busy.length;
  for (let b = 0; b < B; b++) {
    const t = origins[b];
    if (t < 0 || t >= n) throw new Error(`batch: origin ${t} outside 0..${n - 1}`);
    // valid history rows t-len+1..t, copied to the end of the sample's T rows
    const len = Math.min(T, t + 1);
    lengths[b] = withX ? len : Math.min(opts.lookback ?? 240, t + 1);
    if (len > 0) x.set(src.subarray((t - len + 1) * F, (t + 1) * F), (b * T + (T - len)) * F);
    // targets t+1..t+H
    for (let h = 1; h <= H; h++) y[b * H + h - 1] = t + h < n ? data.busy[t + h] : Number.NaN;
  }
  return { B, T, F, H, x, lengths, y, origins, data };
}

/** Consecutive batches of at most batchSize samples over origins. */
export function* batches(
  data: Dataset,
  origins: Int32Array,
  batchSize: number,
  opts: BatchOptions = {},
): Generator<Batch> {
  for (let i = 0; i < origins.length; i += batchSize) {
    yield makeBatch(data, origins.subarray(i, Math.min(i + batchSize, origins.length)), opts);
  }
}

/** Everything a trainer needs from one timeline, built the same way the evaluator builds it. */
export interface PreparedData {
  data: Dataset;
  split: Split;
  /** Fitted on the training rows [0, validStart) only. */
  scaler: StandardScaler;
  /** The features scaled with `scaler`, (rows, F): pass as `x` to makeBatch. */
  x: Float32Array;
}

export interface PrepareOptions {
  features?: FeatureOptions;
  /** Forecast steps H (default 30; also the default history lead of the features). */
  horizon?: number;
  split?: SplitOptions;
  trainStride?: number;
  evalStride?: number;
  gap?: number;
  minHistory?: number;
}

/** Features -> time-ordered split -> scaler fitted on train -> scaled copy of the features. */
export function prepareData(tl: Timeline, opts: PrepareOptions = {}): PreparedData {
  const horizon = opts.horizon ?? 30;
  const features = buildFeatures(tl, { historyLead: horizon, ...opts.features });
  const data = makeDataset(tl, features, horizon);
  const bounds = splitBounds(tl, opts.split);
  const split = splitOrigins(bounds, horizon, opts);
  const scaler = fitScaler(features, bounds);
  return { data, split, scaler, x: scaler.transform(features.data) };
}
