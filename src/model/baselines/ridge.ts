import { UserError } from '../../util/errors.js';
import type { Batch, Dataset } from '../dataset.js';
import {
  DAY_MINUTES,
  type FeatureMatrix,
  type FeatureSpec,
  featureIndex,
  WEEK_MINUTES,
} from '../features.js';
import type { Forecast, Forecaster, TrainData } from '../forecaster.js';
import { clip, ResidualBand, residuals } from './band.js';
import { type Linear, mseFromMoments, RidgeMoments, ridgeFromMoments } from './ridge-moments.js';

/** The ridge baseline: its design columns and the forecaster; moment sums and solves in ridge-moments.ts. */

/** Lags (minutes before t) of busy nodes used by the ridge. */
const RIDGE_LAGS = [0, 1, 2, 5, 10, 15, 30, 60, 120, 240];
/** Rolling means of busy nodes over the last k minutes. */
const RIDGE_MEANS = [30, 60, 240];
/** Timeline features (see features.ts) taken as they are at t: known future, queue, running stats, calendar. */
const RIDGE_COVARIATES = [
  'queued_nodes',
  'ending_5m_nodes',
  'ending_10m_nodes',
  'ending_30m_nodes',
  'ending_60m_nodes',
  'ending_240m_nodes',
  'age_lt5m_nodes',
  'age_5_30m_nodes',
  'age_30_120m_nodes',
  'age_ge120m_nodes',
  'expected_end_30m_nodes',
  'running_jobs',
  'queued_jobs',
  'mean_nodes_running',
  'mean_nodes_queued',
  'mean_elapsed_running_h',
  'mean_limit_running_h',
  'p90_limit_running_h',
  'submitted_last_min',
  'started_last_min',
  'ended_last_min',
  'hour_sin',
  'hour_cos',
  'weekday_sin',
  'weekday_cos',
  'holiday',
];
/** Per-horizon columns: busy at the target minute one day / one week earlier (+ availability flags). */
const RIDGE_SEASONAL = ['busy_day_before_target', 'day_avail', 'busy_week_before_target', 'week_avail'];
const RIDGE_LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

export interface RidgeOptions {
  /** Ridge penalties tried (on standardised columns, per sample); the best on validation wins per horizon. */
  lambdas?: number[];
  /** Use at most this many training (and validation) origins for the moments, evenly thinned; default 60,000. */
  maxTrainRows?: number;
  /** Refit on train + validation with the chosen penalty (default true). */
  refitOnValid?: boolean;
}

/**
 * Ridge regression per horizon h on lags, rolling means, known-future/queue/running columns and calendar
 * at the origin, plus busy at the target minute a day and a week earlier. Target: the change
 * (busy(t+h) - busy(t)) / capacity, so the penalty shrinks towards persistence. Penalty per horizon chosen
 * on validation; band from validation residuals; then (by default) refit on train + validation.
 */
export class Ridge implements Forecaster {
  readonly name = 'ridge';
  readonly lambdas: number[];
  readonly maxTrainRows: number;
  readonly refitOnValid: boolean;
  /** Chosen penalty per horizon. */
  lambda: Float64Array = new Float64Array(0);
  models: Linear[] = [];
  band: ResidualBand | null = null;
  /** Names of the design columns, common then per-horizon. */
  readonly columns: string[] = [
    ...RIDGE_LAGS.map((k) => `busy_lag_${k}`),
    ...RIDGE_MEANS.map((k) => `busy_mean_${k}`),
    ...RIDGE_COVARIATES,
    ...RIDGE_SEASONAL,
  ];
  private readonly Dc = RIDGE_LAGS.length + RIDGE_MEANS.length + RIDGE_COVARIATES.length;
  private readonly De = RIDGE_SEASONAL.length;
  /** Scratch of forecastInto: the design row; the covariate columns of the last feature spec seen. */
  private c = new Float64Array(0);
  private e = new Float64Array(0);
  private cov = new Int32Array(0);
  private covSpec: FeatureSpec | null = null;

  constructor(opts: RidgeOptions = {}) {
    this.lambdas = opts.lambdas ?? RIDGE_LAMBDAS;
    this.maxTrainRows = opts.maxTrainRows ?? 60_000;
    this.refitOnValid = opts.refitOnValid ?? true;
  }

  /**
   * The design row of origin t: c (Dc) and e (H, De) from the busy series (rows <= t, and the rows a day and a
   * week before each target), the feature rows X (F per row) at the covariate columns `cov`, and the capacity;
   * returns busy(t) / capacity.
   */
  private design(
    busy: ArrayLike<number>,
    X: Float32Array,
    F: number,
    cov: Int32Array,
    t: number,
    capacity: number,
    H: number,
    c: Float64Array,
    e: Float64Array,
  ): number {
    const inv = 1 / (capacity > 0 ? capacity : 1);
    let k = 0;
    // lags (clamped to the first row)
    for (const lag of RIDGE_LAGS) c[k++] = busy[Math.max(0, t - lag)] * inv;
    // rolling means over the last m rows (fewer near the start)
    for (const m of RIDGE_MEANS) {
      const from = Math.max(0, t - m + 1);
      let sum = 0;
      for (let i = from; i <= t; i++) sum += busy[i];
      c[k++] = (sum / (t + 1 - from)) * inv;
    }
    // covariates at t
    for (let j = 0; j < cov.length; j++) c[k++] = X[t * F + cov[j]];
    // per horizon: seasonal values at the target minute (persistence fill + flag)
    const now = busy[t] * inv;
    for (let h = 1; h <= H; h++) {
      const o = (h - 1) * this.De;
      const d = t + h - DAY_MINUTES;
      const w = t + h - WEEK_MINUTES;
      e[o] = d >= 0 ? busy[d] * inv : now;
      e[o + 1] = d >= 0 ? 1 : 0;
      e[o + 2] = w >= 0 ? busy[w] * inv : now;
      e[o + 3] = w >= 0 ? 1 : 0;
    }
    return now;
  }

  /** Column indices of the covariates in feature rows of `spec` (kept for the last spec asked about). */
  private covariates(spec: FeatureSpec): Int32Array {
    if (spec !== this.covSpec) {
      this.cov = Int32Array.from(RIDGE_COVARIATES.map((n) => featureIndex(spec, n)));
      this.covSpec = spec;
    }
    return this.cov;
  }

  /**
   * The fitted forecast (p50, before the band) of origin t for horizons 1..H (H = fitted horizons) into
   * p50[o .. o + H): from the busy series, the feature rows and the capacity. Reads rows <= t only (and busy
   * a day/week before the targets), so it serves a series that is still growing as well as a dataset.
   */
  forecastInto(
    busy: ArrayLike<number>,
    features: Pick<FeatureMatrix, 'spec' | 'F' | 'data'>,
    t: number,
    capacity: number,
    p50: Float32Array,
    o: number,
  ): void {
    const H = this.models.length;
    const { data: X, F } = features;
    const cov = this.covariates(features.spec);
    if (this.c.length !== this.Dc) this.c = new Float64Array(this.Dc);
    if (this.e.length !== H * this.De) this.e = new Float64Array(H * this.De);
    const { c, e } = this;
    const now = this.design(busy, X, F, cov, t, capacity, H, c, e);
    for (let h = 0; h < H; h++) {
      // y_h = w_h . [c | e_h] + b_h, back to nodes and clipped
      const { w, b: bias } = this.models[h];
      let s = bias;
      for (let i = 0; i < this.Dc; i++) s += w[i] * c[i];
      for (let k = 0; k < this.De; k++) s += w[this.Dc + k] * e[h * this.De + k];
      p50[o + h] = clip((now + s) * capacity, capacity);
    }
  }

  private moments(data: Dataset, origins: Int32Array, maxRows: number): RidgeMoments {
    const H = data.horizon;
    const m = new RidgeMoments(this.Dc, this.De, H);
    const cov = this.covariates(data.features.spec);
    const { data: X, F } = data.features;
    const c = new Float64Array(this.Dc);
    const e = new Float64Array(H * this.De);
    const y = new Float64Array(H);
    const inv = 1 / (data.capacity > 0 ? data.capacity : 1);
    const step = Math.max(1, Math.ceil(origins.length / maxRows));
    for (let i = 0; i < origins.length; i += step) {
      const t = origins[i];
      if (t + H >= data.busy.length) continue;
      const now = this.design(data.busy, X, F, cov, t, data.capacity, H, c, e);
      for (let h = 1; h <= H; h++) y[h - 1] = data.busy[t + h] * inv - now;
      m.add(c, e, y);
    }
    return m;
  }

  async fit(train: TrainData): Promise<void> {
    const { data } = train;
    const H = data.horizon;
    const D = this.Dc + this.De;
    const mt = this.moments(data, train.train, this.maxTrainRows);
    if (mt.n < 2 * D) {
      throw new UserError(
        `ridge: ${mt.n} training samples are too few for ${D} columns; give a longer timeline`,
      );
    }
    const mv = train.valid.length > 0 ? this.moments(data, train.valid, this.maxTrainRows) : null;
    // per horizon: fit each penalty on train, keep the one with the least validation MSE
    this.lambda = new Float64Array(H);
    this.models = [];
    for (let h = 0; h < H; h++) {
      const ft = mt.full(h);
      let best: Linear | null = null;
      let bestErr = Number.POSITIVE_INFINITY;
      let bestLambda = this.lambdas[Math.floor(this.lambdas.length / 2)];
      if (mv) {
        const fv = mv.full(h);
        for (const lambda of this.lambdas) {
          const lin = ridgeFromMoments(ft, D, lambda);
          const err = mseFromMoments(fv, D, lin);
          if (err < bestErr) [best, bestErr, bestLambda] = [lin, err, lambda];
        }
      }
      this.lambda[h] = bestLambda;
      this.models.push(best ?? ridgeFromMoments(ft, D, bestLambda));
    }
    // band from validation residuals of the train-only fit
    this.band = null;
    if (mv) {
      const res = await residuals((b) => this.predict(b).p50, data, train.valid);
      this.band = ResidualBand.fromResiduals(res, H);
      if (this.refitOnValid) {
        const all = mt.plus(mv);
        this.models = this.models.map((_, h) => ridgeFromMoments(all.full(h), D, this.lambda[h]));
      }
    }
  }

  predict(batch: Batch): Forecast {
    const { B, H, origins, data } = batch;
    if (this.models.length !== H)
      throw new Error(`ridge: fitted for ${this.models.length} horizons, asked for ${H}`);
    const cap = data.capacity;
    const p50 = new Float32Array(B * H);
    for (let b = 0; b < B; b++) this.forecastInto(data.busy, data.features, origins[b], cap, p50, b * H);
    if (!this.band) return { p50 };
    return { p50, ...this.band.apply(p50, H, cap) };
  }
}
