import {
  type Forecast,
  type Forecaster,
  RIDGE_COVARIATES,
  RIDGE_LAGS,
  RIDGE_MEANS,
  RIDGE_SEASONAL,
  Ridge,
} from '../model/baselines.js';
import { type Dataset, makeBatch, makeDataset, originsIn } from '../model/dataset.js';
import {
  buildFeatures,
  CLUSTER_FEATURES,
  clusterFeature,
  DAY_MINUTES,
  FEATURE_NAMES,
  type FeatureMatrix,
  type FeatureOptions,
  type FeatureSpec,
  featureIndex,
  HISTORY_FEATURES,
  type Transform,
  WEEK_MINUTES,
} from '../model/features.js';
import { P90_BINS, p90Bin } from '../timeline/rows.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../timeline/columns.js';
import { ageBin, cellIndex, EndingTable, remBin, sizeBin } from '../timeline/survival.js';
import type { PowerSim } from './cluster.js';
import type { DemandOutlook } from './policies/warm_pool.js';

/**
 * The replay's live view of the cluster, built only from what has happened so far:
 * - `LiveTimeline`: one minute row per minute boundary, written from the scheduler's state at that instant
 *   (the semantics of src/timeline/build.ts: a job holds nodes from its allocation to its end; queued = submitted
 *   and not allocated; flow counts over the minute that just ended);
 * - `LiveFeatures`: the forecaster's feature row for each written row (src/model/features.ts, row by row; the
 *   calendar is computed a week ahead because it is the clock, the rest from rows <= t only);
 * - `OnlineForecast`: at every minute, asks the forecaster about the newest row, handing it a dataset that
 *   ends at that row, so nothing later exists for it to read (no peeking by construction).
 */

function grow(a: Float64Array, need: number): Float64Array {
  if (need <= a.length) return a;
  const b = new Float64Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

export class LiveTimeline {
  readonly start: number;
  readonly capacity: number;
  readonly totalCpus: number;
  minutes = 0;
  cols: Record<TimelineColumn, Float64Array>;
  private readonly hCount = new Float64Array(P90_BINS);
  private readonly hSum = new Float64Array(P90_BINS);
  /** P(ends within 30 min) per cell for expected_end_30m_nodes (default: the time-limit prior). */
  private readonly endP: Float64Array;

  /** `start` = the first row's instant (a multiple of 60). */
  constructor(
    start: number,
    capacity: number,
    totalCpus: number,
    expectMinutes = 1024,
    endingTable: EndingTable = new EndingTable(),
  ) {
    this.endP = endingTable.probabilities();
    this.start = start;
    this.capacity = capacity;
    this.totalCpus = totalCpus;
    this.cols = {} as Record<TimelineColumn, Float64Array>;
    for (const c of TIMELINE_COLUMNS) this.cols[c] = new Float64Array(Math.max(16, expectMinutes));
  }

  /** Epoch seconds of the last written row (NaN before the first). */
  get lastTime(): number {
    return this.minutes > 0 ? this.start + 60 * (this.minutes - 1) : Number.NaN;
  }

  /** Append the row of instant t (must be the next minute) from the scheduler's state. */
  write(sim: PowerSim, t: number): void {
    const m = Math.round((t - this.start) / 60);
    if (m !== this.minutes) throw new Error(`live timeline: row ${m} written after row ${this.minutes - 1}`);
    if (m >= this.cols.busy_nodes.length) {
      for (const c of TIMELINE_COLUMNS) this.cols[c] = grow(this.cols[c], m + 1);
    }
    const c = this.cols;
    // running jobs: hold nodes from allocation to end (zero-length jobs hold nothing)
    let run = 0;
    let raw = 0;
    let cpus = 0;
    let sumStart = 0;
    let limSum = 0;
    let e5 = 0;
    let e10 = 0;
    let e30 = 0;
    let e60 = 0;
    let e240 = 0;
    let age5 = 0;
    let age30 = 0;
    let age120 = 0;
    let ageMore = 0;
    let expEnd = 0;
    const hc = this.hCount;
    const hs = this.hSum;
    hc.fill(0);
    hs.fill(0);
    for (const j of sim.running) {
      if (!(sim.end[j] > t)) continue;
      const need = sim.need[j];
      run++;
      raw += need;
      cpus += sim.cpus[j];
      sumStart += sim.alloc[j];
      const lim = sim.limit[j];
      limSum += lim;
      const b = p90Bin(lim);
      hc[b]++;
      hs[b] += lim;
      // known future: the job's limit runs out by t + k minutes
      const planned = sim.run[j] + lim;
      if (planned <= t + 300) e5 += need;
      if (planned <= t + 600) e10 += need;
      if (planned <= t + 1800) e30 += need;
      if (planned <= t + 3600) e60 += need;
      if (planned <= t + 14400) e240 += need;
      // age since allocation (the builder's start), and the expected end within 30 minutes
      const age = (t - sim.alloc[j]) / 60;
      if (age < 5) age5 += need;
      else if (age < 30) age30 += need;
      else if (age < 120) age120 += need;
      else ageMore += need;
      expEnd += need * this.endP[cellIndex(ageBin(age), remBin((planned - t) / 60), sizeBin(need))];
    }
    let qn = 0;
    let qc = 0;
    for (let k = 0; k < sim.qLen; k++) {
      const j = sim.queue[k];
      qn += sim.need[j];
      qc += sim.cpus[j];
    }
    const q = sim.qLen;
    const cap = this.capacity;
    c.running_jobs[m] = run;
    c.queued_jobs[m] = q;
    c.busy_nodes[m] = Math.min(raw, cap);
    c.overshoot_nodes[m] = raw > cap ? raw - cap : 0;
    c.cpu_util[m] = cpus < this.totalCpus ? cpus / this.totalCpus : 1;
    c.mean_nodes_running[m] = run > 0 ? raw / run : 0;
    c.mean_cpus_running[m] = run > 0 ? cpus / run : 0;
    c.mean_nodes_queued[m] = q > 0 ? qn / q : 0;
    c.mean_cpus_queued[m] = q > 0 ? qc / q : 0;
    c.queued_nodes[m] = qn;
    c.mean_elapsed_running_s[m] = run > 0 ? t - sumStart / run : 0;
    c.mean_limit_running_s[m] = run > 0 ? limSum / run : 0;
    // p90 of limits: nearest rank in the log-binned histogram, reported as the mean of its bin
    if (run > 0) {
      const rank = Math.ceil((run * 9) / 10);
      let cum = 0;
      let bi = 0;
      for (; bi < P90_BINS - 1; bi++) {
        cum += hc[bi];
        if (cum >= rank) break;
      }
      c.p90_limit_running_s[m] = hs[bi] / hc[bi];
    } else c.p90_limit_running_s[m] = 0;
    c.ending_5m_nodes[m] = e5;
    c.ending_10m_nodes[m] = e10;
    c.ending_30m_nodes[m] = e30;
    c.ending_60m_nodes[m] = e60;
    c.ending_240m_nodes[m] = e240;
    c.age_lt5m_nodes[m] = age5;
    c.age_5_30m_nodes[m] = age30;
    c.age_30_120m_nodes[m] = age120;
    c.age_ge120m_nodes[m] = ageMore;
    c.expected_end_30m_nodes[m] = expEnd;
    c.submitted_last_min[m] = sim.submittedSince;
    c.started_last_min[m] = sim.startedSince;
    c.ended_last_min[m] = sim.endedSince;
    sim.submittedSince = 0;
    sim.startedSince = 0;
    sim.endedSince = 0;
    this.minutes = m + 1;
  }

  /** Rows [from, to) as a Timeline of views (no copy; valid until the next write that grows the columns). */
  view(from = 0, to = this.minutes): Timeline {
    const columns = {} as Record<TimelineColumn, Float64Array>;
    for (const c of TIMELINE_COLUMNS) columns[c] = this.cols[c].subarray(from, to);
    return {
      start: this.start + 60 * from,
      minutes: to - from,
      capacity: this.capacity,
      totalCpus: this.totalCpus,
      columns,
    };
  }
}

/** How each cluster feature is made: the table of src/model/features.ts, by name. */
const CLUSTER_TRANSFORMS = new Map(
  CLUSTER_FEATURES.map(([name, column, tr]) => [name, [column, tr] as const]),
);
const HISTORY = new Set(HISTORY_FEATURES);
const CALENDAR_BLOCK = 7 * DAY_MINUTES;

/** Feature rows of a LiveTimeline, computed as rows are written. */
export class LiveFeatures {
  readonly spec: FeatureSpec;
  readonly F: number;
  data: Float32Array;
  minutes = 0;
  private calendar: Float32Array = new Float32Array(0);
  private calFrom = 0;
  private calTo = 0;
  private readonly kinds: Array<{ f: number; col?: TimelineColumn; tr?: Transform; hist?: string }> = [];
  private readonly calCols: number[] = [];

  constructor(
    readonly live: LiveTimeline,
    readonly opts: FeatureOptions,
  ) {
    const names = [...FEATURE_NAMES];
    this.spec = {
      names,
      timeZone: opts.timeZone || 'UTC',
      holidayCountry: opts.holidayCountry ?? '',
      historyLead: opts.historyLead ?? 30,
    };
    this.F = names.length;
    for (const [f, name] of names.entries()) {
      const ct = CLUSTER_TRANSFORMS.get(name);
      if (ct) this.kinds.push({ f, col: ct[0], tr: ct[1] });
      else if (HISTORY.has(name)) this.kinds.push({ f, hist: name });
      else this.calCols.push(f);
    }
    this.data = new Float32Array(this.F * 1024);
  }

  /** Compute the feature row of the newest timeline row. */
  update(): void {
    const m = this.live.minutes - 1;
    if (m !== this.minutes) throw new Error(`live features: row ${m} after ${this.minutes - 1}`);
    const F = this.F;
    if ((m + 1) * F > this.data.length) {
      const d = new Float32Array(Math.max((m + 1) * F, this.data.length * 2));
      d.set(this.data);
      this.data = d;
    }
    if (m >= this.calTo) this.calendarBlock(m);
    const tl = this.live;
    const cap = tl.capacity > 0 ? tl.capacity : 1;
    const cpus = tl.totalCpus > 0 ? tl.totalCpus : 1;
    const busy = tl.cols.busy_nodes;
    const o = m * F;
    for (const k of this.kinds) {
      if (k.col) {
        const v = tl.cols[k.col][m];
        this.data[o + k.f] = clusterFeature(k.tr!, v, cap, cpus);
      } else {
        // same time in history: busy at m + lead - period (always before m), else persistence with flag 0
        const period = k.hist!.includes('1d') ? DAY_MINUTES : WEEK_MINUTES;
        const s = m + this.spec.historyLead - period;
        const avail = k.hist!.endsWith('avail');
        this.data[o + k.f] = avail ? (s >= 0 ? 1 : 0) : (s >= 0 ? busy[s] : busy[m]) / cap;
      }
    }
    const co = (m - this.calFrom) * F;
    for (const f of this.calCols) this.data[o + f] = this.calendar[co + f];
    this.minutes = m + 1;
  }

  /** Calendar columns for the week starting at row m (they depend on the clock only). */
  private calendarBlock(m: number): void {
    const rows = CALENDAR_BLOCK;
    const zeros = new Float64Array(rows);
    const columns = {} as Record<TimelineColumn, Float64Array>;
    for (const c of TIMELINE_COLUMNS) columns[c] = zeros;
    const tl: Timeline = {
      start: this.live.start + 60 * m,
      minutes: rows,
      capacity: 1,
      totalCpus: 1,
      columns,
    };
    this.calendar = buildFeatures(tl, this.opts).data;
    this.calFrom = m;
    this.calTo = m + rows;
  }

  /** Rows [from, to) as a FeatureMatrix view. */
  view(from: number, to: number): FeatureMatrix {
    return {
      spec: this.spec,
      minutes: to - from,
      F: this.F,
      data: this.data.subarray(from * this.F, to * this.F),
    };
  }
}

/** Rows a series forecaster (no `window`) gets: a week back covers ridge's lags and seasonal lookups. */
export const SERIES_HISTORY_ROWS = WEEK_MINUTES + 1;

/** Activity bin of row t: jobs submitted over the last 30 minutes (0, 1-2, 3-7, 8+). */
export function activityBin(submitted: ArrayLike<number>, t: number): number {
  let n = 0;
  for (let i = Math.max(0, t - 29); i <= t; i++) n += submitted[i];
  return n === 0 ? 0 : n <= 2 ? 1 : n <= 7 ? 2 : 3;
}
export const ACTIVITY_BINS = 4;

/**
 * Calibrated band for the *peak* of demand over the next k minutes: the `q`-quantile of
 * max(busy(t+1..t+k)) - max(p50(t+1..t+k)) over validation origins (k = 1..H), per activity bin (recent
 * submissions: a quiet cluster rarely sees a new job within minutes, a busy one often does). The per-minute
 * P10/P90 band of a forecaster is the wrong width here: the warm pool must cover the highest demand anywhere
 * in the boot horizon, which an arriving job sets, not the typical minute.
 */
export class PeakBand {
  constructor(
    readonly q: number,
    readonly H: number,
    /** (ACTIVITY_BINS, H) offset in nodes for windows of 1..H minutes. */
    readonly offset: Float64Array,
  ) {}

  at(bin: number, steps: number): number {
    return this.offset[bin * this.H + steps - 1];
  }

  /** Calibrate from p50 forecasts (B, H) at `origins` of a timeline's busy and submitted series. */
  static fit(
    busy: ArrayLike<number>,
    submitted: ArrayLike<number>,
    origins: Int32Array,
    p50: Float32Array,
    H: number,
    q: number,
  ): PeakBand {
    const B = origins.length;
    const res: number[][][] = Array.from({ length: ACTIVITY_BINS }, () =>
      Array.from({ length: H }, () => []),
    );
    for (let b = 0; b < B; b++) {
      const t = origins[b];
      const bin = activityBin(submitted, t);
      let act = Number.NEGATIVE_INFINITY;
      let pred = Number.NEGATIVE_INFINITY;
      for (let h = 1; h <= H; h++) {
        // running peaks of the actual and the forecast over t+1..t+h
        act = Math.max(act, busy[t + h]);
        pred = Math.max(pred, p50[b * H + h - 1]);
        res[bin][h - 1].push(act - pred);
      }
    }
    // per bin and window: the q-quantile (bins without samples borrow the next busier bin's, else 0)
    const offset = new Float64Array(ACTIVITY_BINS * H);
    for (let bin = ACTIVITY_BINS - 1; bin >= 0; bin--) {
      for (let h = 0; h < H; h++) {
        const s = Float64Array.from(res[bin][h]).sort();
        offset[bin * H + h] = s.length
          ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]
          : bin + 1 < ACTIVITY_BINS
            ? offset[(bin + 1) * H + h]
            : 0;
      }
    }
    return new PeakBand(q, H, offset);
  }
}

/**
 * Forecasts made online: after each new row, predict busy nodes for the next H minutes from a dataset that
 * ends at that row (nothing later exists for the forecaster to read). `peak(now, within)` = the highest p50
 * over the minutes that cover (last row, now + within], plus the calibrated peak band for that many minutes
 * (or, without a band, the highest P90 when the forecaster gives one).
 */
export class OnlineForecast implements DemandOutlook {
  /** The newest forecast, made at row `origin`: p50 and p90 per horizon (H). */
  private p50: Float32Array = new Float32Array(0);
  private p90: Float32Array | undefined;
  private origin = -1;
  /** Forecasts made (one per minute row). */
  calls = 0;

  constructor(
    readonly forecaster: Forecaster,
    readonly live: LiveTimeline,
    readonly features: LiveFeatures,
    readonly horizon: number,
    readonly band: PeakBand | null = null,
  ) {}

  /** Forecast from the newest row (call right after it is written). */
  update(): void | Promise<void> {
    const o = this.live.minutes - 1;
    if (o < 0) return;
    const f: Forecaster = this.forecaster;
    if (f instanceof Ridge && f.models.length === this.horizon) {
      // fast path, same numbers as Ridge.predict (a test checks): reads rows <= o only
      this.take(ridgeRow(f, this.live, this.features, o, this.horizon), o);
      return;
    }
    const w = (f as Forecaster).window;
    const from = Math.max(0, o + 1 - (w ? w.lookback : SERIES_HISTORY_ROWS));
    const data: Dataset = makeDataset(
      this.live.view(from, o + 1),
      this.features.view(from, o + 1),
      this.horizon,
    );
    const origins = Int32Array.of(o - from);
    const batch = w
      ? makeBatch(data, origins, {
          lookback: w.lookback,
          x: w.scaler ? w.scaler.transform(data.features.data) : data.features.data,
        })
      : makeBatch(data, origins, { withX: false });
    const p = (f as Forecaster).predict(batch);
    if (p instanceof Promise) return p.then((res) => this.take(res, o));
    this.take(p, o);
  }

  private take(res: Forecast, o: number): void {
    this.p50 = res.p50;
    this.p90 = res.p90;
    this.origin = o;
    this.calls++;
  }

  peak(now: number, withinS: number): number {
    if (this.origin < 0) return Number.NaN;
    const t0 = this.live.start + 60 * this.origin;
    const steps = Math.min(this.horizon, Math.max(1, Math.ceil((now + withinS - t0) / 60 - 1e-9)));
    const q = this.band ? this.p50 : (this.p90 ?? this.p50);
    let m = 0;
    for (let h = 0; h < steps; h++) if (q[h] > m) m = q[h];
    if (!this.band) return m;
    return m + this.band.at(activityBin(this.live.cols.submitted_last_min, this.origin), steps);
  }
}

/**
 * Fit a forecaster on the first `trainRows` rows of a finished live timeline (time-ordered: the last 20 % of
 * them validate, for ridge's penalty and the calibrated band).
 */
export async function fitOnPrefix(
  f: Forecaster,
  live: LiveTimeline,
  trainRows: number,
  horizon: number,
  featureOpts: FeatureOptions,
): Promise<void> {
  const rows = Math.min(trainRows, live.minutes);
  const tl = live.view(0, rows);
  const features = buildFeatures(tl, { ...featureOpts, historyLead: featureOpts.historyLead ?? horizon });
  const data = makeDataset(tl, features, horizon);
  const validStart = Math.floor(rows * 0.8);
  await f.fit({
    data,
    train: originsIn(0, validStart, horizon),
    valid: originsIn(validStart, rows, horizon),
  });
}

/** Calibrate the peak band of a fitted forecaster on the validation part (last 20 %) of the training prefix. */
export async function calibratePeak(
  f: Forecaster,
  live: LiveTimeline,
  trainRows: number,
  horizon: number,
  featureOpts: FeatureOptions,
  q: number,
): Promise<PeakBand> {
  const rows = Math.min(trainRows, live.minutes);
  const tl = live.view(0, rows);
  const features = buildFeatures(tl, { ...featureOpts, historyLead: featureOpts.historyLead ?? horizon });
  const data = makeDataset(tl, features, horizon);
  const origins = originsIn(Math.floor(rows * 0.8), rows, horizon);
  const p50 = new Float32Array(origins.length * horizon);
  const w = f.window;
  const x = w ? (w.scaler ? w.scaler.transform(features.data) : features.data) : undefined;
  for (let i = 0; i < origins.length; i += 4096) {
    const o = origins.subarray(i, Math.min(i + 4096, origins.length));
    const batch = makeBatch(data, o, w ? { lookback: w.lookback, x } : { withX: false });
    const res = await f.predict(batch);
    p50.set(res.p50, i * horizon);
  }
  return PeakBand.fit(data.busy, tl.columns.submitted_last_min, origins, p50, horizon, q);
}

/**
 * A fitted Ridge's forecast at row t of a live timeline, computed directly (Ridge.predict caches prefix sums
 * per series array, which is wrong for a series that grows, and a week-long window per minute costs a
 * year of copies). Same design as Ridge: lags, rolling means, covariates at t, busy at the target minute a
 * day and a week earlier (persistence fill + flag); the target is the change from busy(t), in capacities.
 */
export function ridgeRow(r: Ridge, live: LiveTimeline, feats: LiveFeatures, t: number, H: number): Forecast {
  const busy = live.cols.busy_nodes;
  const cap = live.capacity;
  const inv = 1 / (cap > 0 ? cap : 1);
  const Dc = RIDGE_LAGS.length + RIDGE_MEANS.length + RIDGE_COVARIATES.length;
  const De = RIDGE_SEASONAL.length;
  const c = new Float64Array(Dc);
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
  const F = feats.F;
  for (const name of RIDGE_COVARIATES) c[k++] = feats.data[t * F + featureIndex(feats.spec, name)];
  const now = busy[t] * inv;
  const p50 = new Float32Array(H);
  const e = new Float64Array(De);
  for (let h = 1; h <= H; h++) {
    // seasonal values at the target minute
    const d = t + h - DAY_MINUTES;
    const w = t + h - WEEK_MINUTES;
    e[0] = d >= 0 ? busy[d] * inv : now;
    e[1] = d >= 0 ? 1 : 0;
    e[2] = w >= 0 ? busy[w] * inv : now;
    e[3] = w >= 0 ? 1 : 0;
    const { w: wt, b } = r.models[h - 1];
    let s = b;
    for (let i = 0; i < Dc; i++) s += wt[i] * c[i];
    for (let i = 0; i < De; i++) s += wt[Dc + i] * e[i];
    p50[h - 1] = Math.min(Math.max((now + s) * cap, 0), cap);
  }
  if (!r.band) return { p50 };
  return { p50, ...r.band.apply(p50, H, cap) };
}
