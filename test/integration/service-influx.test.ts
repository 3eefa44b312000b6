/**
 * The service against the real influxd started by scripts/services/up.sh (PCM_TEST_INFLUX_URL): telemetry
 * rows written with the project's writer, /predict answers from them; then influxd is STOPPED
 * (scripts/services/influxdb.sh stop): the service stays up, /health says degraded and InfluxDB
 * unreachable, /predict answers 503 with the reason; influxd is started again (data kept) and the
 * service recovers by itself, within a minute, with no request needed.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); PCM_SKIP_INTEGRATION=1 skips.
 * Stops and restarts the shared influxd: run integration tests one at a time (run-tests.sh does).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/service/app.js';
import { loadForecaster } from '../../src/service/forecasters.js';
import { openTelemetry } from '../../src/telemetry/index.js';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';

const run = promisify(execFile);
const env = process.env;
const skip = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh, or set PCM_SKIP_INTEGRATION=1 to skip';
const DB = `pcm_svc_${process.pid}_${Date.now().toString(36)}`;

function influxUrl(): string {
  if (!env.PCM_TEST_INFLUX_URL) throw new Error(`integration env missing (PCM_TEST_INFLUX_URL): ${HINT}`);
  return env.PCM_TEST_INFLUX_URL;
}

/** scripts/services/influxdb.sh start|stop on the port of PCM_TEST_INFLUX_URL, keeping its data. */
async function influxd(cmd: 'start' | 'stop'): Promise<void> {
  const port = new URL(influxUrl()).port || '8086';
  await run('bash', ['scripts/services/influxdb.sh', cmd], {
    env: { ...env, PCM_INFLUX_PORT: port, PCM_SERVICES_KEEP_DATA: '1' },
  });
}

function row(time: number): TelemetryRow {
  const values = zeroValues();
  const m = time / 60;
  values.busy_nodes = Math.round(40 + 12 * Math.sin(m / 37) + (m % 5));
  values.running_jobs = 10 + (m % 3);
  values.queued_nodes = m % 11;
  values.cpu_util = values.busy_nodes / 64;
  return { time, cluster: 'svc', partition: '_all', capacity: 64, totalCpus: 256, values };
}

async function until<T>(what: string, f: () => Promise<T | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

describe('service against a real influxd that goes away and comes back', { skip }, () => {
  let built: ReturnType<typeof buildApp>;
  let feeder: NodeJS.Timeout | null = null;
  const minuteNow = () => Math.floor(Date.now() / 60_000) * 60;

  before(async () => {
    const url = influxUrl();
    const admin = new InfluxReader({ url, database: DB, timeoutMs: 5000, retries: 0, backoffMs: 50 });
    await admin.query(`CREATE DATABASE "${DB}"`, 'POST');
    const writer = new InfluxWriter({ url, database: DB, timeoutMs: 5000, retries: 0, backoffMs: 50 });
    const now = minuteNow();
    await writer.write(Array.from({ length: 300 }, (_, i) => row(now - 60 * (299 - i))));
    // the collector's part: the current minute's row every 2 s (failures while influxd is down are expected)
    feeder = setInterval(() => void writer.write([row(minuteNow())]).catch(() => {}), 2000);
    const cfg = parseConfig(
      `InfluxDB:\n  URL: ${url}\n  Database: ${DB}\n  TimeoutMs: 2000\nCluster:\n  Name: svc\n  Nodes: 64\n` +
        'Service:\n  RefreshSeconds: 1\n  Baseline: ridge\n  ContextMinutes: 300\n',
      'test',
      {},
    );
    const tel = openTelemetry(cfg);
    const model = await loadForecaster(cfg);
    built = buildApp({
      config: cfg,
      reader: tel.reader,
      forecaster: model,
      backend: { kind: tel.kind, describe: tel.describe },
    });
    built.hub.start();
  });

  after(async () => {
    if (feeder) clearInterval(feeder);
    built?.hub.stop();
    await built?.app.close();
    await influxd('start'); // leave the shared influxd running whatever happened
    const admin = new InfluxReader({
      url: influxUrl(),
      database: DB,
      timeoutMs: 5000,
      retries: 0,
      backoffMs: 50,
    });
    await admin.query(`DROP DATABASE "${DB}"`, 'POST').catch(() => {});
  });

  const predict = () => built.app.inject({ method: 'POST', url: '/predict', payload: { total_nodes: 64 } });
  const health = () => built.app.inject({ method: 'GET', url: '/health' });

  it('answers /predict from the telemetry in InfluxDB', async () => {
    const r = await predict();
    assert.equal(r.statusCode, 200, r.body);
    const b = r.json();
    assert.equal(b.p50.length, 30);
    assert.equal(b.quality.history_minutes, 240);
    assert.equal(b.model.name, 'ridge');
    const h = (await health()).json();
    assert.equal(h.checks.influx_reachable, true);
    assert.equal(h.checks.telemetry_backend, 'influx'); // no endpoint without the token (issue 15)
  });

  it('influxd stopped: stays up, /health degraded, /predict 503 with the reason', async () => {
    await influxd('stop');
    const h = await until(
      'health to see InfluxDB unreachable',
      async () => {
        const r = await health();
        return r.json().checks.influx_reachable === false ? r : false;
      },
      30_000,
    );
    assert.equal(h.statusCode, 503);
    const hb = h.json();
    assert.equal(hb.status, 'degraded');
    assert.equal(hb.live, true);
    assert.equal(hb.reasons[0], 'influx_unreachable');
    const r = await predict();
    assert.equal(r.statusCode, 503);
    const b = r.json();
    assert.equal(b.error, 'telemetry_unavailable');
    assert.match(b.message, /^telemetry unavailable: .*InfluxDB/);
    assert.equal(r.headers['retry-after'], '1');
    // bad input is still told apart from the outage
    const bad = await built.app.inject({ method: 'POST', url: '/predict', payload: { total_nodes: -1 } });
    assert.equal(bad.statusCode, 400);
  });

  it('influxd back: recovers by itself within a minute', async () => {
    await influxd('start');
    const t0 = Date.now();
    // no requests: the background loop alone must bring the series back
    await until(
      'the hub to recover',
      async () => built.hub.peek({ cluster: 'svc', partition: '_all' })?.status === 'ok' || false,
      60_000,
    );
    const took = (Date.now() - t0) / 1000;
    const r = await predict();
    assert.equal(r.statusCode, 200, r.body);
    const h = await health();
    assert.equal(h.statusCode, 200);
    assert.equal(h.json().checks.influx_reachable, true);
    assert.ok(took < 60, `recovered in ${took} s`);
  });
});
