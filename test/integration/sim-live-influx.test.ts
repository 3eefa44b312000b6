/**
 * `pcm simulate --live` against the real influxd started by scripts/services/up.sh: a child process runs
 * the simulated cluster at 3000x with a one-hour pre-roll into its own database; rows appear as
 * `pcm_cluster` points with the documented tags and fields (docs/telemetry.md), one per minute without
 * gaps; SIGTERM makes the child exit 0 after flushing, and the last row it reports is in InfluxDB.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MEASUREMENT, ROW_FIELDS } from '../../src/telemetry/schema.js';

const ROOT = join(import.meta.dirname, '..', '..');
const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const DB = `pcm_sim_live_${process.pid}`;
const CLUSTER = 'pcmlive';
const work = mkdtempSync(join(tmpdir(), 'pcm-sim-live-'));
const ORIGIN = Date.UTC(2026, 0, 7, 12, 0, 0) / 1000;

function influxUrl(): string {
  if (!env.PCM_TEST_INFLUX_URL) {
    throw new Error(
      'integration env missing (PCM_TEST_INFLUX_URL): start the services first: bash scripts/services/up.sh && ' +
        'source .pcm/services/env.sh, or set PCM_SKIP_INTEGRATION=1 to skip',
    );
  }
  return env.PCM_TEST_INFLUX_URL;
}

async function influxql(q: string, method: 'GET' | 'POST' = 'GET'): Promise<unknown[][] | null> {
  const u = new URL('/query', influxUrl());
  u.searchParams.set('db', DB);
  u.searchParams.set('epoch', 's');
  u.searchParams.set('q', q);
  const r = await fetch(u, { method });
  assert.equal(r.status, 200, `${q}: HTTP ${r.status}`);
  const body = (await r.json()) as {
    results: Array<{ error?: string; series?: Array<{ columns: string[]; values: unknown[][] }> }>;
  };
  assert.equal(body.results[0].error, undefined, `${q}: ${body.results[0].error}`);
  const s = body.results[0].series?.[0];
  return s ? [s.columns, ...s.values] : null;
}

describe('pcm simulate --live into a real InfluxDB', { skip: skipAll }, () => {
  before(async () => {
    influxUrl();
    await influxql(`CREATE DATABASE "${DB}"`, 'POST');
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    if (env.PCM_TEST_INFLUX_URL) await influxql(`DROP DATABASE "${DB}"`, 'POST');
  });

  it('writes documented rows each simulated minute and flushes the last ones on SIGTERM (exit 0)', async () => {
    // the database comes from the config (InfluxDB.Database); --influx gives the URL
    const cfgPath = join(work, 'pcm.yaml');
    writeFileSync(cfgPath, `InfluxDB:\n  Database: ${DB}\n`);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'simulate',
        '--live',
        '--speed',
        '3000',
        '--preroll',
        '1',
        '--origin',
        String(ORIGIN),
        '--nodes',
        '16',
        '--days',
        '5',
        '--cluster',
        CLUSTER,
        '--influx',
        influxUrl(),
        '--config',
        cfgPath,
      ],
      {
        cwd: ROOT,
        env: { ...env, PCM_NO_PROGRESS: '1', PCM_INFLUX_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      // wait for the pre-roll plus some live minutes
      let rows = 0;
      for (let k = 0; k < 300 && rows < 150; k++) {
        await sleep(200);
        const r = await influxql(
          `SELECT COUNT("busy_nodes") FROM "${MEASUREMENT}" WHERE "cluster" = '${CLUSTER}'`,
        );
        rows = r ? Number(r[1][1]) : 0;
      }
      assert.ok(rows >= 150, `rows in InfluxDB: ${rows}; stderr: ${stderr}`);
      child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    assert.match(stderr, /stopped by SIGTERM; wrote \d+ rows/);
    const m = /wrote (\d+) rows \(\S+ \.\. \S+, last row at (\d+)\)/.exec(stderr);
    assert.ok(m, stderr);
    const written = Number(m[1]);
    const last = Number(m[2]);
    // every reported row is there: one per minute from the pre-roll start to the last row, no gaps
    const all = await influxql(`SELECT * FROM "${MEASUREMENT}" WHERE "cluster" = '${CLUSTER}'`);
    assert.ok(all);
    const [columns, ...points] = all as [string[], ...unknown[][]];
    assert.equal(points.length, written);
    const ti = columns.indexOf('time');
    assert.equal(points[0][ti], ORIGIN - 3600, 'first row: the pre-roll start');
    assert.equal(points[points.length - 1][ti], last, 'the last reported row was flushed');
    for (let i = 1; i < points.length; i++)
      assert.equal(Number(points[i][ti]) - Number(points[i - 1][ti]), 60);
    // the documented tags and fields
    for (const f of [...ROW_FIELDS, 'cluster', 'partition']) assert.ok(columns.includes(f), `column ${f}`);
    const pi = columns.indexOf('partition');
    const ci = columns.indexOf('capacity');
    const bi = columns.indexOf('busy_nodes');
    for (const p of points) {
      assert.equal(p[pi], '_all');
      assert.equal(p[ci], 16);
      assert.ok(Number(p[bi]) >= 0 && Number(p[bi]) <= 16);
    }
    assert.ok(
      points.some((p) => Number(p[bi]) > 0),
      'the simulated cluster was busy at some point',
    );
  });
});
