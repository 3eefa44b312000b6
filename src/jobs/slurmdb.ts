/**
 * Job source: the Slurm accounting database (`<cluster>_job_table` in MariaDB/MySQL, written by slurmdbd),
 * read with mysql2 by keyset pagination on the primary key `job_db_inx` (batches of `batchRows` rows),
 * so memory stays flat however many millions of jobs the table holds. Only `deleted = 0` rows.
 *
 * Window: with `since`/`until`, a job is kept when its life [time_submit, time_end) overlaps
 * [since, until), time_end = 0 meaning "not ended yet" (still pending or running). This includes jobs that
 * only queued in the window (the timeline counts queued jobs too).
 *
 * Password: `opts.password`, else the URL's, else env PCM_SLURMDB_PASSWORD. It never appears in an
 * error message or the report (the URL is shown redacted). Connection, permission, unknown-database and
 * missing-table failures become one-line `UserError`s naming host:port, database and table; a failure
 * in the middle of the read is thrown from the iteration, so a caller never mistakes a partial read
 * for a complete one.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { UserError } from '../util/errors.js';
import type { JobRecord } from './record.js';
import { newReport } from './record.js';
import {
  hostPort,
  intOf,
  JOB_COLUMNS,
  type JobRow,
  jobTableName,
  parseSlurmDbUrl,
  redactSecret,
  redactUrl,
  rowToRecord,
  type SlurmDbTarget,
  TRES_CPU,
  TRES_NODE,
  tresCount,
} from './slurmdb-map.js';
import { DEFAULT_BATCH_ROWS, type JobSource, type OpenOptions, type SourceMeta } from './source.js';

export interface SlurmDbOptions extends OpenOptions {
  /** Connect timeout in ms; default 10 000. */
  connectTimeoutMs?: number;
}

/** A query that gets no answer for this long fails (a half-open connection or a stopped server). */
const DEFAULT_QUERY_TIMEOUT_MS = 300_000;
/** How long a clean close may take before the connection is dropped. */
const CLOSE_TIMEOUT_MS = 5_000;

/** A Slurm DB source that can say how far it has read (job_db_inx position), for progress bars. */
export interface SlurmDbSource extends JobSource {
  kind: 'slurmdb';
  /** Progress as positions in the job_db_inx range of the table (an estimate of rows). */
  progress(): { done: number; total: number };
}

/** Where we read from, for messages: everything but the password. */
interface Where {
  target: SlurmDbTarget;
  password: string | undefined;
  table: string;
  cluster: string;
  /** Read timeout (default DEFAULT_QUERY_TIMEOUT_MS) and TLS (none when absent). */
  queryTimeoutMs?: number;
  ssl?: { ca?: Buffer; rejectUnauthorized: boolean };
}

/** mysql2's TLS options from ours; the CA file is read here, a bad one named. */
function sslOf(tls: OpenOptions['tls']): Where['ssl'] {
  if (!tls) return undefined;
  let ca: Buffer | undefined;
  if (tls.caFile) {
    try {
      ca = readFileSync(tls.caFile);
    } catch (e) {
      throw new UserError(
        `SlurmDB.TLS.CAFile: cannot read ${tls.caFile} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
  }
  return { ...(ca ? { ca } : {}), rejectUnauthorized: tls.verify };
}

function describe(w: Where): string {
  return `${hostPort(w.target)} (database ${w.target.database}, table ${w.table})`;
}

/** Turn a mysql2/network error into a one-line UserError without the password. */
export function dbError(e: unknown, w: Where, during: string): UserError {
  const err = e as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const at = hostPort(w.target);
  const db = w.target.database;
  let msg: string;
  switch (err?.code) {
    case 'ECONNREFUSED':
      msg = `cannot connect to the Slurm DB at ${at}: connection refused (is MariaDB/MySQL running there?)`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      msg = `cannot connect to the Slurm DB: unknown host ${w.target.host}`;
      break;
    case 'ETIMEDOUT':
      msg = `cannot connect to the Slurm DB at ${at}: timed out`;
      break;
    case 'ER_ACCESS_DENIED_ERROR':
      msg = `access denied for user ${w.target.user} at ${at} (database ${db}): wrong user or password? (password from the URL or PCM_SLURMDB_PASSWORD)`;
      break;
    case 'ER_DBACCESS_DENIED_ERROR':
      msg = `user ${w.target.user} may not read database ${db} at ${at} (GRANT SELECT ON ${db}.* needed)`;
      break;
    case 'ER_TABLEACCESS_DENIED_ERROR':
      msg = `user ${w.target.user} may not read table ${db}.${w.table} at ${at} (GRANT SELECT ON ${db}.* needed)`;
      break;
    case 'ER_BAD_DB_ERROR':
      msg = `unknown database ${db} at ${at} (the slurmdbd StorageLoc, usually slurm_acct_db)`;
      break;
    case 'ER_NO_SUCH_TABLE':
      msg = `table ${db}.${w.table} not found at ${at}: is the cluster name ${w.cluster} right? (Slurm ClusterName; tables are <cluster>_job_table)`;
      break;
    case 'ER_BAD_FIELD_ERROR':
      msg = `table ${db}.${w.table} at ${at} lacks an expected column (${err.sqlMessage ?? err.message}): not a Slurm job table?`;
      break;
    case 'PROTOCOL_SEQUENCE_TIMEOUT':
      msg = `Slurm DB at ${describe(w)} gave no answer ${during} for ${(w.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) / 1000} s (SlurmDB.QueryTimeoutSeconds): server stopped or connection half-open?`;
      break;
    case 'HANDSHAKE_SSL_ERROR':
    case 'HANDSHAKE_NO_SSL_SUPPORT':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_HAS_EXPIRED':
      msg = `TLS to the Slurm DB at ${at} failed: ${err.message ?? err.code} (SlurmDB.TLS: CAFile, Verify)`;
      break;
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
    case 'EPIPE':
      msg = `connection to the Slurm DB at ${describe(w)} lost ${during}`;
      break;
    default:
      msg = `Slurm DB error at ${describe(w)} ${during}: ${err?.message ?? String(e)}`;
  }
  return new UserError(redactSecret(msg, w.password));
}

async function connect(w: Where, connectTimeout: number): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({
    host: w.target.host,
    port: w.target.port,
    user: w.target.user,
    password: w.password ?? '',
    database: w.target.database,
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout,
    multipleStatements: false,
    ...(w.ssl ? { ssl: w.ssl } : {}),
  });
  // a fatal error while no query runs is emitted as an event: keep it from crashing the process;
  // the next query on this connection then fails and is reported through dbError.
  conn.on('error', () => {});
  return conn;
}

/** A query with the read timeout (mysql2 fails it with PROTOCOL_SEQUENCE_TIMEOUT). */
function query(conn: mysql.Connection, w: Where, sql: string, params: unknown[] = []) {
  return conn.query<mysql.RowDataPacket[]>(
    { sql, timeout: w.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS },
    params,
  );
}

/**
 * Close cleanly, or drop the connection when the server does not answer the goodbye in time; after a
 * failure (`failed`), drop it at once: a server that stopped answering will not answer the goodbye either.
 */
async function close(conn: mysql.Connection | undefined, failed = false): Promise<void> {
  if (!conn) return;
  if (failed) {
    conn.destroy();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => {
    timer = setTimeout(() => r('late'), CLOSE_TIMEOUT_MS);
  });
  const r = await Promise.race([
    conn.end().then(
      () => 'ok' as const,
      () => 'failed' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (r !== 'ok') conn.destroy();
}

/** The newest cluster-wide event row's TRES gives the cluster size (4= nodes, 1= CPUs). */
async function readMeta(conn: mysql.Connection, w: Where, cluster: string): Promise<SourceMeta> {
  const meta: SourceMeta = {};
  try {
    const [rows] = await query(
      conn,
      w,
      `SELECT tres FROM \`${cluster}_event_table\` WHERE node_name = '' ORDER BY time_start DESC LIMIT 1`,
    );
    const tres = rows[0]?.tres as string | undefined;
    const nodes = tresCount(tres, TRES_NODE);
    const cpus = tresCount(tres, TRES_CPU);
    if (nodes) meta.maxNodes = nodes;
    if (cpus) meta.maxProcs = cpus;
    if (nodes && cpus && cpus % nodes === 0) meta.ppn = cpus / nodes;
  } catch {
    // the size is optional: leave it unknown
  }
  return meta;
}

/** Build the WHERE clause and its parameters for the window (parameterised; 0 = not yet). */
function windowFilter(opts: OpenOptions): { sql: string; params: number[] } {
  const parts: string[] = [];
  const params: number[] = [];
  if (opts.until !== undefined) {
    parts.push('time_submit < ?');
    params.push(opts.until);
  }
  if (opts.since !== undefined) {
    parts.push('(time_end = 0 OR time_end > ?)');
    params.push(opts.since);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

function checkWindow(opts: OpenOptions): void {
  for (const k of ['since', 'until'] as const) {
    const v = opts[k];
    if (v !== undefined && !Number.isSafeInteger(v))
      throw new UserError(`${k} must be whole epoch seconds, got ${v}`);
  }
  if (opts.since !== undefined && opts.until !== undefined && opts.until <= opts.since) {
    throw new UserError(`until (${opts.until}) must be after since (${opts.since})`);
  }
}

/**
 * Open the Slurm accounting DB at `url` (`mysql://user[:password]@host[:port]/database`) for cluster
 * `opts.cluster`. Connects once to check access, the table and its columns (so these errors surface
 * here, before anything is written) and reads the cluster size; the rows are then read by `jobs`
 * on a fresh connection, closed when the iteration ends or is abandoned.
 */
export async function openSlurmDb(url: string, opts: SlurmDbOptions): Promise<SlurmDbSource> {
  const target = parseSlurmDbUrl(url);
  if (!opts.cluster)
    throw new UserError('a cluster name is needed to read the Slurm DB (the Slurm ClusterName)');
  const table = jobTableName(opts.cluster);
  const cluster = table.slice(0, -'_job_table'.length);
  checkWindow(opts);
  const batch = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new UserError(`batch rows must be a positive integer, got ${batch}`);
  const password = opts.password ?? target.password ?? (process.env.PCM_SLURMDB_PASSWORD || undefined);
  const queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (!(Number.isFinite(queryTimeoutMs) && queryTimeoutMs > 0))
    throw new UserError(`query timeout must be a positive number of ms, got ${queryTimeoutMs}`);
  const w: Where = { target, password, table, cluster, queryTimeoutMs, ssl: sslOf(opts.tls) };
  const connectTimeout = opts.connectTimeoutMs ?? 10_000;
  const columns = JOB_COLUMNS.map((c) => `\`${c}\``).join(', ');
  const filter = windowFilter(opts);

  // check now: connection, credentials, database, table, columns; plus the table's job_db_inx range
  let conn: mysql.Connection | undefined;
  let failed = false;
  let meta: SourceMeta;
  let minInx = 0;
  let maxInx = 0;
  try {
    conn = await connect(w, connectTimeout);
    await query(conn, w, `SELECT ${columns} FROM \`${table}\` LIMIT 0`);
    const [range] = await query(
      conn,
      w,
      `SELECT MIN(job_db_inx) AS lo, MAX(job_db_inx) AS hi FROM \`${table}\` WHERE deleted = 0`,
    );
    minInx = intOf(range[0]?.lo) ?? 0;
    maxInx = intOf(range[0]?.hi) ?? 0;
    meta = await readMeta(conn, w, cluster);
  } catch (e) {
    failed = true;
    throw dbError(e, w, 'while opening');
  } finally {
    await close(conn, failed);
  }

  const report = newReport(`slurmdb ${redactUrl(url)} ${table}`);
  let last = 0;

  async function* jobs(): AsyncGenerator<JobRecord> {
    let c: mysql.Connection | undefined;
    let failed = false;
    try {
      c = await connect(w, connectTimeout);
      const sql = `SELECT ${columns} FROM \`${table}\` WHERE deleted = 0 AND job_db_inx > ?${filter.sql} ORDER BY job_db_inx LIMIT ?`;
      for (;;) {
        const [rows] = await query(c, w, sql, [last, ...filter.params, batch]);
        for (const row of rows) {
          report.lines++;
          const j = rowToRecord(row as JobRow, report);
          if (j) {
            report.jobs++;
            yield j;
          }
        }
        if (rows.length < batch) break;
        const next = intOf(rows[rows.length - 1]?.job_db_inx);
        if (next === null || next <= last)
          throw new Error('job_db_inx did not increase (not a Slurm job table?)');
        last = next;
      }
      last = maxInx;
    } catch (e) {
      failed = true;
      if (e instanceof UserError) throw e;
      throw dbError(e, w, `while reading (after ${report.lines} rows)`);
    } finally {
      await close(c, failed);
    }
  }

  return {
    kind: 'slurmdb',
    meta,
    report,
    jobs: jobs(),
    progress: () => ({ done: Math.max(0, Math.min(last, maxInx) - minInx + 1), total: maxInx - minInx + 1 }),
  };
}
