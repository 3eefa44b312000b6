/**
 * The Slurm accounting DB source against a real Slurm 22.05 (slurmctld + slurmdbd + 16 slurmd) and
 * MariaDB, started by scripts/services/up.sh. Submits a mix of jobs with sbatch, waits until slurmdbd
 * has their final records, then checks every record read by `openSlurmDb` and by `pcm extract --slurmdb`
 * (the built CLI) against the real `sacct -X -D --parsable2` for the same jobs, and the minute
 * timeline's busy nodes against the jobs sacct shows running. Takes about 1.5-2 minutes (one job runs
 * into its 1-minute limit; Slurm checks limits every 30 s).
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); without it the tests FAIL with a hint.
 * PCM_SKIP_INTEGRATION=1 skips them explicitly.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { openJobsCsv } from '../../src/jobs/jobs-csv.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { openSlurmDb } from '../../src/jobs/slurmdb.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { UserError } from '../../src/util/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const NEEDED = ['PCM_TEST_MYSQL_URL', 'PCM_SLURMDB_PASSWORD', 'PCM_TEST_SLURM_CLUSTER', 'SLURM_CONF'];
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh (stop with bash scripts/services/down.sh), or set PCM_SKIP_INTEGRATION=1 to skip';

function requireServices(): void {
  const missing = NEEDED.filter((k) => !env[k]);
  if (missing.length) throw new Error(`integration env missing (${missing.join(', ')}): ${HINT}`);
}

const URL_ = () => env.PCM_TEST_MYSQL_URL as string;
const CLUSTER = () => env.PCM_TEST_SLURM_CLUSTER as string;

/** Run a Slurm client with the test cluster's config and times printed in UTC. */
function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    env: { ...env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// ---------------------------------------------------------------------------------------------
// sacct as the reference

interface SacctRow {
  JobID: string;
  JobIDRaw: string;
  Submit: string;
  Eligible: string;
  Start: string;
  End: string;
  NNodes: string;
  AllocCPUS: string;
  ReqCPUS: string;
  State: string;
  Timelimit: string;
  NodeList: string;
  Partition: string;
  UID: string;
}
const SACCT_FIELDS = [
  'JobID',
  'JobIDRaw',
  'Submit',
  'Eligible',
  'Start',
  'End',
  'NNodes',
  'AllocCPUS',
  'ReqCPUS',
  'State',
  'Timelimit',
  'NodeList',
  'Partition',
  'UID',
] as const;

function sacct(ids: string[]): SacctRow[] {
  const out = slurm('sacct', [
    '-X',
    '-D',
    '--parsable2',
    '--noheader',
    `--clusters=${CLUSTER()}`,
    '-j',
    ids.join(','),
    '-o',
    SACCT_FIELDS.join(','),
  ]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const cells = l.split('|');
      return Object.fromEntries(SACCT_FIELDS.map((f, i) => [f, cells[i] ?? ''])) as unknown as SacctRow;
    });
}

/** sacct time (UTC because TZ=UTC) -> epoch s; Unknown/None -> null. */
function sacctTime(s: string): number | null {
  if (s === 'Unknown' || s === 'None' || s === '') return null;
  const t = Date.parse(`${s}Z`);
  assert.ok(Number.isFinite(t), `unparseable sacct time ${s}`);
  return t / 1000;
}

/** sacct Timelimit ([D-]HH:MM:SS, MM:SS, UNLIMITED, Partition_Limit) -> seconds or null. */
function sacctLimit(s: string): number | null {
  if (/^(UNLIMITED|Partition_Limit|INVALID)$/i.test(s) || s === '') return null;
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s);
  assert.ok(m, `unparseable sacct time limit ${s}`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** What the JobRecord for a sacct line must be. */
function expectedFrom(r: SacctRow): JobRecord {
  const alloc = Number(r.AllocCPUS);
  return {
    id: r.JobID,
    submit: sacctTime(r.Submit),
    eligible: sacctTime(r.Eligible),
    start: sacctTime(r.Start),
    end: sacctTime(r.End),
    nodes: Number(r.NNodes),
    cpus: alloc > 0 ? alloc : Number(r.ReqCPUS),
    timeLimit: sacctLimit(r.Timelimit),
    partition: r.Partition || null,
    state: r.State.split(' ')[0] as JobRecord['state'],
    user: r.UID,
    nodeList: r.NodeList === 'None assigned' || r.NodeList === '' ? null : r.NodeList,
  };
}

// ---------------------------------------------------------------------------------------------
// the job mix

let workDir = '';
/** A scratch folder for job output and CSVs, made on first use and removed at the end. */
function work(): string {
  if (!workDir) workDir = mkdtempSync(join(tmpdir(), 'pcm-slurmdb-'));
  return workDir;
}
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});
const submitted = new Map<string, string>(); // name -> raw job id

function sbatch(name: string, args: string[]): string {
  const out = slurm('sbatch', [
    '--parsable',
    `--job-name=pcmt-${name}`,
    `--chdir=${work()}`,
    '--output=/dev/null',
    ...args,
  ]);
  const id = out.trim().split(';')[0];
  assert.match(id, /^\d+$/, `sbatch ${name}: ${out}`);
  submitted.set(name, id);
  return id;
}

function squeueState(id: string): string {
  try {
    return slurm('squeue', ['-h', '-j', id, '-o', '%T']).trim();
  } catch {
    return '';
  }
}

async function waitFor(what: string, timeoutS: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutS}s waiting for ${what}`);
    await sleep(500);
  }
}

const FINAL = /^(COMPLETED|FAILED|TIMEOUT|CANCELLED|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/;
/** Expected final state and sacct row count per submitted job. */
const EXPECT: Record<string, { state: string; rows: number; nodes: number }> = {
  all16: { state: 'COMPLETED', rows: 1, nodes: 16 },
  timeout: { state: 'TIMEOUT', rows: 1, nodes: 1 },
  one: { state: 'COMPLETED', rows: 1, nodes: 1 },
  four: { state: 'COMPLETED', rows: 1, nodes: 4 },
  eight: { state: 'COMPLETED', rows: 1, nodes: 8 },
  fail: { state: 'FAILED', rows: 1, nodes: 1 },
  heldcancel: { state: 'CANCELLED', rows: 1, nodes: 2 },
  runcancel: { state: 'CANCELLED', rows: 1, nodes: 2 },
  array: { state: 'COMPLETED', rows: 2, nodes: 1 },
  het: { state: 'COMPLETED', rows: 2, nodes: 0 }, // components of 1 and 2 nodes (0: not checked here)
};

let sacctRows: SacctRow[] = [];
let libRecords: JobRecord[] = [];

async function runJobMix(): Promise<void> {
  // 16 nodes exclusive first, alone, so it does not wait behind the rest
  const all16 = sbatch('all16', ['-N', '16', '--exclusive', '--time=5', '--wrap', 'sleep 2']);
  await waitFor('the 16-node job to finish', 60, () => squeueState(all16) === '');
  // the slow one first (runs into its 1-minute limit), then the rest
  sbatch('timeout', ['-N', '1', '--time=1', '--wrap', 'sleep 300']);
  sbatch('one', ['-N', '1', '-n', '1', '--time=2', '--wrap', 'sleep 3']);
  sbatch('four', ['-N', '4', '-n', '8', '--time=0:30:00', '--wrap', 'sleep 4']);
  sbatch('eight', ['-N', '8', '--wrap', 'sleep 5']);
  sbatch('fail', ['-N', '1', '--wrap', 'exit 3']);
  const held = sbatch('heldcancel', ['-N', '2', '--hold', '--wrap', 'sleep 1']);
  const run = sbatch('runcancel', ['-N', '2', '--wrap', 'sleep 300']);
  sbatch('array', ['-N', '1', '--array=1-2', '--time=3', '--wrap', 'sleep 2']);
  sbatch('het', ['-N', '1', '--wrap', 'sleep 2', ':', '-N', '2', '--wrap', 'sleep 2']);
  await sleep(1500);
  slurm('scancel', [held]);
  await waitFor('the job to cancel while running to run', 60, () => squeueState(run) === 'RUNNING');
  await sleep(2500);
  slurm('scancel', [run]);
  // until slurmdbd has a final record for every job (sacct reads the DB)
  const ids = [...submitted.values()];
  const want = Object.values(EXPECT).reduce((s, e) => s + e.rows, 0);
  await waitFor('slurmdbd to hold every job in a final state', 150, () => {
    sacctRows = sacct(ids);
    return sacctRows.length === want && sacctRows.every((r) => FINAL.test(r.State));
  });
}

function rowsOf(name: string): SacctRow[] {
  const id = submitted.get(name) as string;
  return sacctRows.filter(
    (r) => r.JobIDRaw === id || r.JobID.startsWith(`${id}_`) || r.JobID.startsWith(`${id}+`),
  );
}

function byId(records: JobRecord[]): Map<string, JobRecord> {
  return new Map(records.map((r) => [r.id, r]));
}

function checkAgainstSacct(records: JobRecord[], what: string): void {
  const got = byId(records);
  for (const row of sacctRows) {
    const rec = got.get(row.JobID);
    assert.ok(rec, `${what}: job ${row.JobID} (sacct ${row.State}) missing`);
    assert.deepEqual(rec, expectedFrom(row), `${what}: job ${row.JobID} differs from sacct`);
  }
}

/** Is the dist build older than the sources it is built from (or missing)? */
function distStale(): boolean {
  const pairs = [
    ['src/cli/main.ts', 'dist/cli/main.js'],
    ['src/cli/commands/extract.ts', 'dist/cli/commands/extract.js'],
    ['src/jobs/open.ts', 'dist/jobs/open.js'],
    ['src/jobs/jobs-csv.ts', 'dist/jobs/jobs-csv.js'],
    ['src/jobs/slurmdb.ts', 'dist/jobs/slurmdb.js'],
    ['src/jobs/slurmdb-map.ts', 'dist/jobs/slurmdb-map.js'],
  ];
  return pairs.some(([s, d]) => {
    const dist = join(ROOT, d);
    return !existsSync(dist) || statSync(join(ROOT, s)).mtimeMs > statSync(dist).mtimeMs;
  });
}

function pcm(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], {
    encoding: 'utf8',
    env: { ...env, ...extraEnv, PCM_NO_PROGRESS: '1' },
    timeout: 60_000,
  });
}

async function readAll(src: { jobs: AsyncIterable<JobRecord> }): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for await (const j of src.jobs) out.push(j);
  return out;
}

describe('Slurm DB source against real Slurm + MariaDB', { skip: skipAll }, () => {
  before(async () => {
    requireServices();
    await runJobMix();
  });

  it('the job mix ended as intended (sacct)', () => {
    for (const [name, e] of Object.entries(EXPECT)) {
      const rows = rowsOf(name);
      assert.equal(rows.length, e.rows, `${name}: sacct rows`);
      for (const r of rows) assert.equal(r.State.split(' ')[0], e.state, `${name} (${r.JobID}) state`);
      if (e.nodes > 0) assert.equal(Number(rows[0].NNodes), e.nodes, `${name} nodes`);
    }
    const held = rowsOf('heldcancel')[0];
    assert.equal(held.NodeList, 'None assigned', 'the held job never got nodes');
  });

  it('openSlurmDb yields exactly what sacct -X -D shows, for every job', async () => {
    const src = await openSlurmDb(URL_(), { cluster: CLUSTER(), batchRows: 3 });
    assert.equal(src.kind, 'slurmdb');
    assert.equal(src.meta.maxNodes, Number(env.PCM_TEST_SLURM_NODES ?? 16));
    const all = await readAll(src);
    assert.equal(src.report.skipped, 0);
    assert.equal(src.report.jobs, all.length);
    const ours = new Set(sacctRows.map((r) => r.JobID));
    libRecords = all.filter((j) => ours.has(j.id));
    assert.equal(libRecords.length, sacctRows.length);
    checkAgainstSacct(libRecords, 'openSlurmDb');
    // spot checks of the mapping on top of the sacct comparison
    const rec = byId(libRecords);
    const fail = rec.get(submitted.get('fail') as string) as JobRecord;
    assert.equal(fail.state, 'FAILED');
    const tmo = rec.get(submitted.get('timeout') as string) as JobRecord;
    assert.equal(tmo.timeLimit, 60);
    assert.ok((tmo.end as number) - (tmo.start as number) >= 60, 'the TIMEOUT job ran at least its limit');
    const held = rec.get(submitted.get('heldcancel') as string) as JobRecord;
    assert.equal(held.nodes, 2, 'never-ran job reports its requested nodes');
    assert.equal(held.nodeList, null);
    assert.equal(rec.get(submitted.get('all16') as string)?.nodeList, 'node[01-16]');
    const arrayId = submitted.get('array');
    assert.ok(rec.has(`${arrayId}_1`) && rec.has(`${arrayId}_2`), 'array tasks as <id>_<task>');
    const hetId = submitted.get('het');
    assert.ok(rec.has(`${hetId}+0`) && rec.has(`${hetId}+1`), 'het components as <id>+<offset>');
  });

  it('a since/until window keeps the jobs that overlap it (SQL filter)', async () => {
    const start = (submitted.get('runcancel') &&
      byId(libRecords).get(submitted.get('runcancel') as string)) as JobRecord;
    assert.ok(start?.start && start.end);
    // a 1-second window inside the run-cancelled job's run: it and the TIMEOUT job overlap it
    const since = start.start + 1;
    const until = since + 1;
    const src = await openSlurmDb(URL_(), { cluster: CLUSTER(), since, until });
    const got = await readAll(src);
    const ids = new Set(got.map((j) => j.id));
    assert.ok(ids.has(start.id), 'the job running in the window is kept');
    for (const j of got) {
      assert.ok((j.submit ?? 0) < until, `${j.id} submitted before until`);
      assert.ok(j.end === null || j.end > since, `${j.id} not ended before since`);
    }
    const all16 = byId(libRecords).get(submitted.get('all16') as string) as JobRecord;
    assert.ok(!ids.has(all16.id), 'the job that ended before the window is dropped');
  });

  it('the pcm_reader (SELECT-only) user reads the same records', async (t) => {
    if (!env.PCM_TEST_MYSQL_READER_URL) return t.skip('no PCM_TEST_MYSQL_READER_URL');
    const src = await openSlurmDb(env.PCM_TEST_MYSQL_READER_URL, {
      cluster: CLUSTER(),
      password: env.PCM_TEST_MYSQL_READER_PASSWORD,
    });
    const ours = new Set(sacctRows.map((r) => r.JobID));
    const got = (await readAll(src)).filter((j) => ours.has(j.id));
    checkAgainstSacct(got, 'pcm_reader');
  });

  it('pcm extract --slurmdb (built CLI) writes the same records as a job CSV', async () => {
    if (distStale()) {
      const b = spawnSync('bash', [join(ROOT, 'scripts/build.sh')], { encoding: 'utf8', cwd: ROOT });
      assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
    }
    const out = join(work(), 'jobs.csv');
    const r = pcm(['extract', '--slurmdb', URL_(), '--cluster', CLUSTER(), '--out', out, '--json']);
    assert.equal(r.status, 0, `pcm extract failed: ${r.stderr}`);
    const summary = JSON.parse(r.stdout) as { jobs: number; kind: string };
    assert.equal(summary.kind, 'slurmdb');
    assert.ok(
      !r.stdout.includes(env.PCM_SLURMDB_PASSWORD as string) &&
        !r.stderr.includes(env.PCM_SLURMDB_PASSWORD as string),
    );
    const csv = await openJobsCsv(out);
    const ours = new Set(sacctRows.map((j) => j.JobID));
    const got = (await readAll(csv)).filter((j) => ours.has(j.id));
    checkAgainstSacct(got, 'pcm extract CSV');
  });
});

describe('Slurm DB source: timeline from the DB matches sacct', { skip: skipAll }, () => {
  before(requireServices);

  it('busy_nodes at each minute = nodes of the jobs sacct shows running then', () => {
    assert.ok(libRecords.length > 0, 'needs the records read by the previous suite');
    // jobs that got nodes (a job cancelled while pending shows 'None assigned', and Start None or = End)
    const ran = sacctRows.filter(
      (r) => r.NodeList !== 'None assigned' && sacctTime(r.Start) !== null && sacctTime(r.End) !== null,
    );
    assert.equal(ran.length, sacctRows.length - 1, 'all but the held job ran and ended');
    const t0 = Math.min(...ran.map((r) => sacctTime(r.Start) as number));
    const t1 = Math.max(...ran.map((r) => sacctTime(r.End) as number));
    const start = Math.floor(t0 / 60) * 60;
    const end = Math.ceil(t1 / 60) * 60 + 60;
    const tl = buildTimeline(libRecords, { capacity: Number(env.PCM_TEST_SLURM_NODES ?? 16), start, end });
    let nonZero = 0;
    for (let i = 0; i < tl.minutes; i++) {
      const t = tl.start + 60 * i;
      const want = ran
        .filter((r) => (sacctTime(r.Start) as number) <= t && t < (sacctTime(r.End) as number))
        .reduce((s, r) => s + Number(r.NNodes), 0);
      const jobs = ran.map((r) => `${r.JobID} ${r.Start}..${r.End} ${r.NNodes}n`).join('; ');
      assert.equal(
        tl.columns.busy_nodes[i],
        Math.min(want, tl.capacity),
        `busy_nodes at ${new Date(t * 1000).toISOString()} (jobs per sacct: ${jobs})`,
      );
      if (want > 0) nonZero++;
    }
    assert.ok(nonZero > 0, 'at least one minute with busy nodes (the TIMEOUT job runs over a minute)');
  });
});

describe('Slurm DB source: error paths', { skip: skipAll }, () => {
  before(requireServices);

  it('a wrong password gives a clear error without the password', async () => {
    const pw = 'Wr0ng-Secret-4711';
    await assert.rejects(openSlurmDb(URL_(), { cluster: CLUSTER(), password: pw }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /access denied for user slurm at 127\.0\.0\.1:\d+/);
      assert.ok(!e.message.includes(pw), e.message);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    // the same through a password in the URL
    const withPw = URL_().replace('mysql://slurm@', `mysql://slurm:${pw}@`);
    await assert.rejects(openSlurmDb(withPw, { cluster: CLUSTER() }), (e: unknown) => {
      assert.ok(e instanceof UserError && !e.message.includes(pw), String(e));
      return true;
    });
  });

  it('the CLI reports a wrong password in the URL in one line, without it', () => {
    assert.ok(existsSync(join(ROOT, 'dist/cli/main.js')), 'dist/cli/main.js missing: npm run build');
    const pw = 'Wr0ng-Secret-4712';
    const url = URL_().replace('mysql://slurm@', `mysql://slurm:${pw}@`);
    const r = pcm(['extract', '--slurmdb', url, '--cluster', CLUSTER(), '--out', join(work(), 'x.csv')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /access denied/);
    assert.ok(!r.stderr.includes(pw) && !r.stdout.includes(pw), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(join(work(), 'x.csv')), 'no output file');
  });

  it('an unknown cluster names the missing table', async () => {
    await assert.rejects(openSlurmDb(URL_(), { cluster: 'nosuchcluster' }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /slurm_acct_db\.nosuchcluster_job_table not found at 127\.0\.0\.1:\d+/);
      return true;
    });
  });

  it('a bad cluster name is refused before any SQL', async () => {
    await assert.rejects(openSlurmDb(URL_(), { cluster: 'x`; DROP TABLE y; --' }), /invalid cluster name/);
  });

  it('an unknown database and a closed port are named', async () => {
    const noDb = URL_().replace(/\/[^/]+$/, '/nosuchdb');
    await assert.rejects(openSlurmDb(noDb, { cluster: CLUSTER() }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /nosuchdb/);
      return true;
    });
    const closed = URL_().replace(/:\d+\//, ':1/');
    await assert.rejects(openSlurmDb(closed, { cluster: CLUSTER() }), /127\.0\.0\.1:1: connection refused/);
  });

  it('a connection killed in the middle of the read fails the iteration', async (t) => {
    // as pcm_reader: its only sessions are ours (slurmdbd's are user slurm), and a user may KILL its own
    const readerUrl = env.PCM_TEST_MYSQL_READER_URL;
    if (!readerUrl) return t.skip('no PCM_TEST_MYSQL_READER_URL');
    const password = env.PCM_TEST_MYSQL_READER_PASSWORD;
    const src = await openSlurmDb(readerUrl, { cluster: CLUSTER(), password, batchRows: 1 });
    const it = src.jobs[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    const u = new URL(readerUrl);
    const admin = await mysql.createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password,
    });
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SHOW PROCESSLIST');
      const victims = rows.filter((r) => r.Id !== admin.threadId);
      assert.equal(victims.length, 1, 'exactly the reading connection besides this one');
      await admin.query('KILL ?', [victims[0].Id]);
    } finally {
      await admin.end();
    }
    await assert.rejects(
      (async () => {
        for (;;) if ((await it.next()).done) break;
      })(),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, /while reading \(after \d+ rows\)|lost/);
        assert.ok(!e.message.includes(password as string));
        return true;
      },
    );
  });
});
