import { loadConfig, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { buildApp } from '../../src/service/app.js';
import { BaselineModel } from '../../src/service/forecasters.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import type { TelemetryRow } from '../../src/telemetry/schema.js';
import type { TelemetryReader } from '../../src/telemetry/types.js';
import type { Timeline } from '../../src/timeline/columns.js';
import { rng, syntheticTimeline } from './model-synthetic.js';

/** Shared set-up of the service tests: a synthetic busy series in a real memory store, a settable clock. */

/** 2026-01-05 00:00 UTC (a Monday), a whole minute. */
export const T0 = Date.UTC(2026, 0, 5) / 1000;

/** Daily cycle between ~30 and ~90 of 120 nodes plus noise, `minutes` rows from `start`. */
export function dailyTimeline(minutes: number, start = T0, capacity = 120, seed = 1): Timeline {
  const r = rng(seed);
  return syntheticTimeline({
    start,
    minutes,
    capacity,
    busy: (t) => Math.round(60 + 30 * Math.sin((2 * Math.PI * t) / 1440) + 4 * (r() - 0.5)),
    columns: { running_jobs: (t) => 10 + (t % 7), queued_nodes: (t) => t % 13 },
  });
}

export class Clock {
  constructor(public t: number) {}
  now = () => this.t;
}

export function testConfig(yaml = ''): Config {
  return yaml ? parseConfig(yaml, 'test', {}) : loadConfig(undefined, {});
}

/** A memory store holding `tl` as series (c, _all), and a clock at its last row + `ageS`. */
export function storeWith(tl: Timeline, ageS = 10, cluster = 'c'): { store: MemoryStore; clock: Clock } {
  const clock = new Clock(tl.start + 60 * (tl.minutes - 1) + ageS);
  const store = new MemoryStore({ now: clock.now });
  store.loadTimeline(tl, cluster, '_all');
  return { store, clock };
}

/** The service over a store: Cluster.Name `c`, persistence baseline unless the config says otherwise. */
export function serviceOver(reader: TelemetryReader, clock: Clock, yaml = '', env: NodeJS.ProcessEnv = {}) {
  // no ingest grace unless asked: the clocks here sit seconds after the last row
  const base =
    (yaml.includes('Baseline:') ? '' : '  Baseline: persistence\n') +
    (yaml.includes('IngestGraceSeconds:') ? '' : '  IngestGraceSeconds: 0\n');
  const cfg = testConfig(`Cluster:\n  Name: c\nService:\n${base}${yaml}`);
  const model = new BaselineModel(
    cfg.Service.Baseline,
    cfg.Service.ContextMinutes,
    cfg.Service.RefitMinutes,
    {},
    cfg.Power.Predictive.PeakQuantile,
  );
  return { cfg, ...buildApp({ config: cfg, reader, forecaster: model, clock: clock.now, env }) };
}

/**
 * A reader in front of a real store that counts reads and can hold them until released (to look at the
 * hub while a compute is in progress), or fail them (telemetry down).
 */
export class GatedReader implements TelemetryReader {
  reads = 0;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  fail: Error | null = null;
  constructor(private readonly inner: TelemetryReader) {}
  hold(): void {
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }
  release(): void {
    this.open?.();
    this.gate = null;
  }
  async recent(cluster: string, partition: string, minutes: number): Promise<TelemetryRow[]> {
    this.reads++;
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    return this.inner.recent(cluster, partition, minutes);
  }
}
