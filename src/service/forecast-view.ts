import type { PowerConfig } from '../power/config.js';
import type { AnomalyReport } from '../telemetry/anomaly.js';
import type { QualityReport } from '../telemetry/quality.js';
import type { HubResult, Snapshot } from './forecast-hub.js';
import { powerView } from './power-view.js';
import type { AnomalyBody, ErrorBody, ForecastBody, HistoryBody, ModelBody, QualityBody } from './schemas.js';

/**
 * Plain functions that turn a hub result into the API's answer: the forecast for the request's capacity
 * and horizon with its power view, or a 503 saying why there is none. No I/O, no Fastify.
 */

export interface ViewOptions {
  power: PowerConfig;
  /** The request's total_nodes (capacity of the answer); default the telemetry's. */
  totalNodes?: number;
  horizon?: number;
  /** Serve a flagged persistence forecast from the last good data when telemetry cannot be read. */
  fallbackToBaseline: boolean;
  /** Clock now (epoch s), for a fallback's origin. */
  now: number;
  retryAfterS: number;
}

export type View =
  | { status: 200; body: ForecastBody }
  | { status: 400 | 503; body: ErrorBody; retryAfterS?: number };

export type { ErrorBody, ForecastBody } from './schemas.js';

const iso = (t: number) => new Date(t * 1000).toISOString();
const r2 = (x: number) => Math.round(x * 100) / 100;

function qualityView(q: QualityReport): QualityBody {
  return {
    verdict: q.verdict,
    flags: q.flags,
    reasons: q.reasons,
    cold_start: q.flags.includes('cold_start'),
    history_minutes: q.historyMinutes,
    lookback_minutes: q.window.minutes,
    last_point_time: q.lastPointTime === null ? null : iso(q.lastPointTime),
    last_point_age_s: q.lastPointAgeS,
    missing_fraction: q.missingFraction,
    counts: q.counts,
    rule: q.rule,
    examples: q.examples,
  };
}

function anomalyView(a: AnomalyReport): AnomalyBody {
  return {
    threshold: a.threshold,
    checked: a.checked,
    flags: a.flags.map((f) => ({ kind: f.kind, time: iso(f.time), value: r2(f.value), score: r2(f.score) })),
  };
}

function modelView(s: Snapshot, fallbackReason: string | null = null): ModelBody {
  return {
    name: s.model.name,
    version: s.model.version,
    kind: s.model.kind,
    ran: fallbackReason ? 'persistence (fallback)' : (s.forecast?.ran ?? s.model.name),
    banded: s.forecast?.banded ?? false,
    fitted_through: s.model.fitted_through,
    fallback: fallbackReason !== null,
    fallback_reason: fallbackReason,
  };
}

/** The answer for a hub result: 200 with the forecast, 400 on an inconsistent total_nodes, 503 without one. */
export function forecastView(r: HubResult, o: ViewOptions): View {
  const s = r.snap;
  if (s.status === 'ok' && s.forecast) return withCapacity(r, s, o, null);
  if (s.status === 'error' && o.fallbackToBaseline && r.lastGood?.forecast) {
    return withCapacity(r, fallbackSnapshot(r.lastGood, s, o.now), o, s.reason ?? 'telemetry unavailable');
  }
  const error =
    s.status === 'no_forecast'
      ? 'no_forecast'
      : s.errorKind === 'internal'
        ? 'forecast_failed'
        : 'telemetry_unavailable';
  return {
    status: 503,
    retryAfterS: o.retryAfterS,
    body: {
      error,
      message: s.reason ?? 'no forecast yet',
      ...(s.quality ? { quality: qualityView(s.quality) } : {}),
      model: modelView(s),
      retry_after_s: o.retryAfterS,
    },
  };
}

/** Persistence from the last good data: busy now held flat, the last good band's widths around it. */
function fallbackSnapshot(good: Snapshot, failed: Snapshot, now: number): Snapshot {
  const f = good.forecast!;
  const H = f.p50.length;
  const p50 = new Float64Array(H).fill(f.busyNow);
  const p10 = new Float64Array(H);
  const p90 = new Float64Array(H);
  for (let h = 0; h < H; h++) {
    p10[h] = Math.max(0, f.busyNow - (f.p50[h] - f.p10[h]));
    p90[h] = Math.min(f.capacity, f.busyNow + (f.p90[h] - f.p50[h]));
  }
  return {
    ...good,
    computedAt: failed.computedAt,
    forecast: { ...f, origin: Math.floor(now / 60) * 60, p50, p10, p90 },
  };
}

function withCapacity(r: HubResult, s: Snapshot, o: ViewOptions, fallbackReason: string | null): View {
  const f = s.forecast!;
  const telemetryCap = Number.isFinite(f.capacity) ? f.capacity : null;
  const busyNow = Math.round(f.busyNow);
  let cap = telemetryCap ?? Math.max(busyNow, 1);
  let source: ForecastBody['capacity']['source'] = 'telemetry';
  if (o.totalNodes !== undefined) {
    if (o.totalNodes < busyNow) {
      return {
        status: 400,
        body: {
          error: 'bad_request',
          field: 'total_nodes',
          message: `total_nodes: ${o.totalNodes} is less than the ${busyNow} nodes busy now in ${s.series.cluster}/${s.series.partition}, expected at least ${busyNow}`,
        },
      };
    }
    cap = o.totalNodes;
    source = 'request';
  }
  // the body depends on the snapshot and the request's capacity and horizon only (plus the age, set per
  // request): memoised per snapshot, so a cached forecast costs a lookup and the serialisation
  const key = `${cap}|${source}|${o.horizon ?? ''}`;
  let memo = fallbackReason ? undefined : bodies.get(s);
  const hit = memo?.get(key);
  if (hit)
    return {
      status: 200,
      body: { ...hit, forecast: { ...hit.forecast, age_s: r2(r.ageS), stale: r.stale } },
    };
  const body = forecastBody(r, s, o, cap, source, telemetryCap, fallbackReason);
  if (!fallbackReason) {
    if (!memo) {
      memo = new Map();
      bodies.set(s, memo);
    }
    if (memo.size < MEMO_PER_SNAPSHOT) memo.set(key, body);
  }
  return { status: 200, body };
}

const MEMO_PER_SNAPSHOT = 64;
const bodies = new WeakMap<Snapshot, Map<string, ForecastBody>>();

function forecastBody(
  r: HubResult,
  s: Snapshot,
  o: ViewOptions,
  cap: number,
  source: ForecastBody['capacity']['source'],
  telemetryCap: number | null,
  fallbackReason: string | null,
): ForecastBody {
  const f = s.forecast!;
  const H = Math.min(o.horizon ?? f.p50.length, f.p50.length);
  const clip = (v: number) => r2(Math.min(Math.max(v, 0), cap));
  const p50 = new Array<number>(H);
  const p10 = new Array<number>(H);
  const p90 = new Array<number>(H);
  const timestamps = new Array<string>(H);
  for (let h = 0; h < H; h++) {
    p50[h] = clip(f.p50[h]);
    p10[h] = Math.min(clip(f.p10[h]), p50[h]);
    p90[h] = Math.max(clip(f.p90[h]), p50[h]);
    timestamps[h] = iso(f.origin + 60 * (h + 1));
  }
  // the controller's peak band at this origin, cut to the answer's horizon (null until calibrated)
  const peakBand = f.peakBand ? { ...f.peakBand, offsets: f.peakBand.offsets.slice(0, H) } : null;
  const band = peakBand ? { H, at: (_bin: number, steps: number) => peakBand.offsets[steps - 1] } : null;
  const pv = powerView(p50, p90, cap, f.busyNow, o.power, s.series.cluster, band, peakBand?.bin ?? 0);
  const q = s.quality!;
  const quality = qualityView(q);
  if (fallbackReason) {
    quality.verdict = 'degraded';
    quality.reasons = [`fallback forecast: ${fallbackReason}`, ...quality.reasons];
  }
  return {
    cluster: s.series.cluster,
    partition: s.series.partition,
    origin: iso(f.origin),
    timestamps,
    p50,
    p10,
    p90,
    peak_band: peakBand,
    power_kw: pv.kw,
    power_kw_all_on: pv.kw_all_on,
    powered_nodes: pv.powered,
    warm_pool: pv.warm_pool,
    capacity: { nodes: cap, source, telemetry: telemetryCap },
    busy_now: r2(f.busyNow),
    quality,
    anomalies: {
      series: anomalyView(s.anomalies!.series),
      residual: s.anomalies!.residual ? anomalyView(s.anomalies!.residual) : null,
    },
    model: modelView(s, fallbackReason),
    forecast: {
      computed_at: iso(s.computedAt),
      age_s: r2(r.ageS),
      stale: r.stale || fallbackReason !== null,
      run_ms: r2(f.runMs),
      refit: f.refit,
      horizon_minutes: H,
    },
  };
}

/** Busy nodes over the lookback for the dashboard (null = missing). */
export function historyView(s: Snapshot): HistoryBody {
  const h = s.history;
  if (!h) return { start: iso(s.minute), step_s: 60, busy: [] as Array<number | null> };
  const busy = new Array<number | null>(h.busy.length);
  for (let i = 0; i < h.busy.length; i++) busy[i] = Number.isFinite(h.busy[i]) ? r2(h.busy[i]) : null;
  return { start: iso(h.start), step_s: 60, busy };
}
