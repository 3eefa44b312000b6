import { BASELINE_NAMES } from '../model/baselines/index.js';
import {
  backtestBounds,
  type Dataset,
  makeBatch,
  type SplitBounds,
  type SplitOptions,
  splitBounds,
  splitOrigins,
} from '../model/dataset.js';
import { buildFeatures } from '../model/features.js';
import type { Forecaster } from '../model/forecaster.js';
import { openForecaster } from '../model/open.js';
import { UserError } from '../util/errors.js';
import { averageOverHorizons, type HorizonMetrics, type MetricName, MetricsAccumulator } from './metrics.js';

/**
 * Evaluate forecasters on the test part of a dataset, optionally as a rolling-origin backtest:
 * the test period is cut into N successive folds, and before each fold every model is built fresh and fit on
 * all data before it (validation = the last `validFraction` of the data before the fold). Metrics are pooled
 * over all test samples of all folds; per-fold metrics are kept too.
 */

/** Makes a fresh forecaster (called once per fold). A loaded model may return the same instance. */
export type ForecasterFactory = () => Forecaster | Promise<Forecaster>;

export interface EvaluateOptions {
  split?: SplitOptions;
  /** Rolling-origin folds over the test period (default 1 = a single train/test split). */
  backtest?: number;
  /** Origins dropped at the start of validation and test (leakage guard; L+H separates whole windows). */
  gap?: number;
  /** Keep every n-th training origin (default 1). */
  trainStride?: number;
  /** Keep every n-th validation/test origin (default 1 = every minute). */
  evalStride?: number;
  /** Samples per predict() call (default 2048). */
  batchSize?: number;
  /** Horizon (1..H) recorded for the sample-week trace (default H). */
  sampleHorizon?: number;
  /** Minutes of the sample trace, the last ones of the test period (default one week). */
  sampleMinutes?: number;
  /** Called after each predicted batch with samples done / total, and while fitting. */
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface ModelResult {
  name: string;
  metrics: HorizonMetrics;
  mean: Record<MetricName, number>;
  /** Per fold (only with a backtest of more than one fold). */
  folds: HorizonMetrics[];
  fitSeconds: number;
  predictSeconds: number;
}

/** Predicted vs actual at one horizon over the last week of the test, indexed by target minute. */
export interface SampleTrace {
  horizon: number;
  /** Epoch seconds of the first target minute. */
  start: number;
  actual: Float32Array;
  /** Per model: p50/p10/p90 for the target minute (NaN where no forecast was made). */
  models: Record<string, { p50: Float32Array; p10?: Float32Array; p90?: Float32Array }>;
}

export interface EvalResult {
  horizons: number[];
  models: Record<string, ModelResult>;
  /** Model names in the order given. */
  order: string[];
  folds: SplitBounds[];
  timeline: { start: number; minutes: number; capacity: number };
  testSamples: number;
  sample: SampleTrace | null;
  /** Things the user should know about the result (e.g. no validation samples, so no bands). */
  warnings: string[];
}

/** Factories of the baselines, in the registry's order (persistence, seasonal_day, seasonal_week, ridge). */
export function baselineFactories(): ForecasterFactory[] {
  return BASELINE_NAMES.map((baseline) => () => openForecaster({ baseline }));
}

/** Evaluate the given forecasters; defaults to the four baselines. */
export async function evaluate(
  data: Dataset,
  factories: ForecasterFactory[] = baselineFactories(),
  opts: EvaluateOptions = {},
): Promise<EvalResult> {
  const H = data.horizon;
  const n = data.busy.length;
  const base = splitBounds(data.timeline, opts.split);
  const validMinutes = base.testStart - base.validStart;
  const folds = backtestBounds(base, opts.backtest ?? 1, validMinutes);
  const batchSize = opts.batchSize ?? 2048;
  const sampleH = opts.sampleHorizon ?? H;
  if (sampleH < 1 || sampleH > H) throw new UserError(`sample horizon: expected 1..${H}, got ${sampleH}`);
  const sampleLen = Math.min(opts.sampleMinutes ?? 7 * 1440, n - base.testStart);
  const sampleStart = n - sampleLen;

  const splits = folds.map((b) =>
    splitOrigins(b, H, { trainStride: opts.trainStride, evalStride: opts.evalStride, gap: opts.gap }),
  );
  const testSamples = splits.reduce((s, sp) => s + sp.test.length, 0);
  if (testSamples === 0)
    throw new UserError(
      `evaluate: no test samples (the test period is shorter than the ${H}-minute horizon)`,
    );
  const warnings: string[] = [];
  for (const [k, sp] of splits.entries()) {
    if (sp.valid.length === 0) {
      warnings.push(
        `fold ${k + 1}: no validation samples (validation shorter than the horizon): no P10-P90 bands, ridge penalty not tuned`,
      );
    }
    if (sp.train.length === 0)
      throw new UserError(`evaluate: fold ${k + 1} has no training samples; use a smaller test part`);
  }

  const results = new Map<string, ModelResult>();
  const pooled = new Map<string, MetricsAccumulator>();
  const order: string[] = [];
  const sample: SampleTrace = {
    horizon: sampleH,
    start: data.timeline.start + 60 * sampleStart,
    actual: Float32Array.from(data.busy.subarray(sampleStart, n)),
    models: {},
  };
  const scaledCache = new Map<string, Float32Array>();
  const total = testSamples * factories.length;
  let done = 0;

  for (const [k, sp] of splits.entries()) {
    const names = new Set<string>();
    for (const factory of factories) {
      const model = await factory();
      if (names.has(model.name)) throw new UserError(`evaluate: two models are named '${model.name}'`);
      names.add(model.name);
      let r = results.get(model.name);
      if (!r) {
        r = {
          name: model.name,
          metrics: emptyMetrics(),
          mean: {} as Record<MetricName, number>,
          folds: [],
          fitSeconds: 0,
          predictSeconds: 0,
        };
        results.set(model.name, r);
        pooled.set(model.name, new MetricsAccumulator(H));
        order.push(model.name);
      }
      opts.onProgress?.(done, total, `fit ${model.name} (fold ${k + 1}/${splits.length})`);
      const t0 = performance.now();
      await model.fit({ data, train: sp.train, valid: sp.valid });
      const t1 = performance.now();
      const x = windowSource(model, data, scaledCache);
      const acc = new MetricsAccumulator(H);
      for (let i = 0; i < sp.test.length; i += batchSize) {
        const origins = sp.test.subarray(i, Math.min(i + batchSize, sp.test.length));
        const batch = makeBatch(
          data,
          origins,
          model.window ? { lookback: model.window.lookback, x } : { withX: false },
        );
        const f = await model.predict(batch);
        acc.add(batch.y, f.p50, f.p10, f.p90);
        pooled.get(model.name)!.add(batch.y, f.p50, f.p10, f.p90);
        recordSample(sample, model.name, origins, f, H, sampleH, sampleStart, sampleLen);
        done += origins.length;
        opts.onProgress?.(done, total, `predict ${model.name} (fold ${k + 1}/${splits.length})`);
      }
      r.fitSeconds += (t1 - t0) / 1000;
      r.predictSeconds += (performance.now() - t1) / 1000;
      if (splits.length > 1) r.folds.push(acc.result());
    }
  }
  const models: Record<string, ModelResult> = {};
  for (const name of order) {
    const r = results.get(name)!;
    r.metrics = pooled.get(name)!.result();
    r.mean = averageOverHorizons(r.metrics);
    models[name] = r;
  }
  return {
    horizons: Array.from({ length: H }, (_, i) => i + 1),
    models,
    order,
    folds,
    timeline: { start: data.timeline.start, minutes: n, capacity: data.capacity },
    testSamples,
    sample: sampleLen > 0 ? sample : null,
    warnings,
  };
}

function emptyMetrics(): HorizonMetrics {
  return { n: [], mae: [], rmse: [], mape: [], r2: [], coverage_p10_p90: [], interval_width: [] };
}

/**
 * The (rows, F) matrix a window forecaster reads: features built with its spec (the dataset's when they
 * agree), scaled with its scaler; cached per spec and scaler.
 */
function windowSource(
  model: Forecaster,
  data: Dataset,
  cache: Map<string, Float32Array>,
): Float32Array | undefined {
  const w = model.window;
  if (!w) return undefined;
  const have = data.features.spec;
  const want = w.featureSpec ?? have;
  if (want.names.join(',') !== have.names.join(',')) {
    throw new UserError(
      `model ${model.name}: trained on features [${want.names.join(', ')}] but this build makes [${have.names.join(', ')}]`,
    );
  }
  const same =
    want.timeZone === have.timeZone &&
    want.holidayCountry === have.holidayCountry &&
    want.historyLead === have.historyLead;
  const key = JSON.stringify([
    want.timeZone,
    want.holidayCountry,
    want.historyLead,
    w.scaler?.toJSON() ?? null,
  ]);
  let x = cache.get(key);
  if (!x) {
    const raw = same ? data.features.data : buildFeatures(data.timeline, want).data;
    x = w.scaler ? w.scaler.transform(raw) : raw;
    cache.set(key, x);
  }
  return x;
}

function recordSample(
  s: SampleTrace,
  name: string,
  origins: Int32Array,
  f: { p50: Float32Array; p10?: Float32Array; p90?: Float32Array },
  H: number,
  h: number,
  sampleStart: number,
  sampleLen: number,
): void {
  let m = s.models[name];
  for (let b = 0; b < origins.length; b++) {
    const row = origins[b] + h - sampleStart;
    if (row < 0 || row >= sampleLen) continue;
    if (!m) {
      const nan = () => new Float32Array(sampleLen).fill(Number.NaN);
      m = { p50: nan(), p10: f.p10 ? nan() : undefined, p90: f.p90 ? nan() : undefined };
      s.models[name] = m;
    }
    const i = b * H + h - 1;
    m.p50[row] = f.p50[i];
    if (m.p10 && f.p10) m.p10[row] = f.p10[i];
    if (m.p90 && f.p90) m.p90[row] = f.p90[i];
  }
}
