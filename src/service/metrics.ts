import type { HubEvents, SeriesId, Snapshot } from './forecast-hub.js';

/**
 * Prometheus text exposition (format 0.0.4), written by hand: request counts and latency histograms per
 * route, model runs and their duration, data-quality verdicts and flags, anomalies, and (at scrape time)
 * each series' forecast age. Counters only grow; labels are escaped.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

class Histogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS.length);
  sum = 0;
  n = 0;
  observe(s: number): void {
    this.sum += s;
    this.n++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (s <= LATENCY_BUCKETS[i]) this.counts[i]++;
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** A labelled counter keyed by its label set. */
class Counter {
  readonly values = new Map<string, { l: Record<string, string>; v: number }>();
  inc(l: Record<string, string>, by = 1): void {
    const k = labels(l);
    const c = this.values.get(k);
    if (c) c.v += by;
    else this.values.set(k, { l, v: by });
  }
}

export interface SeriesGauge {
  series: SeriesId;
  /** Seconds since the latest forecast was computed (telemetry clock); null before the first. */
  forecastAgeS: number | null;
  lastPointAgeS: number | null;
  ok: boolean;
}

export class Metrics implements HubEvents {
  private readonly requests = new Counter();
  private readonly latency = new Map<string, { l: Record<string, string>; h: Histogram }>();
  private readonly computes = new Counter();
  private readonly computeTime = new Histogram();
  private readonly verdicts = new Counter();
  private readonly flags = new Counter();
  private readonly anomalies = new Counter();
  private readonly started = Date.now() / 1000;

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    const k = `${method} ${route}`;
    let e = this.latency.get(k);
    if (!e) {
      e = { l: { method, route }, h: new Histogram() };
      this.latency.set(k, e);
    }
    e.h.observe(seconds);
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

  render(gauges: SeriesGauge[]): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    const counter = (name: string, help: string, c: Counter) => {
      head(name, 'counter', help);
      for (const { l, v } of c.values.values()) out.push(`${name}${labels(l)} ${v}`);
    };
    const hist = (name: string, l: Record<string, string>, h: Histogram) => {
      LATENCY_BUCKETS.forEach((b, i) => {
        out.push(`${name}_bucket${labels({ ...l, le: String(b) })} ${h.counts[i]}`);
      });
      out.push(`${name}_bucket${labels({ ...l, le: '+Inf' })} ${h.n}`);
      out.push(`${name}_sum${labels(l)} ${h.sum}`, `${name}_count${labels(l)} ${h.n}`);
    };
    counter('pcm_http_requests_total', 'HTTP requests by method, route and status.', this.requests);
    head('pcm_http_request_duration_seconds', 'histogram', 'HTTP request latency by route.');
    for (const { l, h } of this.latency.values()) hist('pcm_http_request_duration_seconds', l, h);
    counter(
      'pcm_forecast_computes_total',
      'Forecast computes (cache misses) by series and outcome.',
      this.computes,
    );
    head(
      'pcm_forecast_compute_seconds',
      'histogram',
      'Time of a forecast compute: telemetry read, quality, model.',
    );
    hist('pcm_forecast_compute_seconds', {}, this.computeTime);
    counter('pcm_quality_verdicts_total', 'Data-quality verdicts of the computes, by series.', this.verdicts);
    counter(
      'pcm_quality_flags_total',
      'Data-quality flags raised by the computes, by series and flag.',
      this.flags,
    );
    counter('pcm_anomalies_total', 'Anomalies flagged by the computes, by series and kind.', this.anomalies);
    head('pcm_forecast_age_seconds', 'gauge', 'Seconds since the latest forecast of a series was computed.');
    for (const g of gauges)
      if (g.forecastAgeS !== null)
        out.push(`pcm_forecast_age_seconds${labels(seriesLabels(g.series))} ${g.forecastAgeS.toFixed(3)}`);
    head('pcm_telemetry_last_point_age_seconds', 'gauge', 'Age of the newest telemetry point of a series.');
    for (const g of gauges)
      if (g.lastPointAgeS !== null)
        out.push(`pcm_telemetry_last_point_age_seconds${labels(seriesLabels(g.series))} ${g.lastPointAgeS}`);
    head('pcm_forecast_available', 'gauge', '1 when the series has a forecast to serve, else 0.');
    for (const g of gauges)
      out.push(`pcm_forecast_available${labels(seriesLabels(g.series))} ${g.ok ? 1 : 0}`);
    head('pcm_process_resident_memory_bytes', 'gauge', 'Resident set size of the service.');
    out.push(`pcm_process_resident_memory_bytes ${process.memoryUsage.rss()}`);
    head('pcm_process_start_time_seconds', 'gauge', 'Start time of the service, epoch seconds.');
    out.push(`pcm_process_start_time_seconds ${this.started}`);
    return `${out.join('\n')}\n`;
  }
}

function seriesLabels(s: SeriesId): Record<string, string> {
  return { cluster: s.cluster, partition: s.partition };
}
