import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HubEvents, SeriesId, Snapshot } from './forecast-hub.js';

/**
 * The service's Prometheus metrics (prom-client): request counts and latency histograms per route, model
 * runs and their duration, data-quality verdicts and flags, anomalies, and, set at scrape time, each
 * series' forecast age and what its latest forecast says (peak P50/P90 over the horizon, warm pool).
 * Node's process metrics (CPU, RSS, heap, GC, event-loop lag, handles) come from prom-client's defaults
 * under their standard names (`process_*`, `nodejs_*`), once per process.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

const SERIES = ['cluster', 'partition'] as const;

/** What /metrics reports per series at scrape time (health.ts `seriesGauges` computes it). */
export interface SeriesGauge {
  series: SeriesId;
  /** Seconds since the latest forecast was computed (telemetry clock); null before the first. */
  forecastAgeS: number | null;
  lastPointAgeS: number | null;
  ok: boolean;
  /** The latest forecast at the telemetry's capacity over the whole horizon; null without one. */
  forecast: { p50Peak: number; p90Peak: number; warmPoolNodes: number } | null;
}

/** Default process metrics: one registry per process (their collectors watch the whole process). */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics implements HubEvents {
  /** This service's own metrics (one registry per app, so that apps in one process do not mix). */
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly computes: Counter<'cluster' | 'partition' | 'status'>;
  private readonly computeTime: Histogram;
  private readonly verdicts: Counter<'cluster' | 'partition' | 'verdict'>;
  private readonly flags: Counter<'cluster' | 'partition' | 'flag'>;
  private readonly anomalies: Counter<'cluster' | 'partition' | 'kind'>;
  private readonly forecastAge: Gauge<'cluster' | 'partition'>;
  private readonly lastPointAge: Gauge<'cluster' | 'partition'>;
  private readonly available: Gauge<'cluster' | 'partition'>;
  private readonly p50Peak: Gauge<'cluster' | 'partition'>;
  private readonly p90Peak: Gauge<'cluster' | 'partition'>;
  private readonly warmPool: Gauge<'cluster' | 'partition'>;

  /** @param horizon forecast minutes (Predictor.ForecastMinutes), for the peak gauges' help text */
  constructor(horizon = 30) {
    const registers = [this.registry];
    processMetrics();
    this.requests = new Counter({
      name: 'pcm_http_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'pcm_http_request_duration_seconds',
      help: 'HTTP request latency by route.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.computes = new Counter({
      name: 'pcm_forecast_computes_total',
      help: 'Forecast computes (cache misses) by series and outcome.',
      labelNames: [...SERIES, 'status'],
      registers,
    });
    this.computeTime = new Histogram({
      name: 'pcm_forecast_compute_seconds',
      help: 'Time of a forecast compute: telemetry read, quality, model.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.verdicts = new Counter({
      name: 'pcm_quality_verdicts_total',
      help: 'Data-quality verdicts of the computes, by series.',
      labelNames: [...SERIES, 'verdict'],
      registers,
    });
    this.flags = new Counter({
      name: 'pcm_quality_flags_total',
      help: 'Data-quality flags raised by the computes, by series and flag.',
      labelNames: [...SERIES, 'flag'],
      registers,
    });
    this.anomalies = new Counter({
      name: 'pcm_anomalies_total',
      help: 'Anomalies flagged by the computes, by series and kind.',
      labelNames: [...SERIES, 'kind'],
      registers,
    });
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: SERIES, registers });
    this.forecastAge = gauge(
      'pcm_forecast_age_seconds',
      'Seconds since the latest forecast of a series was computed.',
    );
    this.lastPointAge = gauge(
      'pcm_telemetry_last_point_age_seconds',
      'Age of the newest telemetry point of a series.',
    );
    this.available = gauge('pcm_forecast_available', '1 when the series has a forecast to serve, else 0.');
    this.p50Peak = gauge(
      'pcm_forecast_p50_peak_busy_nodes',
      `Highest P50 of busy nodes over the next ${horizon} minutes (latest forecast, telemetry capacity).`,
    );
    this.p90Peak = gauge(
      'pcm_forecast_p90_peak_busy_nodes',
      `Highest P90 of busy nodes over the next ${horizon} minutes (latest forecast, telemetry capacity).`,
    );
    this.warmPool = gauge(
      'pcm_warm_pool_nodes',
      'Idle nodes to keep powered now (warm pool of the latest forecast, see /predict warm_pool).',
    );
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  onCompute(series: SeriesId, snap: Snapshot, ms: number): void {
    const s = { cluster: series.cluster, partition: series.partition };
    this.computes.inc({ ...s, status: snap.status });
    this.computeTime.observe(ms / 1000);
    if (snap.quality) {
      this.verdicts.inc({ ...s, verdict: snap.quality.verdict });
      for (const f of snap.quality.flags) this.flags.inc({ ...s, flag: f });
    }
    if (snap.anomalies) {
      for (const a of snap.anomalies.series.flags) this.anomalies.inc({ ...s, kind: a.kind });
      for (const a of snap.anomalies.residual?.flags ?? []) this.anomalies.inc({ ...s, kind: a.kind });
    }
  }

  /** The exposition (text format 0.0.4): the scrape-time gauges set from `gauges`, then every metric. */
  async render(gauges: SeriesGauge[]): Promise<string> {
    for (const g of [this.forecastAge, this.lastPointAge, this.p50Peak, this.p90Peak, this.warmPool])
      g.reset();
    for (const g of gauges) {
      const l = { cluster: g.series.cluster, partition: g.series.partition };
      if (g.forecastAgeS !== null) this.forecastAge.set(l, Math.round(g.forecastAgeS * 1000) / 1000);
      if (g.lastPointAgeS !== null) this.lastPointAge.set(l, g.lastPointAgeS);
      this.available.set(l, g.ok ? 1 : 0);
      if (g.forecast) {
        this.p50Peak.set(l, g.forecast.p50Peak);
        this.p90Peak.set(l, g.forecast.p90Peak);
        this.warmPool.set(l, g.forecast.warmPoolNodes);
      }
    }
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
