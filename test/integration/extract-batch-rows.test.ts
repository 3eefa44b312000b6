/**
 * `pcm extract --config FILE` reads SlurmDB.URL, Cluster and BatchRows, and `--batch-rows N` overrides
 * BatchRows: checked on a PRIVATE MariaDB (scripts/services/mariadb.sh with its own PCM_SERVICES_DIR and a
 * free port; the shared one is never touched) holding ROWS jobs in a `pcmtest_job_table` made from the
 * schema a real slurmdbd 22.05 created (test/fixtures/slurmdb/pcmtest-schema.sql). The server's Com_select
 * counter gives the queries each run made: keyset pagination reads ceil(ROWS / batch) batches, plus one
 * empty batch when the batch size divides ROWS, so the counts of two runs differ by exactly the batches.
 * Needs mariadbd / mariadb-install-db (scripts/services/install.sh) and root. PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type mysql from 'mysql2/promise';
import { freePort } from '../../harness/net.js';
import { createSlurmAccounting, PrivateMariaDb } from '../helpers/private-mariadb.js';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const run = promisify(execFile);
const ROWS = 5000;
const CLUSTER = 'pcmtest';
const USER = 'pcm_batch';
const PASSWORD = `Bq7@x:y/z%#'"\\ ;&$`;

/** Batch queries keyset pagination makes for `rows` rows: it stops at the first short batch. */
const batches = (rows: number, batch: number) => Math.floor(rows / batch) + 1;

describe('pcm extract --config: SlurmDB.BatchRows reaches the queries', { skip }, () => {
  let base = '';
  let db: PrivateMariaDb;
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    base = mkdtempSync('/tmp/pcmb-'); // short: the unix socket path must stay under ~100 characters
    db = new PrivateMariaDb(join(base, 'svc'), await freePort());
    await db.start(false);
    const c = await db.root();
    try {
      await createSlurmAccounting(c, USER, PASSWORD);
      await c.query(
        `INSERT INTO ${CLUSTER}_job_table (id_job, id_assoc, id_resv, id_wckey, id_user, id_group, het_job_id, ` +
          'het_job_offset, state_reason_prev, job_name, cpus_req, nodes_alloc, `partition`, priority, state, ' +
          'timelimit, time_submit, time_eligible, time_start, time_end, tres_alloc, tres_req, nodelist) ' +
          "SELECT seq, 1, 0, 0, 1000, 1000, 0, 4294967294, 0, 'batch', 4, 1, 'batch', 1, 3, 720, " +
          '1700000000 + seq * 60, 1700000000 + seq * 60, 1700000000 + seq * 60 + 30, 1700000000 + seq * 60 + 630, ' +
          `'1=4,4=1', '1=4,4=1', 'cn001' FROM seq_1_to_${ROWS}`,
      );
    } finally {
      await c.end();
    }
    env = { PCM_SLURMDB_PASSWORD: PASSWORD };
  });
  after(async () => {
    if (base) {
      await db?.stop().catch(() => {});
      rmSync(base, { recursive: true, force: true });
    }
  });

  /** Run `pcm extract ARGS`; the selects the server ran meanwhile (nothing else talks to it). */
  async function extract(args: string[]): Promise<{ selects: number; stderr: string; out: string }> {
    const c = await db.root();
    const count = async () => {
      const [r] = await c.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
      return Number(r[0].Value);
    };
    try {
      const before = await count();
      const out = join(base, `jobs-${Math.random().toString(36).slice(2)}.csv`);
      const r = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'extract', ...args, '--out', out],
        {
          cwd: ROOT,
          env: { ...process.env, PCM_DEBUG: '', ...env },
        },
      );
      // the monitor's own SHOW STATUS is not a Com_select
      return { selects: (await count()) - before, stderr: r.stderr, out: readFileSync(out, 'utf8') };
    } finally {
      await c.end();
    }
  }

  it('BatchRows from the config, --batch-rows over it, the default without either', async () => {
    const url = `mysql://${USER}@127.0.0.1:${db.port}/slurm_acct_db`;
    const cfg = join(base, 'pcm.yaml');
    writeFileSync(cfg, `SlurmDB:\n  URL: "${url}"\n  Cluster: ${CLUSTER}\n  BatchRows: 700\n`);
    const fromConfig = await extract(['--config', cfg]);
    const overridden = await extract(['--config', cfg, '--batch-rows', '1000']);
    const byDefault = await extract(['--slurmdb', url, '--cluster', CLUSTER]);
    for (const r of [fromConfig, overridden, byDefault]) {
      assert.match(r.stderr, new RegExp(`wrote ${ROWS} jobs`));
      assert.equal(r.out.trim().split('\n').length, ROWS + 1);
      assert.ok(!r.stderr.includes(PASSWORD));
    }
    assert.equal(fromConfig.out, byDefault.out);
    // the same opening queries each time; only the batches differ
    assert.equal(fromConfig.selects - byDefault.selects, batches(ROWS, 700) - batches(ROWS, 2000));
    assert.equal(overridden.selects - byDefault.selects, batches(ROWS, 1000) - batches(ROWS, 2000));
  });
});
