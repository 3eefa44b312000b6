/**
 * Every InfluxQL query of deploy/grafana/ (the dashboard's template variables and panels, the alert rules)
 * against the real influxd of scripts/services/up.sh (PCM_TEST_INFLUX_URL), over data written the way
 * production writes it: 6 hours of telemetry rows by the project's InfluxWriter (as pcm collect), and an
 * hour of forecasts, one per minute, by the service's ForecastSink (as pcm serve with
 * Service.WriteForecasts). Grafana itself cannot be installed from our package sources: its macros are
 * expanded here as Grafana does (test/helpers/grafana.ts). Each query must run without an error and return
 * data; the alert rule's two sides must come back per cluster, so Grafana's math expression can join them.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/service/app.js';
import { ForecastSink } from '../../src/service/forecast-sink.js';
import { BaselineModel } from '../../src/service/forecasters.js';
import { ForecastWriter } from '../../src/telemetry/forecast-writer.js';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { rowOfTimeline } from '../../src/telemetry/schema.js';
import { alertQueries, dashboardQueries, expand } from '../helpers/grafana.js';
import { Clock, dailyTimeline } from '../helpers/service-helpers.js';

const env = process.env;
const skip = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh, or set PCM_SKIP_INTEGRATION=1 to skip';
const DB = `pcm_grafana_${process.pid}_${Date.now().toString(36)}`;
const CLUSTER = 'graf';

function influxUrl(): string {
  if (!env.PCM_TEST_INFLUX_URL) throw new Error(`integration env missing (PCM_TEST_INFLUX_URL): ${HINT}`);
  return env.PCM_TEST_INFLUX_URL;
}

describe('Grafana queries against a real influxd', { skip }, () => {
  let reader: InfluxReader;

  before(async () => {
    const url = influxUrl();
    const opts = { url, database: DB, timeoutMs: 5000, retries: 0, backoffMs: 50 };
    reader = new InfluxReader(opts);
    await reader.query(`CREATE DATABASE "${DB}"`, 'POST');
    const influx = new InfluxWriter(opts);
    // telemetry: the last 6 hours up to this minute (pcm collect's part)
    const now = Math.floor(Date.now() / 60_000) * 60;
    const tl = dailyTimeline(361, now - 360 * 60);
    const rows = Array.from({ length: tl.minutes }, (_, i) => rowOfTimeline(tl, i, CLUSTER, '_all'));
    await influx.write(rows);
    // forecasts: the service over the same rows, one compute per minute over the last hour (pcm serve's
    // part), each written by the sink as in production
    const clock = new Clock(now - 3600);
    const store = new MemoryStore({ now: clock.now });
    await store.write(rows.filter((r) => r.time < now - 3600));
    const cfg = parseConfig(
      `Cluster:\n  Name: ${CLUSTER}\n  Nodes: 120\nService:\n  Baseline: persistence\n  IngestGraceSeconds: 0\n`,
      'test',
      {},
    );
    const errors: string[] = [];
    const writer = new ForecastWriter(influx, { onError: (m) => errors.push(m) });
    const { hub } = buildApp({
      config: cfg,
      reader: store,
      forecaster: new BaselineModel('persistence', cfg.Service.ContextMinutes, cfg.Service.RefitMinutes, {}),
      clock: clock.now,
      forecastSink: new ForecastSink(writer, cfg.Power),
    });
    for (let t = now - 3600; t <= now; t += 60) {
      // the minute's row arrives, then the service forecasts from it
      await store.write(rows.filter((r) => r.time === t));
      clock.t = t + 1;
      await hub.refresh({ cluster: CLUSTER, partition: '_all' });
      await writer.idle();
    }
    assert.deepEqual(errors, []);
    assert.equal(writer.stats.written, 61, 'one forecast per minute written');
  });

  after(async () => {
    await reader?.query(`DROP DATABASE "${DB}"`, 'POST').catch(() => {});
  });

  /** Run a query; the values of every non-time column of every series it returns. */
  async function run(q: string): Promise<Array<{ tags: Record<string, string>; values: unknown[] }>> {
    const ans = await reader.query(q);
    const out: Array<{ tags: Record<string, string>; values: unknown[] }> = [];
    for (const s of ans.results[0]?.series ?? []) {
      const vals: unknown[] = [];
      for (const v of s.values ?? [])
        for (let k = 0; k < v.length; k++) if (s.columns[k] !== 'time') vals.push(v[k]);
      out.push({ tags: s.tags ?? {}, values: vals });
    }
    return out;
  }

  for (const q of dashboardQueries()) {
    it(`dashboard: ${q.where}`, async () => {
      const sql = expand(q, { cluster: CLUSTER, partition: '_all' });
      const series = await run(sql);
      assert.ok(series.length > 0, `no series from ${sql}`);
      const vals = series.flatMap((s) => s.values).filter((v) => v !== null);
      assert.ok(vals.length > 0, `only nulls from ${sql}`);
      if (q.where.startsWith('variable cluster')) assert.ok(vals.includes(CLUSTER), String(vals));
    });
  }

  for (const q of alertQueries()) {
    it(`alert rule: ${q.where}`, async () => {
      const sql = expand(q, {});
      const series = await run(sql);
      const ours = series.filter((s) => s.tags.cluster === CLUSTER);
      assert.equal(ours.length, 1, `one series for cluster ${CLUSTER} from ${sql} (Grafana joins on it)`);
      const nums = ours[0].values.filter((v): v is number => typeof v === 'number');
      assert.ok(nums.length > 0 && nums.every(Number.isFinite), `numbers from ${sql}: ${ours[0].values}`);
    });
  }
});
