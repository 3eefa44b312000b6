import { errorMessage } from '../util/errors.js';
import { formatPoint } from './line-protocol.js';

/**
 * The service's forecasts written back into InfluxDB, where admins already look (Grafana: forecast against
 * actual, alerts; deploy/grafana/). Each minute's forecast of each series becomes:
 *
 *   pcm_forecast,cluster=C,partition=P,horizon=H  p10=,p50=,p90=,power_kw=,power_kw_all_on=,powered_nodes=  <origin + 60 H>
 *     one point per horizon H = 1..30 (minutes ahead), at its target minute: the P10/P50/P90 busy nodes and
 *     the power view (kW under the warm-pool policy and with every node on, nodes kept powered) there, so
 *     `WHERE horizon = '30'` over a time range is the forecast made 30 minutes before each minute;
 *   pcm_warm_pool,cluster=C,partition=P  nodes=,powered_now=,busy_now=,peak_p90_boot=,p50_peak=,p90_peak=,
 *     boot_minutes=,capacity=,power_kw=,power_kw_all_on=,model="..."  <origin>
 *     one point per forecast, at its origin: the warm-pool advice (idle nodes to keep on, nodes to keep
 *     powered, the P90 peak within the boot time), the P50/P90 peaks of the whole horizon, kW now.
 *
 * The values are the service's answer (/forecast/latest) for that minute, whatever serves it. Writes are
 * one at a time and never hold up a forecast: while one is in flight the next forecasts wait (at most
 * `maxPending`, the oldest dropped and counted); a failed write keeps its lines for the next try.
 */

export const FORECAST_MEASUREMENT = 'pcm_forecast';
export const WARM_POOL_MEASUREMENT = 'pcm_warm_pool';
/** Field names of the two measurements (deploy/grafana/ queries them; a test keeps the two in step). */
export const FORECAST_FIELDS = ['p10', 'p50', 'p90', 'power_kw', 'power_kw_all_on', 'powered_nodes'] as const;
export const WARM_POOL_FIELDS = [
  'nodes',
  'powered_now',
  'busy_now',
  'peak_p90_boot',
  'p50_peak',
  'p90_peak',
  'boot_minutes',
  'capacity',
  'power_kw',
  'power_kw_all_on',
  'model',
] as const;

/** One forecast of one series, as served. Arrays are per horizon h = 1..H (index h - 1). */
export interface ServedForecastPoint {
  cluster: string;
  partition: string;
  /** Epoch s of the origin (a whole minute). */
  origin: number;
  p10: number[];
  p50: number[];
  p90: number[];
  powerKw: number[];
  powerKwAllOn: number[];
  poweredNodes: number[];
  busyNow: number;
  capacity: number;
  warmPool: { nodes: number; poweredNow: number; peakP90: number; bootMinutes: number };
  /** The forecaster that ran. */
  model: string;
}

/** The line-protocol lines of one forecast (seconds precision). */
export function forecastLines(f: ServedForecastPoint): string[] {
  const tags = { cluster: f.cluster, partition: f.partition };
  const out: string[] = [];
  let p50Peak = Number.NEGATIVE_INFINITY;
  let p90Peak = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < f.p50.length; k++) {
    p50Peak = Math.max(p50Peak, f.p50[k]);
    p90Peak = Math.max(p90Peak, f.p90[k]);
    const line = formatPoint(
      FORECAST_MEASUREMENT,
      { ...tags, horizon: String(k + 1) },
      {
        p10: f.p10[k],
        p50: f.p50[k],
        p90: f.p90[k],
        power_kw: f.powerKw[k],
        power_kw_all_on: f.powerKwAllOn[k],
        powered_nodes: f.poweredNodes[k],
      } satisfies Record<(typeof FORECAST_FIELDS)[number], number>,
      f.origin + 60 * (k + 1),
    );
    if (line) out.push(line);
  }
  const pool = formatPoint(
    WARM_POOL_MEASUREMENT,
    tags,
    {
      nodes: f.warmPool.nodes,
      powered_now: f.warmPool.poweredNow,
      busy_now: f.busyNow,
      peak_p90_boot: f.warmPool.peakP90,
      p50_peak: p50Peak,
      p90_peak: p90Peak,
      boot_minutes: f.warmPool.bootMinutes,
      capacity: f.capacity,
      power_kw: f.powerKw[0] ?? Number.NaN,
      power_kw_all_on: f.powerKwAllOn[0] ?? Number.NaN,
      model: f.model,
    } satisfies Record<(typeof WARM_POOL_FIELDS)[number], number | string>,
    f.origin,
  );
  if (pool) out.push(pool);
  return out;
}

/** Where the lines go: InfluxWriter.writeLines (retries included). */
export interface LineWriter {
  writeLines(lines: readonly string[]): Promise<void>;
}

export interface ForecastWriterOptions {
  /** Forecasts kept while writes fail or are in flight (default 120: two hours of one series). */
  maxPending?: number;
  /** A write failed (once per outage: after a success, the next failure is reported again). */
  onError?: (message: string) => void;
  /** Writes work again after failures. */
  onRecover?: (message: string) => void;
}

export class ForecastWriter {
  private pending: Array<{ key: string; lines: string[] }> = [];
  private inflight: Promise<void> | null = null;
  private readonly last = new Map<string, number>();
  private failing = false;
  /** Forecasts written, dropped (too many pending), and failed write attempts. */
  readonly stats = { written: 0, dropped: 0, failures: 0 };
  private readonly maxPending: number;

  constructor(
    private readonly out: LineWriter,
    private readonly o: ForecastWriterOptions = {},
  ) {
    this.maxPending = o.maxPending ?? 120;
  }

  /** Queue a forecast (once per series and origin: a recompute of the same minute is not written again). */
  push(f: ServedForecastPoint): void {
    const key = `${f.cluster}\u0000${f.partition}`;
    if (this.last.get(key) === f.origin) return;
    this.last.set(key, f.origin);
    this.pending.push({ key, lines: forecastLines(f) });
    if (this.pending.length > this.maxPending) {
      this.stats.dropped += this.pending.length - this.maxPending;
      this.pending.splice(0, this.pending.length - this.maxPending);
    }
    this.kick();
  }

  /** Resolves when nothing is in flight (pending forecasts after a failure wait for the next push). */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private kick(): void {
    if (this.inflight || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.inflight = this.out
      .writeLines(batch.flatMap((b) => b.lines))
      .then(
        () => {
          this.stats.written += batch.length;
          if (this.failing) {
            this.failing = false;
            this.o.onRecover?.(`forecasts are written to InfluxDB again (${batch.length} sent)`);
          }
        },
        (e) => {
          this.stats.failures++;
          // keep them (oldest first) for the next try, within the bound
          const all = [...batch, ...this.pending];
          this.stats.dropped += Math.max(0, all.length - this.maxPending);
          this.pending = all.slice(-this.maxPending);
          if (!this.failing) {
            this.failing = true;
            this.o.onError?.(
              `writing forecasts to InfluxDB failed (${errorMessage(e)}); keeping up to ${this.maxPending} and trying again with the next one`,
            );
          }
        },
      )
      .finally(() => {
        this.inflight = null;
        if (!this.failing) this.kick();
      });
  }
}
