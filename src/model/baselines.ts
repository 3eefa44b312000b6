import { UserError } from '../util/errors.js';
import { type Batch, type Dataset, makeBatch } from './dataset.js';
import { DAY_MINUTES, type FeatureMatrix, type FeatureSpec, featureIndex, WEEK_MINUTES } from './features.js';
import type { StandardScaler } from './scaler.js';

/**
 * Forecasters share one interface so baselines and the neural model run through the same evaluator.
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

export interface Forecaster {
  readonly name: string;
  /**
   * Set when predict() reads `batch.x`: the evaluator then builds (B, T, F) windows with this lookback from
   * features built with `featureSpec` (time zone, holidays, history lead; names must match this build) and
   * scaled by `scaler`. Series baselines leave it unset and read history from `batch.data` by origin.
   */
  readonly window?: { lookback: number; scaler?: StandardScaler; featureSpec?: FeatureSpec };
  fit(train: TrainData): void | Promise<void>;
  predict(batch: Batch): Forecast | Promise<Forecast>;
}

const EVAL_CHUNK = 4096;

/**
 * Empirical residual quantiles per horizon (residual = actual - p50, on validation samples):
 * the P10/P90 band is p50 + q10[h] .. p50 + q90[h], a split-conformal style calibrated interval.
 */
export class ResidualBand {
  constructor(
    readonly q10: Float64Array,
    readonly q90: Float64Array,
  ) {}

  /** From residuals (N, H) row-major (NaN ignored); null when there are none. */
  static fromResiduals(res: Float32Array, H: number, lo = 0.1, hi = 0.9): ResidualBand | null {
    const N = res.length / H;
    if (N === 0) return null;
    const q10 = new Float64Array(H);
    const q90 = new Float64Array(H);
    const col = new Float32Array(N);
    for (let h = 0; h < H; h++) {
      let m = 0;
      for (let i = 0; i < N; i++) {
        const r = res[i * H + h];
        if (!Number.isNaN(r)) col[m++] = r;
      }
      if (m === 0) return null;
      const s = col.subarray(0, m).sort();
      q10[h] = quantileSorted(s, lo);
      q90[h] = quantileSorted(s, hi);
    }
    return new ResidualBand(q10, q90);
  }

  /** p10/p90 (B, H) around p50, clipped to [0, cap]. */
  apply(p50: Float32Array, H: number, cap: number): { p10: Float32Array; p90: Float32Array } {
    const p10 = new Float32Array(p50.length);
    const p90 = new Float32Array(p50.length);
    for (let i = 0; i < p50.length; i++) {
      const h = i % H;
      p10[i] = clip(p50[i] + this.q10[h], cap);
      p90[i] = clip(p50[i] + this.q90[h], cap);
    }
    return { p10, p90 };
  }
}

/** Quantile q of an ascending array, linear between order statistics (type 7). */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? s[i] * (1 - f) + s[i + 1] * f : s[i];
}

function clip(v: number, cap: number): number {
  return Math.min(Math.max(v, 0), cap);
}

/** Residuals actual - p50 of a point forecaster over some origins, (N, H). */
async function residuals(
  f: (b: Batch) => Float32Array | Promise<Float32Array>,
  data: Dataset,
  origins: Int32Array,
) {
  const H = data.horizon;
  const res = new Float32Array(origins.length * H);
  for (let i = 0; i < origins.length; i += EVAL_CHUNK) {
    const batch = makeBatch(data, origins.subarray(i, Math.min(i + EVAL_CHUNK, origins.length)), {
      withX: false,
    });
    const p = await f(batch);
    for (let k = 0; k < p.length; k++) res[i * H + k] = batch.y[k] - p[k];
  }
  return res;
}

/**
 * A forecaster whose point forecast is a fixed rule on the busy series; fit() only calibrates the band.
 */
abstract class SeriesRule implements Forecaster {
  abstract readonly name: string;
  band: ResidualBand | null = null;

  /** p50 (B, H) for a batch. */
  protected abstract point(batch: Batch): Float32Array;

  async fit(train: TrainData): Promise<void> {
    const res = await residuals((b) => this.point(b), train.data, train.valid);
    this.band = ResidualBand.fromResiduals(res, train.data.horizon);
  }

  predict(batch: Batch): Forecast {
    const p50 = this.point(batch);
    if (!this.band) return { p50 };
    return { p50, ...this.band.apply(p50, batch.H, batch.data.capacity) };
  }
}

/** Last value: busy(t+h) = busy(t) for every h. */
export class Persistence extends SeriesRule {
  readonly name = 'persistence';
  protected point(batch: Batch): Float32Array {
    const { B, H, origins } = batch;
    const busy = batch.data.busy;
    const p = new Float32Array(B * H);
    for (let b = 0; b < B; b++) p.fill(busy[origins[b]], b * H, (b + 1) * H);
    return p;
  }
}

/**
 * Seasonal naive: busy(t+h) = busy(t+h-period). Where t+h-period is before the data starts it falls back
 * to persistence busy(t).
 */
export class SeasonalNaive extends SeriesRule {
  readonly name: string;
  constructor(readonly period: number) {
    super();
    this.name =
      period === DAY_MINUTES
        ? 'seasonal_day'
        : period === WEEK_MINUTES
          ? 'seasonal_week'
          : `seasonal_${period}m`;
  }
  protected point(batch: Batch): Float32Array {
    const { B, H, origins } = batch;
    const busy = batch.data.busy;
    const p = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      const t = origins[b];
      for (let h = 1; h <= H; h++) {
        const s = t + h - this.period;
        p[b * H + h - 1] = s >= 0 ? busy[s] : busy[t];
      }
    }
    return p;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Ridge regression, one model per horizon.

/** Lags (minutes before t) of busy nodes used by the ridge. */
export const RIDGE_LAGS = [0, 1, 2, 5, 10, 15, 30, 60, 120, 240];
/** Rolling means of busy nodes over the last k minutes. */
export const RIDGE_MEANS = [30, 60, 240];
/** Timeline features (see features.ts) taken as they are at t: known future, queue, running stats, calendar. */
export const RIDGE_COVARIATES = [
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
export const RIDGE_SEASONAL = [
  'busy_day_before_target',
  'day_avail',
  'busy_week_before_target',
  'week_avail',
];
export const RIDGE_LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

export interface RidgeOptions {
  /** Ridge penalties tried (on standardised columns, per sample); the best on validation wins per horizon. */
  lambdas?: number[];
  /** Use at most this many training (and validation) origins for the moments, evenly thinned; default 60,000. */
  maxTrainRows?: number;
  /** Refit on train + validation with the chosen penalty (default true). */
  refitOnValid?: boolean;
}

/** Raw moment sums of [c | e_h] and y_h for every horizon, accumulated in float64. */
class RidgeMoments {
  n = 0;
  /** (Dc, Dc) sum c c^T (full, symmetric). */
  readonly scc: Float64Array;
  readonly sc: Float64Array;
  /** (H, Dc, De) sum c e_h^T. */
  readonly sce: Float64Array;
  /** (H, De, De) sum e_h e_h^T. */
  readonly see: Float64Array;
  /** (H, De) */
  readonly se: Float64Array;
  /** (H, Dc) sum c y_h; (H, De) sum e_h y_h; (H) sum y_h, sum y_h^2. */
  readonly scy: Float64Array;
  readonly sey: Float64Array;
  readonly sy: Float64Array;
  readonly syy: Float64Array;

  constructor(
    readonly Dc: number,
    readonly De: number,
    readonly H: number,
  ) {
    this.scc = new Float64Array(Dc * Dc);
    this.sc = new Float64Array(Dc);
    this.sce = new Float64Array(H * Dc * De);
    this.see = new Float64Array(H * De * De);
    this.se = new Float64Array(H * De);
    this.scy = new Float64Array(H * Dc);
    this.sey = new Float64Array(H * De);
    this.sy = new Float64Array(H);
    this.syy = new Float64Array(H);
  }

  /** Add one sample: c (Dc), e (H, De), y (H). */
  add(c: Float64Array, e: Float64Array, y: Float64Array): void {
    const { Dc, De, H } = this;
    this.n++;
    // common block: upper triangle of c c^T, mirrored in full()
    for (let i = 0; i < Dc; i++) {
      const ci = c[i];
      this.sc[i] += ci;
      const row = i * Dc;
      for (let j = i; j < Dc; j++) this.scc[row + j] += ci * c[j];
    }
    // per horizon: cross terms with the seasonal block and the target
    for (let h = 0; h < H; h++) {
      const yh = y[h];
      const eo = h * De;
      this.sy[h] += yh;
      this.syy[h] += yh * yh;
      const co = h * Dc;
      for (let i = 0; i < Dc; i++) {
        const ci = c[i];
        this.scy[co + i] += ci * yh;
        const so = (h * Dc + i) * De;
        for (let k = 0; k < De; k++) this.sce[so + k] += ci * e[eo + k];
      }
      for (let k = 0; k < De; k++) {
        const ek = e[eo + k];
        this.se[eo + k] += ek;
        this.sey[eo + k] += ek * yh;
        const so = (h * De + k) * De;
        for (let l = 0; l < De; l++) this.see[so + l] += ek * e[eo + l];
      }
    }
  }

  plus(o: RidgeMoments): RidgeMoments {
    const r = new RidgeMoments(this.Dc, this.De, this.H);
    r.n = this.n + o.n;
    for (const k of ['scc', 'sc', 'sce', 'see', 'se', 'scy', 'sey', 'sy', 'syy'] as const) {
      const a = this[k];
      const b = o[k];
      const d = r[k];
      for (let i = 0; i < d.length; i++) d[i] = a[i] + b[i];
    }
    return r;
  }

  /** Full moments for horizon h over z = [c | e_h]: S (D, D), s (D), sy (D), and sums of y, y^2. */
  full(h: number): {
    S: Float64Array;
    s: Float64Array;
    szy: Float64Array;
    sy: number;
    syy: number;
    n: number;
  } {
    const { Dc, De } = this;
    const D = Dc + De;
    const S = new Float64Array(D * D);
    for (let i = 0; i < Dc; i++) {
      for (let j = i; j < Dc; j++) {
        S[i * D + j] = this.scc[i * Dc + j];
        S[j * D + i] = this.scc[i * Dc + j];
      }
      for (let k = 0; k < De; k++) {
        const v = this.sce[(h * Dc + i) * De + k];
        S[i * D + Dc + k] = v;
        S[(Dc + k) * D + i] = v;
      }
    }
    for (let k = 0; k < De; k++)
      for (let l = 0; l < De; l++) S[(Dc + k) * D + Dc + l] = this.see[(h * De + k) * De + l];
    const s = new Float64Array(D);
    const szy = new Float64Array(D);
    s.set(this.sc, 0);
    s.set(this.se.subarray(h * De, (h + 1) * De), Dc);
    szy.set(this.scy.subarray(h * Dc, (h + 1) * Dc), 0);
    szy.set(this.sey.subarray(h * De, (h + 1) * De), Dc);
    return { S, s, szy, sy: this.sy[h], syy: this.syy[h], n: this.n };
  }
}

/** Weights of one horizon's linear model: y = w . z + b. */
interface Linear {
  w: Float64Array;
  b: number;
}

/**
 * Ridge on standardised columns from raw moments: (R + lambda I) beta = r, with R the correlation matrix
 * and r the standardised cross-covariance; constant columns get weight 0. Returns raw-scale w and b.
 */
export function ridgeFromMoments(
  m: { S: Float64Array; s: Float64Array; szy: Float64Array; sy: number; n: number },
  D: number,
  lambda: number,
): Linear {
  const { S, s, szy, sy, n } = m;
  const mu = new Float64Array(D);
  const sd = new Float64Array(D);
  for (let i = 0; i < D; i++) mu[i] = s[i] / n;
  const ybar = sy / n;
  for (let i = 0; i < D; i++) {
    const v = S[i * D + i] / n - mu[i] * mu[i];
    sd[i] = v > 1e-12 ? Math.sqrt(v) : 0;
  }
  // A = R + lambda I (D, D); r (D)
  const A = new Float64Array(D * D);
  const r = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    if (sd[i] === 0) {
      A[i * D + i] = 1;
      continue;
    }
    for (let j = 0; j < D; j++) {
      if (sd[j] === 0) continue;
      A[i * D + j] = (S[i * D + j] / n - mu[i] * mu[j]) / (sd[i] * sd[j]);
    }
    A[i * D + i] += lambda;
    r[i] = (szy[i] / n - mu[i] * ybar) / sd[i];
  }
  const beta = choleskySolve(A, r, D);
  const w = new Float64Array(D);
  let b = ybar;
  for (let i = 0; i < D; i++) {
    w[i] = sd[i] === 0 ? 0 : beta[i] / sd[i];
    b -= w[i] * mu[i];
  }
  return { w, b };
}

/** Mean squared error of y = w.z + b over the samples summarised by raw moments (exact, no second pass). */
export function mseFromMoments(
  m: { S: Float64Array; s: Float64Array; szy: Float64Array; sy: number; syy: number; n: number },
  D: number,
  lin: Linear,
): number {
  const { S, s, szy, sy, syy, n } = m;
  const { w, b } = lin;
  // sum (y - w.z - b)^2 = syy - 2 w.szy - 2 b sy + w^T S w + 2 b w.s + n b^2
  let wSw = 0;
  let wszy = 0;
  let ws = 0;
  for (let i = 0; i < D; i++) {
    let Si = 0;
    for (let j = 0; j < D; j++) Si += S[i * D + j] * w[j];
    wSw += w[i] * Si;
    wszy += w[i] * szy[i];
    ws += w[i] * s[i];
  }
  return (syy - 2 * wszy - 2 * b * sy + wSw + 2 * b * ws + n * b * b) / n;
}

/** Solve A x = r for symmetric positive definite A (D, D) by Cholesky A = L L^T. */
export function choleskySolve(A: Float64Array, r: Float64Array, D: number): Float64Array {
  const L = new Float64Array(D * D);
  // factor: L[i][j] = (A[i][j] - sum_k<j L[i][k] L[j][k]) / L[j][j]
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * D + j];
      for (let k = 0; k < j; k++) sum -= L[i * D + k] * L[j * D + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error(`cholesky: matrix not positive definite at column ${i}`);
        L[i * D + i] = Math.sqrt(sum);
      } else L[i * D + j] = sum / L[j * D + j];
    }
  }
  // forward: L z = r
  const z = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let sum = r[i];
    for (let k = 0; k < i; k++) sum -= L[i * D + k] * z[k];
    z[i] = sum / L[i * D + i];
  }
  // backward: L^T x = z
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < D; k++) sum -= L[k * D + i] * x[k];
    x[i] = sum / L[i * D + i];
  }
  return x;
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

/** The four baselines, fresh and unfitted, in report order. */
export function baselineForecasters(): Forecaster[] {
  return [new Persistence(), new SeasonalNaive(DAY_MINUTES), new SeasonalNaive(WEEK_MINUTES), new Ridge()];
}
