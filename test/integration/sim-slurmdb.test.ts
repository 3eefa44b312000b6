/**
 * `pcm simulate --out-slurmdb` against the real MariaDB + slurmdbd started by scripts/services/up.sh.
 * Registers a second cluster `pcmsim` with `sacctmgr -i add cluster pcmsim` (slurmdbd creates its tables;
 * pcm never creates a Slurm schema), simulates two days on 16 nodes into `pcmsim_job_table`, then checks
 * that `pcm extract --slurmdb --cluster pcmsim` returns exactly the simulated jobs and that the real
 * `sacct -M pcmsim -X -D` lists them with the same times, sizes, limits, states and nodelists.
 * Re-runs: refused without --replace, idempotent with it. Cleans up (rows, then the cluster).
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { openJobsCsv } from '../../src/jobs/jobs-csv.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { parseSlurmDbUrl } from '../../src/jobs/slurmdb-map.js';
import { SIM_MARK, UidMap } from '../../src/sim/slurmdb-out.js';

const ROOT = join(import.meta.dirname, '..', '..');
const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const NEEDED = ['PCM_TEST_MYSQL_URL', 'PCM_SLURMDB_PASSWORD', 'SLURM_CONF'];
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh, or set PCM_SKIP_INTEGRATION=1 to skip';
const CLUSTER = 'pcmsim';
const TABLE = `${CLUSTER}_job_table`;
// two days in 2020: far from the test cluster's real jobs, and a fixed seed
const START = '2020-03-02';
const FROM = Date.UTC(2020, 2, 2) / 1000;
const UNTIL = Date.UTC(2020, 2, 9) / 1000;
const work = mkdtempSync(join(tmpdir(), 'pcm-sim-slurmdb-'));

function pcm(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...env, PCM_NO_PROGRESS: '1' },
    timeout: 120_000,
  });
}

function simulate(extra: string[] = []) {
  return pcm([
    'simulate',
    '--nodes',
    '16',
    '--days',
    '2',
    '--start',
    START,
    '--seed',
    '5',
    '--node-names',
    'node[01-16]',
    '--out-slurmdb',
    env.PCM_TEST_MYSQL_URL as string,
    '--cluster',
    CLUSTER,
    ...extra,
  ]);
}

function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    env: { ...env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function db(): Promise<mysql.Connection> {
  const t = parseSlurmDbUrl(env.PCM_TEST_MYSQL_URL as string);
  return mysql.createConnection({
    host: t.host,
    port: t.port,
    user: t.user,
    password: env.PCM_SLURMDB_PASSWORD,
    database: t.database,
  });
}

async function tableExists(): Promise<boolean> {
  const c = await db();
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>('SHOW TABLES LIKE ?', [TABLE]);
    return rows.length > 0;
  } finally {
    await c.end();
  }
}

async function ourRows(): Promise<number> {
  const c = await db();
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${TABLE}\` WHERE system_comment = ?`,
      [SIM_MARK],
    );
    return Number(rows[0].n);
  } finally {
    await c.end();
  }
}

async function readCsv(path: string): Promise<JobRecord[]> {
  const src = await openJobsCsv(path);
  const out: JobRecord[] = [];
  for await (const j of src.jobs) out.push(j);
  return out;
}

/** sacct time in UTC -> epoch s. */
const sacctTime = (s: string) => Date.parse(`${s}Z`) / 1000;
function sacctLimit(s: string): number {
  const m = /^(?:(\d+)-)?(\d+):(\d+):(\d+)$/.exec(s);
  assert.ok(m, `unparseable sacct time limit ${s}`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

describe('pcm simulate --out-slurmdb against real slurmdbd + MariaDB', { skip: skipAll }, () => {
  let simulated: JobRecord[] = [];

  before(async () => {
    const missing = NEEDED.filter((k) => !env[k]);
    if (missing.length) throw new Error(`integration env missing (${missing.join(', ')}): ${HINT}`);
    // a second cluster: slurmdbd creates its tables (sacctmgr exits 1 with "already exists" on a re-run)
    spawnSync('sacctmgr', ['-i', 'add', 'cluster', CLUSTER], { env, encoding: 'utf8' });
    assert.ok(await tableExists(), `slurmdbd did not create ${TABLE} after sacctmgr add cluster`);
    // leftovers of an interrupted earlier run
    const c = await db();
    await c.query(`DELETE FROM \`${TABLE}\` WHERE system_comment = ?`, [SIM_MARK]);
    await c.end();
  });

  after(async () => {
    try {
      const c = await db();
      await c.query(`DELETE FROM \`${TABLE}\` WHERE system_comment = ?`, [SIM_MARK]);
      await c.end();
      spawnSync('sacctmgr', ['-i', 'delete', 'cluster', CLUSTER], { env, encoding: 'utf8' });
      // slurmdbd 22.05 drops the cluster's tables except job_env/job_script: drop those leftovers too
      // (only once the cluster is gone from cluster_table, so a live cluster's tables are never touched)
      const c2 = await db();
      const [live] = await c2.query<mysql.RowDataPacket[]>(
        'SELECT name FROM cluster_table WHERE name = ? AND deleted = 0',
        [CLUSTER],
      );
      if (live.length === 0) {
        for (const t of ['job_env_table', 'job_script_table'])
          await c2.query(`DROP TABLE IF EXISTS \`${CLUSTER}_${t}\``);
      }
      await c2.end();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('writes the scheduled jobs as job_table rows', async () => {
    const csv = join(work, 'sim.csv');
    const r = simulate(['--out-jobs', csv, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    simulated = await readCsv(csv);
    assert.ok(simulated.length > 300, `${simulated.length} jobs`);
    assert.match(summary.written.slurmdb, new RegExp(`${TABLE} \\(${simulated.length} rows\\)`));
    assert.equal(await ourRows(), simulated.length);
    assert.ok(
      simulated.some((j) => j.state === 'TIMEOUT'),
      'some jobs were killed at their limit',
    );
    assert.ok(
      simulated.some((j) => j.nodes > 1 && j.nodeList?.includes('[')),
      'multi-node jobs have hostlists',
    );
  });

  it('pcm extract --slurmdb --cluster pcmsim returns exactly the simulated jobs', async () => {
    const out = join(work, 'extracted.csv');
    const r = pcm([
      'extract',
      '--slurmdb',
      env.PCM_TEST_MYSQL_URL as string,
      '--cluster',
      CLUSTER,
      '--since',
      String(FROM),
      '--until',
      String(UNTIL),
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const got = await readCsv(out);
    assert.equal(got.length, simulated.length);
    const uids = new UidMap();
    const byId = new Map(got.map((j) => [j.id, j]));
    for (const s of simulated) {
      const expected: JobRecord = {
        ...s,
        eligible: s.submit, // written as time_eligible = time_submit
        partition: 'batch', // the default partition for jobs without one
        user: String(uids.uid(s.user)),
      };
      assert.deepEqual(byId.get(s.id), expected, `job ${s.id}`);
    }
  });

  it('the real sacct lists the same jobs (times, nodes, limits, states, nodelists)', () => {
    const fields = [
      'JobIDRaw',
      'Submit',
      'Start',
      'End',
      'NNodes',
      'AllocCPUS',
      'State',
      'Timelimit',
      'NodeList',
      'Partition',
    ];
    const out = slurm('sacct', [
      '-M',
      CLUSTER,
      '-X',
      '-a',
      '-D',
      '--parsable2',
      '--noheader',
      '-S',
      '2020-03-02T00:00:00',
      '-E',
      '2020-03-09T00:00:00',
      '-o',
      fields.join(','),
    ]);
    const rows = out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => Object.fromEntries(l.split('|').map((v, i) => [fields[i], v])));
    assert.equal(rows.length, simulated.length);
    const byId = new Map(rows.map((r) => [r.JobIDRaw, r]));
    for (const s of simulated) {
      const r = byId.get(s.id);
      assert.ok(r, `sacct lacks job ${s.id}`);
      assert.equal(sacctTime(r.Submit), s.submit, `job ${s.id} submit`);
      assert.equal(sacctTime(r.Start), s.start, `job ${s.id} start`);
      assert.equal(sacctTime(r.End), s.end, `job ${s.id} end`);
      assert.equal(Number(r.NNodes), s.nodes, `job ${s.id} nodes`);
      assert.equal(Number(r.AllocCPUS), s.cpus, `job ${s.id} cpus`);
      assert.equal(r.State.split(' ')[0], s.state, `job ${s.id} state`);
      assert.equal(sacctLimit(r.Timelimit), s.timeLimit, `job ${s.id} limit`);
      assert.equal(r.NodeList, s.nodeList, `job ${s.id} nodelist`);
      assert.equal(r.Partition, 'batch');
    }
  });

  it('a re-run is refused without --replace and replaces our rows with it', async () => {
    const before = await ourRows();
    const again = simulate();
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds \d+ simulated rows .*rerun with --replace/);
    assert.equal(await ourRows(), before, 'nothing written by the refused run');
    const rep = simulate(['--replace', '--json']);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(await ourRows(), before, 'replaced, not duplicated');
  });

  it('a cluster without tables is a one-line error telling to let slurmdbd create it', () => {
    const r = pcm([
      'simulate',
      '--nodes',
      '4',
      '--days',
      '0.1',
      '--out-slurmdb',
      env.PCM_TEST_MYSQL_URL as string,
      '--cluster',
      'pcmnosuch',
    ]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /pcmnosuch_job_table not found .*let slurmdbd create cluster pcmnosuch first \(sacctmgr -i add cluster pcmnosuch/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
