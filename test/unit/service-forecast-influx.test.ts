/**
 * The forecasts written back into InfluxDB: the line-protocol points of one forecast, the writer that sends
 * them one write at a time (keeping them while InfluxDB fails), and the service's sink, whose points carry
 * exactly what /forecast/latest serves. (The Grafana dashboard's queries over them run against a real
 * influxd in test/integration/grafana-queries.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/service/app.js';
import { ForecastSink } from '../../src/service/forecast-sink.js';
import { BaselineModel } from '../../src/service/forecasters.js';
import {
  FORECAST_MEASUREMENT,
  ForecastWriter,
  forecastLines,
  type LineWriter,
  type ServedForecastPoint,
  WARM_POOL_MEASUREMENT,
} from '../../src/telemetry/forecast-writer.js';
import { dailyTimeline, storeWith, testConfig } from '../helpers/service-helpers.js';

const ORIGIN = 1_767_571_200; // 2026-01-05T00:00:00Z

function point(origin = ORIGIN, cluster = 'c'): ServedForecastPoint {
  return {
    cluster,
    partition: '_all',
    origin,
    p10: [40, 38, 35],
    p50: [42, 43, 44.5],
    p90: [45, 48, 52],
    powerKw: [30.1, 30.2, 30.4],
    powerKwAllOn: [40, 40.1, 40.2],
    poweredNodes: [48, 52, 52],
    busyNow: 42,
    capacity: 64,
    warmPool: { nodes: 6, poweredNow: 48, peakP90: 45, bootMinutes: 1 },
    model: 'neural',
  };
}

/** measurement, tags, fields and time of one line (no escapes in these names). */
function parse(line: string) {
  const [head, fields, time] = line.split(' ');
  const [m, ...tags] = head.split(',');
  return {
    m,
    tags: Object.fromEntries(tags.map((t) => t.split('='))),
    fields: Object.fromEntries(fields.split(',').map((f) => f.split('='))),
    time: Number(time),
  };
}

/** A LineWriter that records writes and fails while `down`. */
class FakeInflux implements LineWriter {
  writes: string[][] = [];
  down = false;
  async writeLines(lines: readonly string[]): Promise<void> {
    await Promise.resolve();
    if (this.down) throw new Error('connection refused');
    this.writes.push([...lines]);
  }
}

describe('forecast points', () => {
  it('one pcm_forecast point per horizon at its target minute, one pcm_warm_pool point at the origin', () => {
    const lines = forecastLines(point()).map(parse);
    assert.equal(lines.length, 4);
    lines.slice(0, 3).forEach((l, k) => {
      assert.equal(l.m, FORECAST_MEASUREMENT);
      assert.deepEqual(l.tags, { cluster: 'c', horizon: String(k + 1), partition: '_all' });
      assert.equal(l.time, ORIGIN + 60 * (k + 1));
    });
    assert.deepEqual(lines[2].fields, {
      p10: '35',
      p50: '44.5',
      p90: '52',
      power_kw: '30.4',
      power_kw_all_on: '40.2',
      powered_nodes: '52',
    });
    const pool = lines[3];
    assert.equal(pool.m, WARM_POOL_MEASUREMENT);
    assert.deepEqual(pool.tags, { cluster: 'c', partition: '_all' });
    assert.equal(pool.time, ORIGIN);
    assert.deepEqual(pool.fields, {
      nodes: '6',
      powered_now: '48',
      busy_now: '42',
      peak_p90_boot: '45',
      p50_peak: '44.5',
      p90_peak: '52',
      boot_minutes: '1',
      capacity: '64',
      power_kw: '30.1',
      power_kw_all_on: '40',
      model: '"neural"',
    });
  });

  it('refuses a tag value that cannot be written, naming it', () => {
    assert.throws(() => forecastLines(point(ORIGIN, 'a\nb')), /tag cluster must not contain a newline/);
  });
});

describe('forecast writer', () => {
  it('writes each series-minute once, keeps forecasts while InfluxDB fails and says so once', async () => {
    const influx = new FakeInflux();
    const notes: string[] = [];
    const w = new ForecastWriter(influx, {
      maxPending: 3,
      onError: (m) => notes.push(`error: ${m}`),
      onRecover: (m) => notes.push(`ok: ${m}`),
    });
    w.push(point(ORIGIN));
    w.push(point(ORIGIN)); // a recompute of the same minute
    await w.idle();
    assert.equal(influx.writes.length, 1);
    assert.equal(influx.writes[0].length, 4);

    influx.down = true;
    for (let k = 1; k <= 4; k++) {
      w.push(point(ORIGIN + 60 * k));
      await w.idle();
    }
    assert.equal(notes.length, 1, 'one note per outage');
    assert.match(
      notes[0],
      /^error: writing forecasts to InfluxDB failed \(connection refused\); keeping up to 3/,
    );
    assert.equal(w.stats.failures, 4);
    assert.equal(w.stats.dropped, 1, 'four minutes kept at most three');

    influx.down = false;
    w.push(point(ORIGIN + 300));
    await w.idle();
    // the newest three (the bound), oldest first, in one write
    const times = influx.writes[1]
      .filter((l) => l.startsWith(WARM_POOL_MEASUREMENT))
      .map((l) => parse(l).time);
    assert.deepEqual(times, [ORIGIN + 180, ORIGIN + 240, ORIGIN + 300]);
    assert.match(notes[1], /^ok: forecasts are written to InfluxDB again \(3 sent\)/);
    assert.deepEqual(w.stats, { written: 4, dropped: 2, failures: 4 });
  });
});

describe('the service writes what it serves', () => {
  it("each new minute's forecast, equal to /forecast/latest", async () => {
    const { store, clock } = storeWith(dailyTimeline(600));
    const cfg = testConfig(
      'Cluster:\n  Name: c\nService:\n  Baseline: persistence\n  IngestGraceSeconds: 0\n',
    );
    const influx = new FakeInflux();
    const writer = new ForecastWriter(influx);
    const { app, hub } = buildApp({
      config: cfg,
      reader: store,
      forecaster: new BaselineModel('persistence', cfg.Service.ContextMinutes, cfg.Service.RefitMinutes, {}),
      clock: clock.now,
      forecastSink: new ForecastSink(writer, cfg.Power),
    });
    const latest = (await app.inject({ method: 'GET', url: '/forecast/latest' })).json();
    await hub.refresh({ cluster: 'c', partition: '_all' }); // the same minute again: not written twice
    await writer.idle();
    assert.equal(influx.writes.length, 1);
    const lines = influx.writes[0].map(parse);
    const origin = Date.parse(latest.origin) / 1000;
    const h30 = lines.find((l) => l.m === FORECAST_MEASUREMENT && l.tags.horizon === '30');
    assert.ok(h30);
    assert.equal(h30.time, origin + 1800);
    assert.equal(Number(h30.fields.p50), latest.p50[29]);
    assert.equal(Number(h30.fields.p10), latest.p10[29]);
    assert.equal(Number(h30.fields.p90), latest.p90[29]);
    assert.equal(Number(h30.fields.power_kw), latest.power_kw[29]);
    const pool = lines.find((l) => l.m === WARM_POOL_MEASUREMENT);
    assert.ok(pool);
    assert.equal(pool.time, origin);
    assert.equal(Number(pool.fields.nodes), latest.warm_pool.nodes);
    assert.equal(Number(pool.fields.busy_now), latest.busy_now);
    assert.equal(pool.fields.model, `"${latest.model.ran}"`);
    // the next minute is written again
    const last = (await store.recent('c', '_all', 1))[0];
    clock.t += 60;
    await store.write([{ ...last, time: last.time + 60 }]);
    await hub.refresh({ cluster: 'c', partition: '_all' });
    await writer.idle();
    assert.equal(influx.writes.length, 2);
  });
});
