/**
 * The InfluxDB v1 client against a real influxd 1.6 (Debian `influxdb`): the shared one started by
 * scripts/services/up.sh (PCM_TEST_INFLUX_URL, no auth) for writes, reads, escaping and error answers,
 * and a private influxd started here on free ports with auth enabled, to test user/password, a refused
 * v2 token, and what happens once it is stopped (connection refused).
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); without it the tests FAIL with a hint.
 * PCM_SKIP_INTEGRATION=1 skips them explicitly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../harness/net.js';
import { TelemetryError } from '../../src/telemetry/errors.js';
import type { InfluxOptions } from '../../src/telemetry/influx-http.js';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { formatPoint } from '../../src/telemetry/line-protocol.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';

const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh (stop with bash scripts/services/down.sh), or set PCM_SKIP_INTEGRATION=1 to skip';

function requireServices(): string {
  if (!env.PCM_TEST_INFLUX_URL) throw new Error(`integration env missing (PCM_TEST_INFLUX_URL): ${HINT}`);
  return env.PCM_TEST_INFLUX_URL;
}

const DB = `pcm_it_${process.pid}_${Date.now().toString(36)}`;
const opts = (o: Partial<InfluxOptions> = {}): InfluxOptions => ({
  url: requireServices(),
  database: DB,
  timeoutMs: 5000,
  retries: 0,
  backoffMs: 50,
  ...o,
});

async function failure(p: Promise<unknown>, secret?: string): Promise<TelemetryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TelemetryError, `expected TelemetryError, got ${e}`);
    if (secret) assert.ok(!e.message.includes(secret), `secret leaked: ${e.message}`);
    return e;
  }
  assert.fail('expected a failure');
}

function row(time: number, busy: number, cluster = 'it', partition = '_all'): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = busy;
  values.running_jobs = busy / 2;
  values.cpu_util = busy / 64;
  values.p90_limit_running_s = 86400.5;
  return { time, cluster, partition, capacity: 16, totalCpus: 64, values };
}

describe('InfluxDB client against the shared influxd', { skip: skipAll }, () => {
  let admin: InfluxReader;
  before(async () => {
    admin = new InfluxReader(opts());
    await admin.query(`CREATE DATABASE "${DB}"`, 'POST');
  });
  after(async () => {
    if (admin) await admin.query(`DROP DATABASE "${DB}"`, 'POST');
  });

  it('writes minute rows and reads back the recent ones of one series, sorted', async () => {
    const now = Math.floor(Date.now() / 60000) * 60;
    const rows = [
      row(now - 120, 4),
      row(now - 60, 6),
      row(now, 8),
      row(now - 7200, 99),
      row(now, 3, 'it', 'gpu'),
    ];
    rows[1].values.queued_jobs = Number.NaN; // not written: reads back as NaN
    await new InfluxWriter(opts()).write(rows);
    const got = await new InfluxReader(opts()).recent('it', '_all', 30);
    assert.deepEqual(
      got.map((r) => [r.time - now, r.values.busy_nodes, r.values.running_jobs]),
      [
        [-120, 4, 2],
        [-60, 6, 3],
        [0, 8, 4],
      ],
    );
    assert.equal(got[0].values.cpu_util, 4 / 64);
    assert.equal(got[0].values.p90_limit_running_s, 86400.5);
    assert.equal(got[0].capacity, 16);
    assert.equal(got[0].totalCpus, 64);
    assert.ok(Number.isNaN(got[1].values.queued_jobs));
    assert.equal(got[0].values.queued_jobs, 0);
    assert.deepEqual(
      (await new InfluxReader(opts()).recent('it', 'gpu', 30)).map((r) => r.values.busy_nodes),
      [3],
    );
    // writing the same minute again overwrites it (what the collector relies on when it retries)
    await new InfluxWriter(opts()).write([row(now, 9)]);
    assert.equal((await new InfluxReader(opts()).recent('it', '_all', 30)).at(-1)?.values.busy_nodes, 9);
  });

  it('the real parser accepts our escaping of odd tag values and strings', async () => {
    const tag = 'a b,c=d"e\\f';
    const text = 'say "hi" \\ bye';
    const line = formatPoint('odd measurement,x', { site: tag }, { note: text, v: 1 }, 1_704_067_200);
    await new InfluxWriter(opts()).writeLines([line!]);
    const ans = await new InfluxReader(opts()).query('SELECT "note", "site", "v" FROM "odd measurement,x"');
    const s = ans.results[0].series![0];
    assert.deepEqual(s.columns, ['time', 'note', 'site', 'v']);
    assert.deepEqual(s.values![0], [1_704_067_200_000, text, tag, 1]);
  });

  it('writes and reads through a retention policy', async () => {
    await admin.query(`CREATE RETENTION POLICY "short" ON "${DB}" DURATION 1d REPLICATION 1`, 'POST');
    const now = Math.floor(Date.now() / 60000) * 60;
    await new InfluxWriter(opts({ retentionPolicy: 'short' })).write([row(now, 5, 'rp')]);
    assert.equal(
      (await new InfluxReader(opts({ retentionPolicy: 'short' })).recent('rp', '_all', 5)).length,
      1,
    );
    assert.equal((await new InfluxReader(opts()).recent('rp', '_all', 5)).length, 0); // default RP: not there
  });

  it('wrong database -> not_found with the server reason (write and query)', async () => {
    const w = await failure(new InfluxWriter(opts({ database: 'nope' })).write([row(1_704_067_200, 1)]));
    assert.equal(w.kind, 'not_found');
    assert.equal(w.status, 404);
    assert.match(
      w.message,
      /^InfluxDB http:\/\/127\.0\.0\.1:\d+ \/write: HTTP 404: database not found: "nope"$/,
    );
    const q = await failure(new InfluxReader(opts({ database: 'nope' })).recent('it', '_all', 5));
    assert.equal(q.kind, 'not_found');
    assert.match(q.message, /\/query: database not found: nope$/);
  });

  it('malformed line -> bad_request 400, not retried', async () => {
    const e = await failure(new InfluxWriter(opts({ retries: 3 })).writeLines(['m v=']));
    assert.equal(e.kind, 'bad_request');
    assert.equal(e.status, 400);
    assert.match(e.message, /HTTP 400: unable to parse 'm v=': missing field value$/);
    assert.ok(!e.retryable);
  });

  it('a field type conflict is reported as the server says (partial write)', async () => {
    await new InfluxWriter(opts()).writeLines(['conflict v=1 1704067200']);
    const e = await failure(new InfluxWriter(opts()).writeLines(['conflict v="text" 1704067260']));
    assert.equal(e.kind, 'bad_request');
    assert.match(e.message, /field type conflict/);
  });
});

describe('InfluxDB client against a private influxd with auth, then stopped', { skip: skipAll }, () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let url = '';
  const PASSWORD = 'pw-Secret-42';
  const TOKEN = 'tok-Secret-42';

  before(async () => {
    requireServices();
    dir = mkdtempSync(join(tmpdir(), 'pcm-influx-'));
    const http = await freePort();
    const rpc = await freePort();
    url = `http://127.0.0.1:${http}`;
    writeFileSync(
      join(dir, 'influxdb.conf'),
      `reporting-enabled = false\nbind-address = "127.0.0.1:${rpc}"\n[meta]\n  dir = "${dir}/meta"\n` +
        `[data]\n  dir = "${dir}/data"\n  wal-dir = "${dir}/wal"\n  query-log-enabled = false\n` +
        `[monitor]\n  store-enabled = false\n[http]\n  enabled = true\n  bind-address = "127.0.0.1:${http}"\n` +
        `  auth-enabled = true\n  log-enabled = false\n  unix-socket-enabled = false\n` +
        `[continuous_queries]\n  enabled = false\n`,
    );
    proc = spawn('influxd', ['run', '-config', join(dir, 'influxdb.conf')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/ping`)).status === 204) break;
      } catch {}
      if (i > 100) throw new Error('private influxd did not answer /ping within 20 s');
      await sleep(200);
    }
    // with auth on, the first statement must create an admin user, sent without credentials
    const q = new URLSearchParams({ q: `CREATE USER admin WITH PASSWORD '${PASSWORD}' WITH ALL PRIVILEGES` });
    const res = await fetch(`${url}/query`, { method: 'POST', body: q });
    assert.equal(res.status, 200, await res.text());
  });
  after(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('user/password (HTTP Basic) works; a v2 token is refused by 1.6 with an auth error', async () => {
    const o = opts({ url, database: 'secured', username: 'admin', password: PASSWORD });
    await new InfluxReader(o).query('CREATE DATABASE secured', 'POST');
    await new InfluxWriter(o).write([row(Math.floor(Date.now() / 60000) * 60, 2)]);
    assert.equal((await new InfluxReader(o).recent('it', '_all', 5)).length, 1);
    const e = await failure(
      new InfluxWriter(opts({ url, database: 'secured', token: TOKEN })).write([row(60, 1)]),
      TOKEN,
    );
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /HTTP 401: unable to parse authentication credentials \(check InfluxDB.Token/);
    const bad = await failure(
      new InfluxReader(
        opts({ url, database: 'secured', username: 'admin', password: 'wrong-Secret' }),
      ).recent('it', '_all', 5),
      'wrong-Secret',
    );
    assert.equal(bad.kind, 'auth');
  });

  it('stopped influxd -> unreachable: connection refused, retried, no secret in the message', async () => {
    const p = proc!;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    const o = opts({
      url,
      database: 'secured',
      username: 'admin',
      password: PASSWORD,
      retries: 2,
      backoffMs: 20,
    });
    const e = await failure(new InfluxWriter(o).write([row(60, 1)]), PASSWORD);
    assert.equal(e.kind, 'unreachable');
    assert.match(
      e.message,
      /^InfluxDB http:\/\/127\.0\.0\.1:\d+ \/write: connection refused \(is InfluxDB running at this address\?\) \(after 3 attempts\)$/,
    );
  });
});
