/**
 * Faults: the Slurm DB goes away in the middle of `pcm extract --slurmdb` / `pcm timeline --jobs mysql://`.
 * A PRIVATE MariaDB (scripts/services/mariadb.sh with its own PCM_SERVICES_DIR and a free port; the shared
 * one is never touched) holds a `pcmtest_job_table` created from the schema a real slurmdbd 22.05 made
 * (test/fixtures/slurmdb/pcmtest-schema.sql, dumped with SHOW CREATE TABLE) and filled with ROWS synthetic
 * jobs. The CLI runs as a child process; once it has run a few batch queries (the server's Com_select
 * counter) MariaDB is killed (SIGKILL) or shut down cleanly (mariadb-admin shutdown). Then:
 *   - the CLI exits non-zero with exactly one line on stderr, naming the DB and "while reading", no stack;
 *   - the password (full of URL and SQL special characters) appears nowhere in its output;
 *   - no file at --out; a jobs.csv left by an earlier run is left byte-for-byte intact;
 *   - no temp file (.jobs.csv.*.tmp) is left beside it;
 *   - the CLI ends within EXIT_BOUND_S (30 s) of the fault.
 * Needs mariadbd / mariadb-install-db (scripts/services/install.sh) and root, like the other services.
 * PCM_SKIP_INTEGRATION=1 skips. Takes ~30-60 s (four server starts, one 400k-row fill).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import { freePort } from '../../harness/net.js';
import { openSlurmDb } from '../../src/jobs/slurmdb.js';
import { UserError } from '../../src/util/errors.js';
import { createSlurmAccounting, PrivateMariaDb } from '../helpers/private-mariadb.js';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;

const ROWS = 400_000;
const CLUSTER = 'pcmtest';
const USER = 'pcm_fault';
/** URL, SQL and shell special characters: must never be printed. */
const PASSWORD = `Fz9@p:a/s%s#w'o"r\\d ;--&$x`;

/** Create the slurmdbd schema, the user with the special password, and ROWS jobs. */
async function fill(db: PrivateMariaDb): Promise<void> {
  const c = await db.root();
  try {
    await createSlurmAccounting(c, USER, PASSWORD);
    // every NOT NULL column without a default gets a value; the rest keep slurmdbd's defaults.
    // seq_1_to_N is MariaDB's Sequence engine: one INSERT ... SELECT of multi-row size N.
    const nodes = '(1 << (seq % 7))';
    await c.query(
      `INSERT INTO ${CLUSTER}_job_table (id_job, id_assoc, id_resv, id_wckey, id_user, id_group, het_job_id, ` +
        'het_job_offset, state_reason_prev, job_name, cpus_req, nodes_alloc, `partition`, priority, state, ' +
        'timelimit, time_submit, time_eligible, time_start, time_end, tres_alloc, tres_req, nodelist) ' +
        `SELECT seq, 1, 0, 0, 1000 + seq % 50, 1000, 0, 4294967294, 0, 'fault', ${nodes} * 4, ${nodes}, 'batch', ` +
        `1, 3, 720, 1700000000 + seq * 97, 1700000000 + seq * 97, 1700000000 + seq * 97 + (seq % 13) * 60, ` +
        `1700000000 + seq * 97 + (seq % 13) * 60 + 60 + (seq * 7919) % 43200, ` +
        `CONCAT('1=', ${nodes} * 4, ',4=', ${nodes}), CONCAT('1=', ${nodes} * 4, ',4=', ${nodes}), ` +
        `IF(${nodes} = 1, 'cn001', CONCAT('cn[001-', LPAD(${nodes}, 3, '0'), ']')) FROM seq_1_to_${ROWS}`,
    );
    const [r] = await c.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${CLUSTER}_job_table`);
    assert.equal(Number(r[0].n), ROWS);
  } finally {
    await c.end();
  }
}

/** Run the CLI to its end (no fault). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, PCM_DEBUG: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: number }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Rows the CLI had read, from the server's view (selects run), when the fault was injected. */
  selectsAtFault: number;
  /** Files in the output directory at the moment of the fault. */
  filesAtFault: string[];
  /** Seconds from the fault to the CLI's exit; null when it was still running EXIT_BOUND_S after it. */
  exitSeconds: number | null;
}

/**
 * A failed pcm must end this soon after the fault. A timer left behind (mysql2's query timeout,
 * SlurmDB.QueryTimeoutSeconds = 300 s) once kept it alive for 302-304 s after its one-line error.
 */
const EXIT_BOUND_S = 30;

/** Run the CLI; once it has run `afterSelects` queries on the server, inject `fault`; collect the result. */
async function runWithFault(
  db: PrivateMariaDb,
  args: string[],
  outDir: string,
  fault: 'kill' | 'shutdown',
  afterSelects = 12,
): Promise<Outcome> {
  const mon = await db.root();
  const selects = async () => {
    const [r] = await mon.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
    return Number(r[0].Value);
  };
  const base = await selects();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PCM_SLURMDB_PASSWORD: PASSWORD, PCM_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  let exitedAt = 0;
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      exitedAt = Date.now();
      r(code);
    }),
  );
  let n = 0;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (;;) {
    n = (await selects()) - base;
    if (n >= afterSelects || done) break;
    await sleep(10);
  }
  await mon.end();
  assert.ok(!done, `the CLI ended before the fault could be injected: ${stderr}`);
  const filesAtFault = readdirSync(outDir);
  const faultAt = Date.now();
  if (fault === 'kill') process.kill(db.pid, 'SIGKILL');
  else await db.shutdown();
  const late = sleep(faultAt + EXIT_BOUND_S * 1000 - Date.now(), 'late' as const, { ref: false });
  if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL'); // fails the bound below
  const code = await exited;
  const exitSeconds = exitedAt - faultAt <= EXIT_BOUND_S * 1000 ? (exitedAt - faultAt) / 1000 : null;
  // the server must really be gone before the next start
  for (let i = 0; i < 100 && (await db.running()); i++) await sleep(100);
  return { code, stdout, stderr, selectsAtFault: n, filesAtFault, exitSeconds };
}

/** The common checks: ended soon, non-zero, one clear line, no secret, nothing left behind. */
function checkOutcome(o: Outcome, outDir: string, kept: Record<string, string>): void {
  assert.ok(
    o.exitSeconds !== null,
    `pcm still running ${EXIT_BOUND_S} s after the fault (killed by the test); stderr: ${o.stderr}`,
  );
  assert.notEqual(o.code, 0, 'exit code must be non-zero');
  const lines = o.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got: ${o.stderr}`);
  assert.match(lines[0], /^pcm: /);
  assert.match(lines[0], /Slurm DB .*127\.0\.0\.1:\d+.*while reading \(after \d+ rows\)/);
  assert.doesNotMatch(o.stderr, /\n\s+at /, 'no stack trace');
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'Fz9@p']) {
    assert.ok(!o.stderr.includes(secret) && !o.stdout.includes(secret), 'password printed');
  }
  const after = readdirSync(outDir).sort();
  assert.deepEqual(after, Object.keys(kept).sort(), `files left in ${outDir}: ${after.join(', ')}`);
  for (const [f, text] of Object.entries(kept)) assert.equal(readFileSync(join(outDir, f), 'utf8'), text);
}

describe('MariaDB stopped in the middle of a read (private server)', { skip }, () => {
  let base = '';
  let db: PrivateMariaDb;
  let url = '';

  before(async () => {
    // short path: the unix socket path must stay under ~100 characters
    base = mkdtempSync('/tmp/pcmf-');
    db = new PrivateMariaDb(join(base, 'svc'), await freePort());
    await db.start(false);
    await fill(db);
    url = `mysql://${USER}@127.0.0.1:${db.port}/slurm_acct_db`;
  });
  after(async () => {
    if (db && (await db.running())) await db.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('wrong password (env, URL), unknown cluster: one line each, no secret, no file', async (t) => {
    const dir = join(base, 'open-errors');
    mkdirSync(dir);
    const out = join(dir, 'jobs.csv');
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [
        ['--slurmdb', url, '--cluster', CLUSTER],
        { PCM_SLURMDB_PASSWORD: `${PASSWORD}x` },
        /access denied for user pcm_fault/,
      ],
      [
        [
          '--slurmdb',
          url.replace(`${USER}@`, `${USER}:${encodeURIComponent(`x${PASSWORD}`)}@`),
          '--cluster',
          CLUSTER,
        ],
        { PCM_SLURMDB_PASSWORD: '' },
        /access denied for user pcm_fault/,
      ],
      [
        ['--slurmdb', url, '--cluster', 'nosuch'],
        { PCM_SLURMDB_PASSWORD: PASSWORD },
        /table slurm_acct_db\.nosuch_job_table not found/,
      ],
    ];
    for (const [args, env, expect] of cases) {
      const r = await runCli(['extract', ...args, '--out', out], env);
      t.diagnostic(r.stderr.trim());
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
      assert.match(r.stderr, expect);
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'Fz9@p', 'Fz9%40p']) {
        assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'password printed');
      }
      assert.deepEqual(readdirSync(dir), []);
    }
  });

  it('a server that stops answering (SIGSTOP) fails the read after the query timeout, one line', async () => {
    const src = await openSlurmDb(url, {
      cluster: CLUSTER,
      password: PASSWORD,
      batchRows: 2000,
      queryTimeoutMs: 2000,
    });
    let n = 0;
    let stoppedAt = 0;
    const read = (async () => {
      for await (const _ of src.jobs) {
        if (++n === 5000) {
          process.kill(db.pid, 'SIGSTOP');
          stoppedAt = Date.now();
        }
      }
    })();
    // a hang guard for the old behaviour (no read timeout: the read waited for hours)
    const guard = sleep(30_000).then(() => 'hung' as const);
    try {
      const r = await Promise.race([
        read.then(
          () => 'done' as const,
          (e: unknown) => e,
        ),
        guard,
      ]);
      const waited = (Date.now() - stoppedAt) / 1000;
      console.log(
        `# SIGSTOP after ${n} rows: ${r instanceof Error ? r.message : r} after ${waited.toFixed(1)} s`,
      );
      assert.ok(r instanceof UserError, `read ${String(r)} after ${waited.toFixed(1)} s`);
      assert.match(
        r.message,
        /gave no answer while reading \(after \d+ rows\) for 2 s \(SlurmDB\.QueryTimeoutSeconds\)/,
      );
      assert.ok(!r.message.includes('\n') && !r.message.includes(PASSWORD));
      assert.ok(waited < 12, `${waited} s`);
    } finally {
      process.kill(db.pid, 'SIGCONT');
    }
  });

  it('TLS asked of a server without it, or a CA file that cannot be read: one line naming the setting', async () => {
    await assert.rejects(
      openSlurmDb(url, { cluster: CLUSTER, password: PASSWORD, tls: { verify: true } }),
      (e: unknown) => e instanceof UserError && /SlurmDB\.TLS/.test(e.message) && !e.message.includes('\n'),
    );
    await assert.rejects(
      openSlurmDb(url, {
        cluster: CLUSTER,
        password: PASSWORD,
        tls: { caFile: '/nonexistent/ca.pem', verify: true },
      }),
      /SlurmDB\.TLS\.CAFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/,
    );
  });

  it('pcm extract, server killed (SIGKILL): one line, earlier jobs.csv intact, no temp file', async (t) => {
    const dir = join(base, 'extract-kill');
    mkdirSync(dir);
    const earlier =
      'id,submit,eligible,start,end,nodes,cpus,time_limit,partition,state,user,nodelist\n1,1,,2,3,1,1,,,COMPLETED,,\n';
    writeFileSync(join(dir, 'jobs.csv'), earlier);
    const o = await runWithFault(
      db,
      ['extract', '--slurmdb', url, '--cluster', CLUSTER, '--out', join(dir, 'jobs.csv')],
      dir,
      'kill',
    );
    assert.ok(
      o.filesAtFault.some((f) => /^\.jobs\.csv\..*\.tmp$/.test(f)),
      `mid-read: the temp file should exist at the fault (${o.filesAtFault.join(', ')})`,
    );
    assert.match(o.stderr, /connection to the Slurm DB .* lost while reading/);
    t.diagnostic(
      `${o.stderr.trim()} (exit ${o.code} ${o.exitSeconds} s after the fault; ${o.selectsAtFault} queries run at the fault)`,
    );
    checkOutcome(o, dir, { 'jobs.csv': earlier });
    const rows = Number(/after (\d+) rows/.exec(o.stderr)?.[1]);
    assert.ok(rows > 0 && rows < ROWS, `stopped mid-read after ${rows} of ${ROWS} rows`);
  });

  it('pcm extract, clean shutdown: one line, no output file, no temp file', async (t) => {
    await db.start(true); // after the crash: InnoDB recovers the same data
    const dir = join(base, 'extract-shutdown');
    mkdirSync(dir);
    const o = await runWithFault(
      db,
      ['extract', '--slurmdb', url, '--cluster', CLUSTER, '--out', join(dir, 'jobs.csv'), '--json'],
      dir,
      'shutdown',
    );
    t.diagnostic(
      `${o.stderr.trim()} (exit ${o.code} ${o.exitSeconds} s after the fault; ${o.selectsAtFault} queries run at the fault)`,
    );
    checkOutcome(o, dir, {});
    assert.equal(o.stdout, '', 'no JSON summary for a failed run');
  });

  it('pcm timeline --jobs mysql://, server killed: one line, earlier timeline intact, no temp file', async (t) => {
    await db.start(true);
    const dir = join(base, 'timeline-kill');
    mkdirSync(dir);
    const earlier = 'timestamp,busy_nodes\n';
    writeFileSync(join(dir, 'timeline.csv'), earlier);
    const o = await runWithFault(
      db,
      ['timeline', '--jobs', url, '--cluster', CLUSTER, '--nodes', '128', '--out', join(dir, 'timeline.csv')],
      dir,
      'kill',
    );
    t.diagnostic(
      `${o.stderr.trim()} (exit ${o.code} ${o.exitSeconds} s after the fault; ${o.selectsAtFault} queries run at the fault)`,
    );
    checkOutcome(o, dir, { 'timeline.csv': earlier });
  });

  it('pcm timeline --per-year, clean shutdown: one line, no directory contents', async (t) => {
    await db.start(true);
    const dir = join(base, 'timeline-shutdown');
    mkdirSync(dir);
    const o = await runWithFault(
      db,
      ['timeline', '--jobs', url, '--cluster', CLUSTER, '--per-year', '--out', join(dir, 'years')],
      dir,
      'shutdown',
    );
    t.diagnostic(
      `${o.stderr.trim()} (exit ${o.code} ${o.exitSeconds} s after the fault; ${o.selectsAtFault} queries run at the fault)`,
    );
    checkOutcome(o, dir, {});
    assert.ok(!existsSync(join(dir, 'years')));
  });
});
