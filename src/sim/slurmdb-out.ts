/**
 * Simulated jobs -> rows of a real Slurm accounting DB's `<cluster>_job_table`, so `pcm extract --slurmdb`
 * and `sacct` read simulated history exactly like a site's own.
 *
 * - The table must exist, created by a real slurmdbd (`sacctmgr add cluster NAME`, or a slurmctld with
 *   that ClusterName registering itself). We never create or alter a schema: a missing table is a
 *   one-line error telling the user to let slurmdbd create the cluster first.
 * - Columns written (the rest keep their defaults): ids (id_job, id_assoc, id_user, id_group, id_qos,
 *   id_array_*, het_*), times (time_submit = time_eligible, time_start, time_end; epoch s), size (nodes_alloc,
 *   cpus_req, tres_alloc/tres_req as `1=cpus,2=mem,4=nodes,5=billing`, mem_req 0 as sbatch leaves it),
 *   where (nodelist as a compressed hostlist, node_inx as Slurm's index ranges `0-3,5`, partition),
 *   outcome (state 3 COMPLETED / 6 TIMEOUT, exit_code 0 as Slurm stores both), timelimit in minutes
 *   (rounded up), job_name, account, priority, mod_time, and `system_comment` = SIM_MARK to tell our rows apart.
 * - Batched INSERTs (client-side escaped parameters, `batchRows` rows each), one transaction per batch: a
 *   failure leaves whole batches, and a re-run with `replace` completes the range.
 * - Idempotent re-runs: before writing, rows already marked SIM_MARK in the jobs' submit range are counted;
 *   without `replace` that is an error (nothing written), with `replace` they are deleted first (their own
 *   transaction). Rows that are not ours are never deleted; a job colliding with one (same id_job and
 *   time_submit, the table's unique key) fails that batch with a message naming the job.
 */
import mysql from 'mysql2/promise';
import { compress as compressNames, count, expand } from '../jobs/hostlist.js';
import type { JobRecord } from '../jobs/record.js';
import { dbError } from '../jobs/slurmdb.js';
import { hostPort, jobTableName, NO_VAL, parseSlurmDbUrl, redactSecret } from '../jobs/slurmdb-map.js';
import { InputError, UserError } from '../util/errors.js';

/** Marker in `system_comment` of every row we write. */
export const SIM_MARK = 'pcm simulate';
/** Job state codes (slurm.h `enum job_states`). */
const STATE_CODE: Partial<Record<JobRecord['state'], number>> = {
  PENDING: 0,
  RUNNING: 1,
  COMPLETED: 3,
  CANCELLED: 4,
  FAILED: 5,
  TIMEOUT: 6,
};
/** Uid given to simulated user `uN` (uid base + N); other non-numeric names count up from uid base + 100000. */
const DEFAULT_UID_BASE = 10_000;

export interface SlurmDbWriteOptions {
  /** mysql://user[:password]@host[:port]/database */
  url: string;
  cluster: string;
  /** Password (else from the URL, else env PCM_SLURMDB_PASSWORD). */
  password?: string;
  /** One name per node index of the simulated cluster. */
  nodeNames: readonly string[];
  cpusPerNode: number;
  /** Memory per node, MB, for the TRES strings (0 = leave mem out). */
  memPerNodeMb?: number;
  /** Partition of jobs that have none. */
  partition?: string;
  /** Delete our previous rows in the submit range first. */
  replace?: boolean;
  batchRows?: number;
  uidBase?: number;
  jobName?: string;
  onProgress?: (rows: number) => void;
}

export interface SlurmDbWriteResult {
  table: string;
  written: number;
  deleted: number;
  batches: number;
  /** Submit range of the rows written, [from, to] epoch s. */
  from: number | null;
  to: number | null;
}

/** `node[001-128]`-style names for an n-node cluster (zero-padded to at least 2 digits). */
export function defaultNodeNames(n: number, prefix = 'node'): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

/** The names of `--node-names HOSTLIST`: exactly `nodes` of them, all different. */
export function nodeNamesFrom(hostlist: string, nodes: number): string[] {
  const n = count(hostlist);
  if (n !== nodes)
    throw new InputError(`--node-names: ${hostlist} names ${n} nodes, expected ${nodes} (the cluster size)`);
  const names = expand(hostlist);
  if (new Set(names).size !== names.length)
    throw new InputError(`--node-names: ${hostlist} repeats a node name`);
  return names;
}

/** Slurm's node_inx: sorted node indices as ranges, `0-3,5`. */
export function nodeIndexRanges(idx: readonly number[]): string {
  const s = [...idx].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Users -> numeric uids: numbers stay, `uN` -> base + N, anything else base + 100000 + first-seen order. */
export class UidMap {
  private readonly other = new Map<string, number>();
  constructor(private readonly base = DEFAULT_UID_BASE) {}
  uid(user: string | null): number {
    if (user === null || user === '') return 0;
    if (/^\d{1,9}$/.test(user)) return Number(user);
    const m = /^u(\d{1,5})$/.exec(user);
    if (m) return this.base + Number(m[1]);
    let u = this.other.get(user);
    if (u === undefined) {
      u = this.base + 100_000 + this.other.size;
      this.other.set(user, u);
    }
    return u;
  }
}

/** The job_table columns we write, in the order of `jobRow`'s values. */
export const WRITE_COLUMNS = [
  'mod_time',
  'deleted',
  'account',
  'cpus_req',
  'exit_code',
  'flags',
  'job_name',
  'id_assoc',
  'id_array_job',
  'id_array_task',
  'id_job',
  'id_qos',
  'id_resv',
  'id_wckey',
  'id_user',
  'id_group',
  'het_job_id',
  'het_job_offset',
  'state_reason_prev',
  'mem_req',
  'nodelist',
  'nodes_alloc',
  'node_inx',
  'partition',
  'priority',
  'state',
  'timelimit',
  'time_submit',
  'time_eligible',
  'time_start',
  'time_end',
  'tres_alloc',
  'tres_req',
  'work_dir',
  'system_comment',
] as const;

export interface RowContext {
  idAssoc: number;
  account: string;
  idQos: number;
  modTime: number;
  partition: string;
  cpusPerNode: number;
  memPerNodeMb: number;
  jobName: string;
  uids: UidMap;
  nodeNames: readonly string[];
}

/** A numeric job id for the table (id_job is an unsigned 32-bit column; Slurm ids are below NO_VAL). */
export function jobIdNumber(id: string): number | null {
  if (!/^\d{1,10}$/.test(id)) return null;
  const n = Number(id);
  return n >= 1 && n < NO_VAL ? n : null;
}

/** One scheduled job -> the values of WRITE_COLUMNS. `nodes` are its node indices. */
export function jobRow(j: JobRecord, idJob: number, nodes: readonly number[], c: RowContext): unknown[] {
  if (j.submit === null || j.start === null || j.end === null)
    throw new InputError(`job ${j.id}: only scheduled jobs (submit, start, end) can be written`);
  const state = STATE_CODE[j.state];
  if (state === undefined) throw new InputError(`job ${j.id}: state ${j.state} has no job_table code here`);
  const tres = (cpus: number, n: number) =>
    c.memPerNodeMb > 0 ? `1=${cpus},2=${c.memPerNodeMb * n},4=${n},5=${cpus}` : `1=${cpus},4=${n},5=${cpus}`;
  const cpus = j.cpus > 0 ? j.cpus : j.nodes * c.cpusPerNode;
  const uid = c.uids.uid(j.user);
  const hosts = nodes.map((k) => c.nodeNames[k]);
  return [
    c.modTime,
    0,
    c.account,
    cpus,
    0, // exit_code: Slurm stores 0 for COMPLETED and for TIMEOUT
    0,
    c.jobName,
    c.idAssoc,
    0,
    NO_VAL, // id_array_task: not an array task
    idJob,
    c.idQos,
    0,
    0,
    uid,
    uid,
    0,
    NO_VAL, // het_job_offset: not a het job
    0,
    0,
    j.nodeList ?? (hosts.length ? compressNames(hosts) : 'None assigned'),
    j.nodes,
    nodeIndexRanges(nodes),
    j.partition ?? c.partition,
    1,
    state,
    j.timeLimit === null ? 0xffffffff : Math.ceil(j.timeLimit / 60),
    j.submit,
    j.eligible ?? j.submit,
    j.start,
    j.end,
    tres(cpus, j.nodes),
    tres(cpus, j.nodes),
    '',
    SIM_MARK,
  ];
}

interface Assoc {
  idAssoc: number;
  account: string;
}

/** The association rows are attached to: root's user association of the cluster, else its first one. */
async function findAssoc(conn: mysql.Connection, cluster: string): Promise<Assoc> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT id_assoc, acct, user FROM \`${cluster}_assoc_table\` WHERE deleted = 0 ORDER BY (user = 'root') DESC, (user <> '') DESC, id_assoc LIMIT 1`,
  );
  const r = rows[0];
  return r
    ? { idAssoc: Number(r.id_assoc), account: String(r.acct || 'root') }
    : { idAssoc: 0, account: 'root' };
}

/**
 * Write scheduled jobs (JobRecords with their node indices) into `<cluster>_job_table`.
 * `jobs` must be finite (it is read twice: once for the range and ids, once to write).
 */
export async function writeSlurmDb(
  jobs: ReadonlyArray<{ record: JobRecord; nodes: readonly number[] }>,
  o: SlurmDbWriteOptions,
): Promise<SlurmDbWriteResult> {
  const target = parseSlurmDbUrl(o.url);
  const table = jobTableName(o.cluster);
  const cluster = table.slice(0, -'_job_table'.length);
  const password = o.password ?? target.password ?? (process.env.PCM_SLURMDB_PASSWORD || undefined);
  const where = { target, password, table, cluster };
  const batch = o.batchRows ?? 1000;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UserError(`batch rows must be >= 1, got ${batch}`);
  // ids: numeric where every id is, else 1..n in submit order (so they stay unique)
  let ids = jobs.map((j) => jobIdNumber(j.record.id));
  if (ids.some((x) => x === null) || new Set(ids).size !== ids.length) ids = jobs.map((_, i) => i + 1);
  let from: number | null = null;
  let to: number | null = null;
  for (const { record } of jobs) {
    const s = record.submit as number;
    if (from === null || s < from) from = s;
    if (to === null || s > to) to = s;
  }
  const res: SlurmDbWriteResult = { table, written: 0, deleted: 0, batches: 0, from, to };
  let conn: mysql.Connection | undefined;
  let during = 'while connecting';
  try {
    conn = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: password ?? '',
      database: target.database,
      connectTimeout: 10_000,
      multipleStatements: false,
    });
    conn.on('error', () => {});
    during = 'while checking the table';
    const [tables] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES LIKE ?', [table]);
    if (tables.length === 0) {
      throw new UserError(
        `table ${target.database}.${table} not found at ${hostPort(target)}: let slurmdbd create cluster ${cluster} first ` +
          `(sacctmgr -i add cluster ${cluster}, or start a slurmctld with ClusterName=${cluster}); pcm never creates Slurm tables`,
      );
    }
    const assoc = await findAssoc(conn, cluster);
    const [qos] = await conn.query<mysql.RowDataPacket[]>(
      "SELECT id FROM qos_table WHERE deleted = 0 AND name = 'normal' LIMIT 1",
    );
    const ctx: RowContext = {
      idAssoc: assoc.idAssoc,
      account: assoc.account,
      idQos: qos[0] ? Number(qos[0].id) : 0,
      modTime: Math.floor(Date.now() / 1000),
      partition: o.partition ?? 'batch',
      cpusPerNode: o.cpusPerNode,
      memPerNodeMb: o.memPerNodeMb ?? 0,
      jobName: o.jobName ?? 'pcm-sim',
      uids: new UidMap(o.uidBase),
      nodeNames: o.nodeNames,
    };
    if (from !== null && to !== null) {
      during = 'while looking for earlier simulated rows';
      const [old] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM \`${table}\` WHERE system_comment = ? AND time_submit BETWEEN ? AND ?`,
        [SIM_MARK, from, to],
      );
      const n = Number(old[0]?.n ?? 0);
      if (n > 0 && !o.replace) {
        throw new UserError(
          `${table} already holds ${n} simulated rows submitted in ${iso(from)} .. ${iso(to)}: ` +
            'rerun with --replace to replace them (only rows written by pcm simulate are deleted)',
        );
      }
      if (n > 0) {
        during = 'while deleting earlier simulated rows';
        await conn.beginTransaction();
        const [del] = await conn.query<mysql.ResultSetHeader>(
          `DELETE FROM \`${table}\` WHERE system_comment = ? AND time_submit BETWEEN ? AND ?`,
          [SIM_MARK, from, to],
        );
        await conn.commit();
        res.deleted = del.affectedRows;
      }
    }
    const sql = `INSERT INTO \`${table}\` (${WRITE_COLUMNS.map((c) => `\`${c}\``).join(', ')}) VALUES ?`;
    for (let i = 0; i < jobs.length; i += batch) {
      const part = jobs.slice(i, i + batch);
      const rows = part.map((j, k) => jobRow(j.record, ids[i + k] as number, j.nodes, ctx));
      during = `while writing rows ${i + 1}..${i + part.length}`;
      await conn.beginTransaction();
      try {
        await conn.query(sql, [rows]);
        await conn.commit();
      } catch (e) {
        await conn.rollback().catch(() => {});
        const err = e as { code?: string; sqlMessage?: string };
        if (err?.code === 'ER_DUP_ENTRY') {
          throw new UserError(
            `${table}: a job in rows ${i + 1}..${i + part.length} has the id_job and time_submit of a row already stored ` +
              `(${err.sqlMessage ?? 'duplicate key'}); nothing of this batch was written. Write into a separate cluster ` +
              '(sacctmgr add cluster) or rerun with --replace if those rows are from an earlier pcm simulate',
          );
        }
        throw e;
      }
      res.written += part.length;
      res.batches++;
      o.onProgress?.(res.written);
    }
    return res;
  } catch (e) {
    if (e instanceof UserError) throw new UserError(redactSecret(e.message, password), e.exitCode);
    const code = (e as { code?: string })?.code;
    if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
      throw new UserError(
        `user ${target.user} may not write ${target.database}.${table} at ${hostPort(target)} ${during} ` +
          `(needs SELECT, INSERT and DELETE on ${target.database}.*, e.g. the slurmdbd StorageUser)`,
      );
    }
    throw dbError(e, where, during);
  } finally {
    if (conn) await conn.end().catch(() => conn?.destroy());
  }
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}
