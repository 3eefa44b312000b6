import type { PowerConfig } from '../power/config.js';
import type { ForecastHub, SeriesId, Snapshot } from './forecast-hub.js';
import { forecastView } from './forecast-view.js';
import type { SeriesGauge } from './metrics.js';
import type { HealthBody, SeriesHealthBody } from './schemas.js';

/**
 * Liveness and readiness from the hub's latest snapshots (no I/O: /health never hits InfluxDB itself;
 * the hub's reads every RefreshSeconds are the probe).
 * ready: the model is loaded and at least one series has a forecast to serve.
 * status: `ok` when every series has a forecast from fresh data with quality ok, else `degraded`.
 * The full report (reasons in words, the InfluxDB endpoint, per-series detail) is for authenticated
 * requests; anyone else gets `publicHealth`: status and reasons by code only.
 */
export interface HealthReport extends HealthBody {
  /** One code per reason, same order: `influx_unreachable`, `<series>:no_forecast_yet|no_forecast|error|telemetry_degraded`. */
  codes: string[];
}

const UNREACHABLE = new Set([
  'unreachable',
  'timeout',
  'server',
  'garbage',
  'auth',
  'not_found',
  'bad_request',
]);

export function healthReport(
  hub: ForecastHub,
  backend: { kind: 'influx' | 'memory'; describe: string },
  clock: () => number,
  startedAt: number,
): HealthReport {
  const now = clock();
  const reasons: string[] = [];
  const codes: string[] = [];
  const say = (code: string, text: string) => {
    codes.push(code);
    reasons.push(text);
  };
  let fresh = true;
  let reachable = (backend.kind === 'influx' ? true : null) as boolean | null;
  let anyReady = false;
  let allOk = true;
  const series = hub.series().map((id): SeriesHealthBody => {
    const s = hub.peek(id);
    const name = `${id.cluster}/${id.partition}`;
    if (!s) {
      fresh = false;
      allOk = false;
      say(`${name}:no_forecast_yet`, `${name}: no forecast computed yet`);
      return { cluster: id.cluster, partition: id.partition, status: 'pending' };
    }
    if (s.status === 'ok') anyReady = true;
    else {
      allOk = false;
      say(`${name}:${s.status}`, `${name}: ${s.reason}`);
    }
    if (s.status === 'error' && s.errorKind && UNREACHABLE.has(s.errorKind) && backend.kind === 'influx')
      reachable = false;
    const age = s.quality?.lastPointAgeS ?? null;
    if (
      s.status === 'error' ||
      age === null ||
      s.quality?.flags.includes('stale') ||
      s.quality?.flags.includes('no_data')
    )
      fresh = false;
    if (s.quality && s.quality.verdict !== 'ok') {
      allOk = false;
      // a forecast is served but flagged: say why (no_forecast / error already gave their reason)
      if (s.status === 'ok')
        say(
          `${name}:telemetry_${s.quality.verdict}`,
          `${name}: telemetry ${s.quality.verdict}: ${s.quality.reasons[0] ?? s.quality.flags.join(', ')}`,
        );
    }
    return seriesHealth(id, s, now);
  });
  if (reachable === false) {
    codes.unshift('influx_unreachable');
    reasons.unshift(`InfluxDB unreachable or failing (${backend.describe})`);
  }
  return {
    status: allOk && fresh && series.length > 0 ? 'ok' : 'degraded',
    live: true,
    ready: anyReady,
    reasons,
    codes,
    checks: {
      model_loaded: true,
      telemetry_fresh: fresh,
      telemetry_backend: backend.describe,
      influx_reachable: reachable,
    },
    series,
    uptime_s: Math.round(Date.now() / 1000 - startedAt),
  };
}

/**
 * What an unauthenticated /health shows: status, readiness and the reasons as codes; no endpoint, no
 * error text, no per-series reasons, ages or model names.
 */
export function publicHealth(h: HealthReport, backendKind: 'influx' | 'memory'): HealthBody {
  return {
    status: h.status,
    live: h.live,
    ready: h.ready,
    reasons: h.codes,
    checks: { ...h.checks, telemetry_backend: backendKind },
    series: h.series.map((s) => ({ cluster: s.cluster, partition: s.partition, status: s.status })),
    uptime_s: h.uptime_s,
  };
}

function seriesHealth(id: SeriesId, s: Snapshot, now: number): SeriesHealthBody {
  const anomalies = [...(s.anomalies?.series.flags ?? []), ...(s.anomalies?.residual?.flags ?? [])];
  return {
    cluster: id.cluster,
    partition: id.partition,
    status: s.status,
    reason: s.reason,
    quality: s.quality ? s.quality.verdict : null,
    flags: s.quality?.flags ?? [],
    last_point_age_s: s.quality?.lastPointAgeS ?? null,
    forecast_age_s: Math.max(0, now - s.computedAt),
    model: s.forecast?.ran ?? s.model.name,
    anomalies: anomalies.map((a) => ({
      kind: a.kind,
      time: new Date(a.time * 1000).toISOString(),
      score: Math.round(a.score * 100) / 100,
    })),
  };
}

/** The per-series figures /metrics reports at scrape time; the forecast's as /predict would answer it. */
export function seriesGauges(hub: ForecastHub, clock: () => number, power: PowerConfig): SeriesGauge[] {
  const now = clock();
  return hub.series().map((id) => {
    const s = hub.peek(id);
    let forecast: SeriesGauge['forecast'] = null;
    if (s?.status === 'ok') {
      const ageS = Math.max(0, now - s.computedAt);
      const v = forecastView(
        { snap: s, stale: false, ageS, lastGood: null },
        { power, fallbackToBaseline: false, now, retryAfterS: 0 },
      );
      if (v.status === 200)
        forecast = {
          p50Peak: Math.max(...v.body.p50),
          p90Peak: Math.max(...v.body.p90),
          warmPoolNodes: v.body.warm_pool.nodes,
        };
    }
    return {
      series: id,
      forecastAgeS: s ? Math.max(0, now - s.computedAt) : null,
      lastPointAgeS: s?.quality?.lastPointAgeS ?? null,
      ok: s?.status === 'ok',
      forecast,
    };
  });
}
