import type { ServedPeakBand } from '../power/peak-band.js';
import { type AnomalyReport, detectAnomalies, residualAnomalies } from '../telemetry/anomaly.js';
import { TelemetryError, type TelemetryErrorKind } from '../telemetry/errors.js';
import { checkQuality, fatalReasons, type QualityReport } from '../telemetry/quality.js';
import { seriesKey } from '../telemetry/schema.js';
import type { TelemetryReader } from '../telemetry/types.js';
import { TIMELINE_COLUMNS, type Timeline } from '../timeline/columns.js';
import { errorMessage } from '../util/errors.js';
import type { ModelInfo, ServingModel } from './forecasters.js';

/**
 * The forecast hub: one cached forecast per series (cluster, partition), computed once per telemetry minute
 * and shared by every request.
 *
 * - A snapshot is for one clock minute. A request in a later minute (or after a failed attempt older than
 *   `retrySeconds`) starts a recompute, single-flight per series, and is answered at once from the cached
 *   snapshot, flagged stale with its age; only when a series has no snapshot yet does it wait (for that
 *   first run). A request never waits on a run it did not need, nor on another series' run.
 * - The background loop (`start`) polls every `refreshSeconds`: recompute on a new minute, after a failure,
 *   or when a cheap probe sees a telemetry point newer than the one the snapshot used; `notify` (embedded
 *   feeds) recomputes at once when a feed writes a new minute.
 * - A compute reads `contextMinutes` of telemetry, checks its quality over the lookback (verdict, flags,
 *   gap rule), puts the context on a minute grid for the model (leading minutes without data dropped,
 *   remaining gaps older than the fill rule forward-filled), runs the model and scores anomalies on the
 *   live series and on past forecasts' residuals (15 minutes ahead).
 */

export interface SeriesId {
  cluster: string;
  partition: string;
}

export interface HubOptions {
  lookbackMinutes: number;
  horizon: number;
  staleMinutes: number;
  maxFillMinutes: number;
  maxMissingFraction: number;
  minHistoryMinutes: number;
  refreshSeconds: number;
  /**
   * Seconds after a minute starts before its row is expected (collector / feed latency): the forecast for
   * minute m is made at m + grace, from data up to m. Default 0.
   */
  graceSeconds?: number;
  /** Retry a failed compute after this many (wall) seconds; default refreshSeconds. */
  retrySeconds?: number;
}

export interface ForecastValues {
  /** Epoch s of the origin (the minute the forecast is made at); targets are origin + 60 h, h = 1..H. */
  origin: number;
  capacity: number;
  busyNow: number;
  p50: Float64Array;
  p10: Float64Array;
  p90: Float64Array;
  banded: boolean;
  /** The power controller's peak band at this origin (null until calibrated). */
  peakBand: ServedPeakBand | null;
  /** The forecaster that ran (may differ from the configured one on a cold start). */
  ran: string;
  /** Model run time, ms (features + predict, + fit when it refit). */
  runMs: number;
  /** The run refitted the model (runMs includes the fit). */
  refit: boolean;
}

export interface Snapshot {
  series: SeriesId;
  /** Clock minute (epoch s) the snapshot is for. */
  minute: number;
  /** Clock time (epoch s) and wall time (performance.now ms) of the compute. */
  computedAt: number;
  computedWall: number;
  status: 'ok' | 'no_forecast' | 'error';
  /** One line: why there is no forecast (no_forecast / error). */
  reason: string | null;
  errorKind: TelemetryErrorKind | 'internal' | null;
  /** Time of the newest telemetry point read (null when none / on error). */
  lastPointTime: number | null;
  quality: QualityReport | null;
  anomalies: { series: AnomalyReport; residual: AnomalyReport | null } | null;
  forecast: ForecastValues | null;
  model: ModelInfo;
  /** Busy nodes over the lookback (NaN = missing), for the dashboard. */
  history: { start: number; busy: Float64Array } | null;
}

export interface HubResult {
  snap: Snapshot;
  /** The snapshot is from an earlier minute (a newer one is being computed). */
  stale: boolean;
  /** Seconds (clock) since the snapshot was computed. */
  ageS: number;
  /** The last good forecast (for a fallback when the latest attempt failed). */
  lastGood: Snapshot | null;
}

/** What the hub reports to metrics. */
export interface HubEvents {
  onCompute(series: SeriesId, snap: Snapshot, ms: number): void;
}

interface Entry {
  id: SeriesId;
  key: string;
  latest: Snapshot | null;
  lastGood: Snapshot | null;
  inflight: Promise<Snapshot> | null;
  polling: boolean;
  /** New data arrived during a run: run again when it ends. */
  rerun: boolean;
  /** p50 of past forecasts by origin (for residual anomalies). */
  past: Map<number, Float64Array>;
}

/** Residual anomalies score the forecast this many minutes ahead. */
const RESIDUAL_H = 15;

export class UnknownSeriesError extends Error {
  constructor(
    readonly id: SeriesId,
    readonly known: SeriesId[],
  ) {
    super(
      `unknown series ${id.cluster}/${id.partition}; served: ${known.map((k) => `${k.cluster}/${k.partition}`).join(', ')}`,
    );
  }
}

export class ForecastHub {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private readonly retryMs: number;
  private readonly graceS: number;
  /** Model runs done (cache misses that ran the model). */
  runs = 0;

  constructor(
    private readonly reader: TelemetryReader,
    readonly model: ServingModel,
    readonly opts: HubOptions,
    private readonly clock: () => number,
    private readonly events: HubEvents = { onCompute() {} },
  ) {
    this.retryMs = 1000 * (opts.retrySeconds ?? opts.refreshSeconds);
    this.graceS = opts.graceSeconds ?? 0;
  }

  addSeries(id: SeriesId): void {
    const key = seriesKey(id.cluster, id.partition);
    if (!this.entries.has(key)) {
      this.entries.set(key, {
        id: { ...id },
        key,
        latest: null,
        lastGood: null,
        inflight: null,
        polling: false,
        rerun: false,
        past: new Map(),
      });
    }
  }

  series(): SeriesId[] {
    return [...this.entries.values()].map((e) => e.id);
  }

  private entry(id: SeriesId): Entry {
    const e = this.entries.get(seriesKey(id.cluster, id.partition));
    if (!e) throw new UnknownSeriesError(id, this.series());
    return e;
  }

  /** The latest snapshot without triggering anything (null before the first compute). */
  peek(id: SeriesId): Snapshot | null {
    return this.entry(id).latest;
  }

  /** Telemetry time the data is expected to be complete up to: the clock less the ingest grace. */
  private dataNow(): number {
    return this.clock() - this.graceS;
  }

  private minuteNow(): number {
    return Math.floor(this.dataNow() / 60) * 60;
  }

  private fresh(s: Snapshot, minute: number): boolean {
    if (s.minute !== minute) return false;
    return s.status !== 'error' || performance.now() - s.computedWall < this.retryMs;
  }

  /** Serve a request: the cached snapshot (maybe stale while a newer one is computed), or the first one. */
  async get(id: SeriesId): Promise<HubResult> {
    const e = this.entry(id);
    const s = e.latest;
    if (s && this.fresh(s, this.minuteNow())) return this.result(e, s, false);
    const p = this.refresh(id);
    if (s) return this.result(e, s, true);
    return this.result(e, await p, false);
  }

  private result(e: Entry, s: Snapshot, stale: boolean): HubResult {
    return { snap: s, stale, ageS: Math.max(0, this.clock() - s.computedAt), lastGood: e.lastGood };
  }

  /** Recompute a series, single-flight: a run in progress is shared, never started twice. */
  refresh(id: SeriesId): Promise<Snapshot> {
    const e = this.entry(id);
    if (e.inflight) return e.inflight;
    const p = this.compute(e).finally(() => {
      e.inflight = null;
      if (e.rerun) {
        e.rerun = false;
        void this.refresh(id).catch(() => {});
      }
    });
    e.inflight = p;
    return p;
  }

  /** New telemetry was written for a series (embedded feeds): recompute now. */
  notify(id: SeriesId): void {
    const e = this.entries.get(seriesKey(id.cluster, id.partition));
    if (!e) return;
    // a run in progress may have read before this data arrived: run once more after it
    if (e.inflight) e.rerun = true;
    else void this.refresh(e.id).catch(() => {});
  }

  /** One background poll of a series: recompute when the minute moved, after a failure, or on newer data. */
  async poll(id: SeriesId): Promise<void> {
    const e = this.entry(id);
    if (e.polling || e.inflight) return;
    e.polling = true;
    try {
      const s = e.latest;
      if (!s || !this.fresh(s, this.minuteNow())) {
        await this.refresh(id);
        return;
      }
      if (s.status === 'error') return; // retried once retrySeconds have passed (fresh() turns false)
      // same minute: a cheap probe for a point newer than the one the snapshot used (late or new data)
      const probe = await this.reader.recent(id.cluster, id.partition, 2).catch(() => null);
      const last = probe?.length ? probe[probe.length - 1].time : null;
      // (a point past the snapshot's minute is still within the ingest grace: it is used next minute)
      const newer =
        last !== null && last > (s.lastPointTime ?? Number.NEGATIVE_INFINITY) && last < s.minute + 60;
      if (probe === null || newer) await this.refresh(id);
    } finally {
      e.polling = false;
    }
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      for (const e of this.entries.values()) void this.poll(e.id).catch(() => {});
    };
    tick();
    this.timer = setInterval(tick, 1000 * this.opts.refreshSeconds);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Wait for runs in progress (graceful shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((e) => e.inflight));
  }

  private async compute(e: Entry): Promise<Snapshot> {
    const t0 = performance.now();
    const at = this.clock();
    const now = at - this.graceS;
    const minute = Math.floor(now / 60) * 60;
    const base = {
      series: e.id,
      minute,
      computedAt: at,
      lastPointTime: null,
      quality: null,
      anomalies: null,
      forecast: null,
      history: null,
    };
    let snap: Snapshot;
    try {
      snap = await this.computeForecast(e, at, now, minute);
    } catch (err) {
      const tel = err instanceof TelemetryError;
      snap = {
        ...base,
        computedWall: performance.now(),
        status: 'error',
        reason: tel ? `telemetry unavailable: ${errorMessage(err)}` : `forecast failed: ${errorMessage(err)}`,
        errorKind: tel ? err.kind : 'internal',
        model: this.model.info(e.key),
      };
    }
    e.latest = snap;
    if (snap.status === 'ok') e.lastGood = snap;
    this.events.onCompute(e.id, snap, performance.now() - t0);
    return snap;
  }

  private async computeForecast(e: Entry, at: number, now: number, minute: number): Promise<Snapshot> {
    const o = this.opts;
    const { cluster, partition } = e.id;
    const M = o.lookbackMinutes;
    const C = Math.max(this.model.contextMinutes, M);
    const rows = await this.reader.recent(cluster, partition, C);
    // 1. quality over the lookback: verdict, flags, gap rule
    const q = checkQuality(rows, {
      now,
      lookbackMinutes: M,
      staleMinutes: o.staleMinutes,
      maxFillMinutes: o.maxFillMinutes,
      maxMissingFraction: o.maxMissingFraction,
      minHistoryMinutes: o.minHistoryMinutes,
    });
    const report = q.report;
    const busyHist = q.timeline.columns.busy_nodes;
    const history = { start: q.timeline.start, busy: busyHist };
    const common = {
      series: e.id,
      minute,
      computedAt: at,
      lastPointTime: report.lastPointTime,
      quality: report,
      model: this.model.info(e.key),
      history,
    };
    // 2. anomalies on the live series (level vs yesterday when the context reaches back a day)
    const ctx = checkQuality(rows, {
      now,
      lookbackMinutes: C,
      staleMinutes: Number.MAX_SAFE_INTEGER,
      maxFillMinutes: o.maxFillMinutes,
      maxMissingFraction: 1,
      minHistoryMinutes: 1,
    }).timeline;
    const dayAgo = C >= M + 1440 ? ctx.columns.busy_nodes.subarray(C - M - 1440, C - 1440) : null;
    // scale floor: 2 % of the nodes, so a few nodes' change on a quiet series is not an anomaly
    const minScale = Math.max(0.5, 0.02 * (Number.isFinite(q.timeline.capacity) ? q.timeline.capacity : 0));
    const seriesAnoms = detectAnomalies(history.start, busyHist, dayAgo ? Float64Array.from(dayAgo) : null, {
      minScale,
    });
    if (report.verdict === 'no_forecast') {
      const fatal = fatalReasons(report);
      return {
        ...common,
        computedWall: performance.now(),
        status: 'no_forecast',
        reason: `no forecast: ${fatal.join('; ')}`,
        errorKind: null,
        anomalies: { series: seriesAnoms, residual: null },
        forecast: null,
      };
    }
    // 3. model input: the context grid from the first data row, gaps forward-filled
    const tl = gridForModel(ctx);
    const capacity = report.counts.points > 0 && Number.isFinite(tl.capacity) ? tl.capacity : Number.NaN;
    const t0 = performance.now();
    const f = await this.model.forecast(e.key, tl, o.horizon);
    const runMs = performance.now() - t0;
    this.runs++;
    const origin = tl.start + 60 * (tl.minutes - 1);
    const busyNow = tl.columns.busy_nodes[tl.minutes - 1];
    // 4. residual anomalies: actual busy vs the forecast made RESIDUAL_H minutes before
    const residual = this.residuals(e, history.start, busyHist, origin, f.p50, minScale);
    return {
      ...common,
      model: this.model.info(e.key),
      computedWall: performance.now(),
      status: 'ok',
      reason: null,
      errorKind: null,
      anomalies: { series: seriesAnoms, residual },
      forecast: { origin, capacity, busyNow, ...f, runMs },
    };
  }

  private residuals(
    e: Entry,
    start: number,
    busy: Float64Array,
    origin: number,
    p50: Float64Array,
    minScale: number,
  ): AnomalyReport | null {
    const H = Math.min(RESIDUAL_H, p50.length);
    e.past.set(origin, p50);
    const M = busy.length;
    // forget forecasts older than the lookback
    for (const t of e.past.keys()) if (t < start - 60 * H) e.past.delete(t);
    // r[i] = busy[i] - p50 of the forecast made H minutes before minute i (NaN when none)
    const r = new Float64Array(M).fill(Number.NaN);
    let n = 0;
    for (let i = 0; i < M; i++) {
      const f = e.past.get(start + 60 * (i - H));
      if (f && Number.isFinite(busy[i])) {
        r[i] = busy[i] - f[H - 1];
        n++;
      }
    }
    if (n < 10) return null;
    const recent = Math.min(30, M);
    return residualAnomalies(start + 60 * (M - recent), r.subarray(M - recent), r.subarray(0, M - recent), {
      minScale,
    });
  }
}

/**
 * The model's input grid: rows from the first one with data to the origin; a remaining gap (longer than the
 * fill rule) is forward-filled from the last row with data, column by column.
 */
function gridForModel(tl: Timeline): Timeline {
  const busy = tl.columns.busy_nodes;
  let first = 0;
  while (first < tl.minutes && !Number.isFinite(busy[first])) first++;
  if (first === tl.minutes) throw new Error('no telemetry rows with busy_nodes in the context');
  const n = tl.minutes - first;
  const columns = {} as Timeline['columns'];
  for (const c of TIMELINE_COLUMNS) {
    const src = tl.columns[c];
    const col = src.slice(first);
    let last = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(col[i])) last = col[i];
      else col[i] = last;
    }
    columns[c] = col;
  }
  return {
    start: tl.start + 60 * first,
    minutes: n,
    capacity: tl.capacity,
    totalCpus: tl.totalCpus,
    columns,
  };
}
