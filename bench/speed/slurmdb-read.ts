/**
 * How fast `openSlurmDb` streams a big job table, and how much memory it keeps: fills a scratch table
 * `pcmbench_job_table` (same definition as the test cluster's, via CREATE TABLE ... LIKE) with N synthetic
 * jobs, reads it back with several batch sizes, prints rows/s and peak RSS, and drops the table.
 *
 *   bash scripts/services/up.sh && source .pcm/services/env.sh
 *   node --import tsx bench/speed/slurmdb-read.ts [rows=1000000] [batches=1000,10000,50000]
 *
 * PCM_BENCH_KEEP=1 keeps the filled table for the next run (and reuses it when it has `rows` rows), so that
 * each batch size can be measured in its own process (peak RSS is per process).
 * Needs PCM_TEST_MYSQL_URL / PCM_SLURMDB_PASSWORD / PCM_TEST_SLURM_CLUSTER from up.sh's env.sh.
 */
import mysql from 'mysql2/promise';
import { openSlurmDb } from '../../src/jobs/slurmdb.js';

const url = process.env.PCM_TEST_MYSQL_URL;
const password = process.env.PCM_SLURMDB_PASSWORD;
const cluster = process.env.PCM_TEST_SLURM_CLUSTER;
if (!url || !cluster) {
  console.error('needs the services: bash scripts/services/up.sh && source .pcm/services/env.sh');
  process.exit(2);
}
const rows = Number(process.argv[2] ?? 1_000_000);
const batches = (process.argv[3] ?? '1000,10000,50000').split(',').map(Number);
const BENCH = 'pcmbench';
const SEED = 1000;

const u = new URL(url);
const conn = await mysql.createConnection({
  host: u.hostname,
  port: Number(u.port || 3306),
  user: decodeURIComponent(u.username),
  password,
  database: u.pathname.slice(1),
});

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

const keep = process.env.PCM_BENCH_KEEP === '1';

async function existingRows(): Promise<number | null> {
  try {
    const [r] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${BENCH}_job_table\``);
    return Number(r[0]?.n);
  } catch {
    return null;
  }
}

/** (Re)create the scratch table and fill it with `rows` synthetic jobs. */
async function fill(): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS \`${BENCH}_job_table\``);
  await conn.query(`CREATE TABLE \`${BENCH}_job_table\` LIKE \`${cluster}_job_table\``);
  const t0 = performance.now();
  // seed rows: a plausible mix (1-64 nodes, 4 CPUs each, runs up to 12 h), then double in SQL
  const values: unknown[][] = [];
  const base = 1_700_000_000;
  for (let i = 0; i < SEED; i++) {
    const nodes = 1 << (i % 7);
    const submit = base + i * 97;
    const start = submit + (i % 13) * 60;
    const end = start + 60 + ((i * 7919) % 43200);
    values.push([
      i + 1,
      0,
      0xfffffffe,
      0,
      0xfffffffe,
      submit,
      submit,
      start,
      end,
      nodes,
      nodes * 4,
      `1=${nodes * 4},2=${nodes * 1000},3=18446744073709551614,4=${nodes},5=${nodes * 4}`,
      `1=${nodes * 4},2=${nodes * 1000},4=${nodes},5=${nodes * 4}`,
      720,
      'batch',
      3,
      1000 + (i % 50),
      nodes === 1 ? 'cn001' : `cn[001-${String(nodes).padStart(3, '0')}]`,
    ]);
  }
  const cols =
    'id_job, id_array_job, id_array_task, het_job_id, het_job_offset, time_submit, time_eligible, time_start, ' +
    'time_end, nodes_alloc, cpus_req, tres_alloc, tres_req, timelimit, `partition`, state, id_user, nodelist';
  await conn.query(`INSERT INTO \`${BENCH}_job_table\` (${cols}) VALUES ?`, [values]);
  let have = SEED;
  while (have < rows) {
    const take = Math.min(have, rows - have);
    await conn.query(
      `INSERT INTO \`${BENCH}_job_table\` (${cols}) SELECT id_job + ?, id_array_job, id_array_task, het_job_id, ` +
        'het_job_offset, time_submit + ?, time_eligible + ?, time_start + ?, time_end + ?, nodes_alloc, cpus_req, ' +
        `tres_alloc, tres_req, timelimit, \`partition\`, state, id_user, nodelist FROM \`${BENCH}_job_table\` ` +
        'ORDER BY job_db_inx LIMIT ?',
      [have, have * 97, have * 97, have * 97, have * 97, take],
    );
    have += take;
  }
  console.log(
    `filled ${BENCH}_job_table with ${have} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

try {
  await conn.query("SET SESSION sql_mode = ''");
  if (keep && (await existingRows()) === rows) {
    console.log(`reusing ${BENCH}_job_table with ${rows} rows`);
  } else await fill();
  console.log(`RSS before reading: ${mb(process.resourceUsage().maxRSS)} (peak so far)`);

  for (const batchRows of batches) {
    const t1 = performance.now();
    const src = await openSlurmDb(url, { cluster: BENCH, password, batchRows });
    let n = 0;
    let nodeSeconds = 0;
    for await (const j of src.jobs) {
      n++;
      nodeSeconds += j.nodes * ((j.end ?? 0) - (j.start ?? 0));
    }
    const s = (performance.now() - t1) / 1000;
    console.log(
      `batch ${batchRows}: ${n} jobs in ${s.toFixed(2)} s = ${Math.round(n / s)} rows/s, skipped ${src.report.skipped}, ` +
        `peak RSS ${mb(process.resourceUsage().maxRSS)}, check ${nodeSeconds}`,
    );
  }
} finally {
  if (!keep) await conn.query(`DROP TABLE IF EXISTS \`${BENCH}_job_table\``).catch(() => {});
  await conn.end();
}
