/**
 * `pcm collect` against the real single-host Slurm 22.05 (16 nodes node[01-16], cluster pcmtest) and the
 * real influxd, both started by scripts/services/up.sh. Submits a few sleeping jobs (two running, one
 * waiting for resources, one held), runs `pcm collect --once` (the CLI from source), reads the row back
 * from InfluxDB and checks busy_nodes / running_jobs / queued_jobs against what `squeue` itself shows for
 * that minute; then runs the loop and stops it with SIGTERM. Takes up to about 1.5 minutes (rows are
 * minute snapshots: the test waits for the minute after the jobs started).
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); without it the tests FAIL with a hint.
 * PCM_SKIP_INTEGRATION=1 skips them explicitly.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';

const ROOT = join(import.meta.dirname, '..', '..');
const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const NEEDED = ['PCM_TEST_INFLUX_URL', 'PCM_TEST_SLURM_CLUSTER', 'SLURM_CONF'];
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh (stop with bash scripts/services/down.sh), or set PCM_SKIP_INTEGRATION=1 to skip';

function requireServices(): void {
  const missing = NEEDED.filter((k) => !env[k]);
  if (missing.length) throw new Error(`integration env missing (${missing.join(', ')}): ${HINT}`);
}

const DB = `pcm_collect_${process.pid}_${Date.now().toString(36)}`;
const NAME = `pcmh8${process.pid}`; // job name, to cancel only ours

function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...env, SLURM_TIME_FORMAT: '%s' } });
}

function sbatch(...args: string[]): string {
  return slurm('sbatch', ['--parsable', `--job-name=${NAME}`, '--output=/dev/null', ...args])
    .trim()
    .split(';')[0];
}

interface Expected {
  running: number;
  busy: number;
  queued: number;
  /** Latest submit/start time among the jobs counted (the row must be for a later minute). */
  latest: number;
}

/**
 * What squeue shows for the instant t, counted directly: running = R/CG jobs started by t (CG: ended
 * after t); busy = their nodes (clipped to 16); queued = pending jobs submitted by t whose reason is not
 * a hold, a dependency or a begin time.
 */
function expectedAt(t: number): Expected {
  const out = slurm('squeue', [
    '--noheader',
    '--states=all',
    '--array',
    '--Format=State:|,NumNodes:|,SubmitTime:|,StartTime:|,EndTime:|,Reason:|',
  ]);
  const e: Expected = { running: 0, busy: 0, queued: 0, latest: 0 };
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [state, nodes, submit, start, end, reason] = line.split('|').map((s) => s.trim());
    const st = Number(start);
    const sub = Number(submit);
    if (state === 'RUNNING' || (state === 'COMPLETING' && Number(end) > t)) {
      if (st <= t) {
        e.running++;
        e.busy += Number(nodes);
      }
      e.latest = Math.max(e.latest, st);
    } else if (state === 'PENDING') {
      if (sub <= t && !/Held|Dependency|BeginTime/.test(reason)) e.queued++;
      e.latest = Math.max(e.latest, sub);
    }
  }
  e.busy = Math.min(e.busy, Number(env.PCM_TEST_SLURM_NODES ?? 16));
  return e;
}

function pcm(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, PCM_NO_PROGRESS: '1', ...extraEnv },
  });
}

describe('pcm collect against real Slurm and InfluxDB', { skip: skipAll, timeout: 240_000 }, () => {
  let dir = '';
  let cfg = '';
  let reader: InfluxReader;

  before(async () => {
    requireServices();
    dir = mkdtempSync(join(tmpdir(), 'pcm-collect-it-'));
    cfg = join(dir, 'pcm.yaml');
    writeFileSync(
      cfg,
      `InfluxDB:\n  URL: ${env.PCM_TEST_INFLUX_URL}\n  Database: ${DB}\nCluster:\n  Name: pcmtest\n`,
    );
    reader = new InfluxReader({
      url: env.PCM_TEST_INFLUX_URL!,
      database: DB,
      timeoutMs: 5000,
      retries: 1,
      backoffMs: 100,
    });
    await reader.query(`CREATE DATABASE "${DB}"`, 'POST');
    // two running jobs (2 and 3 nodes), one that needs the whole cluster (waits), one held
    sbatch('-N', '2', '-t', '10', '--wrap=sleep 600');
    sbatch('-N', '3', '-n', '6', '-t', '30', '--wrap=sleep 600');
    sbatch('-N', '16', '--exclusive', '-t', '5', '--wrap=sleep 5');
    sbatch('-H', '-N', '1', '--wrap=sleep 5');
    for (let i = 0; ; i++) {
      const mine = slurm('squeue', ['--noheader', `--name=${NAME}`, '--format=%T'])
        .split('\n')
        .filter((s) => s === 'RUNNING');
      if (mine.length >= 2) break;
      if (i > 150) throw new Error('our jobs did not start within 30 s');
      await sleep(200);
    }
  });

  after(() => {
    try {
      spawnSync('scancel', [`--name=${NAME}`], { env });
    } catch {}
    if (reader)
      return reader
        .query(`DROP DATABASE "${DB}"`, 'POST')
        .then(() => rmSync(dir, { recursive: true, force: true }));
  });

  it('--once writes the current minute; busy/running/queued match squeue', async () => {
    const csv = join(dir, 'rows.csv');
    let checked = false;
    for (let attempt = 0; attempt < 4 && !checked; attempt++) {
      // the row is the instant t = the current minute: wait until every job we count began before it
      let now = Date.now() / 1000;
      let t = Math.floor(now / 60) * 60;
      let before_ = expectedAt(t);
      if (before_.latest >= t) {
        await sleep((t + 61 - now) * 1000);
        now = Date.now() / 1000;
        t = Math.floor(now / 60) * 60;
        before_ = expectedAt(t);
      }
      const r = pcm(['collect', '--once', '--config', cfg, '--out', csv, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const after_ = expectedAt(t);
      const printed = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      if (printed.time !== t || JSON.stringify(before_) !== JSON.stringify(after_)) continue; // something moved: again
      const rows = await reader.recent('pcmtest', '_all', 5);
      const row = rows.find((x) => x.time === t);
      assert.ok(row, `no row for ${t} in InfluxDB (got ${rows.map((x) => x.time)})`);
      assert.equal(row.values.busy_nodes, before_.busy, 'busy_nodes');
      assert.equal(row.values.running_jobs, before_.running, 'running_jobs');
      assert.equal(row.values.queued_jobs, before_.queued, 'queued_jobs');
      assert.ok(row.values.queued_jobs >= 1, 'the whole-cluster job waits');
      assert.ok(row.values.busy_nodes >= 5);
      assert.equal(row.capacity, 16);
      assert.equal(row.totalCpus, 16 * Number(env.PCM_TEST_SLURM_NODE_CPUS ?? 4));
      assert.match(r.stderr, /pcmtest\/_all: busy \d+\/16 nodes/);
      // node-state gauges next to it, and the same row in the CSV
      const ns = await reader.query(`SELECT * FROM "pcm_nodes" WHERE "cluster" = 'pcmtest' AND time = ${t}s`);
      const s = ns.results[0].series![0];
      const v = s.values![0];
      const sum = s.columns
        .filter((c) => c.startsWith('slurm_nodes_'))
        .reduce((a, c) => a + Number(v[s.columns.indexOf(c)]), 0);
      assert.equal(sum, 16);
      const last = readFileSync(csv, 'utf8').trimEnd().split('\n').at(-1)!;
      assert.match(last, new RegExp(`^${new Date(t * 1000).toISOString().replace('.000Z', 'Z')},`));
      checked = true;
    }
    assert.ok(checked, 'squeue never stayed still during a collection (busy cluster?)');
  });

  it('the loop stops cleanly on SIGTERM', async () => {
    const out = join(dir, 'loop.csv');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'collect',
        '--config',
        cfg,
        '--out',
        out,
        '--interval',
        '60',
      ],
      { cwd: ROOT, env: { ...env, PCM_NO_PROGRESS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    for (let i = 0; i < 150 && !(existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 2); i++)
      await sleep(200);
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM, finishing the current minute/);
    assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 2); // header + the first row
  });

  it('a partition that does not exist is a one-line error', () => {
    const r = pcm([
      'collect',
      '--once',
      '--config',
      cfg,
      '--partition',
      'nosuchpart',
      '--no-influx',
      '--json',
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^pcm: (squeue failed|sinfo lists no nodes in partition nosuchpart)/m);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
