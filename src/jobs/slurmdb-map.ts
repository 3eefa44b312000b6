/**
 * Pure parts of the Slurm accounting DB source: the connection URL (parse + redact), and one
 * `<cluster>_job_table` row -> `JobRecord` (TRES strings, state codes, time limits, array/het job ids).
 * No I/O here; `slurmdb.ts` does the queries. Column semantics: docs of the job table (time columns are
 * epoch seconds with 0 = not yet, timelimit in minutes, state = base state in the low byte + flag bits).
 */
import { UserError } from '../util/errors.js';
import type { JobRecord, JobState, ParseReport } from './record.js';
import { JOB_STATES, note, skip } from './record.js';

/** Slurm's special 32-bit values (slurm.h). */
export const NO_VAL = 0xfffffffe;
export const INFINITE = 0xffffffff;
/** The 64-bit ones, as the strings the driver returns for them (beyond 2^53: never parse as numbers). */
const NO_VAL64 = '18446744073709551614';
const INFINITE64 = '18446744073709551615';

/** Built-in TRES ids (slurmdb_defs.h). */
export const TRES_CPU = 1;
export const TRES_NODE = 4;

// ---------------------------------------------------------------------------------------------
// URL

export interface SlurmDbTarget {
  user: string;
  /** From the URL (percent-decoded), if it had one. */
  password?: string;
  host: string;
  port: number;
  database: string;
}

const DEFAULT_MYSQL_PORT = 3306;

/** The URL with any password replaced by `***` (best effort, also for URLs that do not parse). */
export function redactUrl(url: string): string {
  // scheme://user:password@host... -> scheme://user:***@host...
  // greedy up to the last @ of the authority, as URL parsers read it (a raw @ in the password stays hidden)
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^/?#]*@/i, '$1:***@');
}

/**
 * Parse `mysql://user[:password]@host[:port]/database` (also `mariadb://`). Errors are `UserError`s
 * that quote the URL with its password redacted.
 */
export function parseSlurmDbUrl(url: string): SlurmDbTarget {
  const shown = redactUrl(url);
  const bad = (why: string) =>
    new UserError(
      `invalid Slurm DB URL ${shown}: ${why} (expected mysql://user[:password]@host[:port]/database)`,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw bad(`scheme ${u.protocol} is not mysql:`);
  if (!u.hostname) throw bad('no host');
  if (!u.username) throw bad('no user');
  if (u.search || u.hash) throw bad('query strings and fragments are not supported');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw bad('expected exactly one database name after the host');
  const port = u.port ? Number(u.port) : DEFAULT_MYSQL_PORT;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const t: SlurmDbTarget = { user: decodeURIComponent(u.username), host, port, database };
  if (u.password) t.password = decodeURIComponent(u.password);
  return t;
}

/** `host:port`, with IPv6 hosts bracketed. */
export function hostPort(t: { host: string; port: number }): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** Replace every occurrence of `secret` in `text` by `***` (error texts must never carry a password). */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

/** Slurm stores cluster names in lower case; the table name is built from it, so it is checked strictly. */
export function jobTableName(cluster: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(cluster)) {
    throw new UserError(`invalid cluster name ${JSON.stringify(cluster)}: expected letters, digits or _`);
  }
  return `${cluster.toLowerCase()}_job_table`;
}

// ---------------------------------------------------------------------------------------------
// Values

/** A driver value (number, or string for BIGINT columns) as a number; null when absent or not an integer. */
export function intOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : null;
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

/**
 * Count of one TRES id in a `id=count,id=count` string (`1=16,3=18446744073709551614,4=8`).
 * null when the id is absent, the value is NO_VAL64/INFINITE64 or too large for a safe integer.
 */
export function tresCount(tres: string | null | undefined, id: number): number | null {
  if (!tres) return null;
  const key = `${id}=`;
  for (const part of tres.split(',')) {
    const p = part.trim();
    if (!p.startsWith(key)) continue;
    const v = p.slice(key.length);
    if (v === NO_VAL64 || v === INFINITE64) return null;
    return intOf(v);
  }
  return null;
}

/** Job state flag bits (slurm.h) that change what a stored row means. */
const JOB_REQUEUE = 0x400;
const JOB_REQUEUE_HOLD = 0x800;
const JOB_SPECIAL_EXIT = 0x1000;
const JOB_RESIZING = 0x2000;
const JOB_REVOKED = 0x80000;
const JOB_REQUEUE_FED = 0x100000;

/**
 * `state` column -> JobState, as sacct names it: a requeue flag (REQUEUE, REQUEUE_HOLD, REQUEUE_FED,
 * SPECIAL_EXIT) means this row is a run that was requeued -> REQUEUED; RESIZING and REVOKED likewise;
 * otherwise the base state `state & 0xff` (runtime-only flags such as COMPLETING are ignored).
 */
export function mapState(code: number): JobState {
  if (code & JOB_RESIZING) return 'RESIZING';
  if (code & (JOB_REQUEUE | JOB_REQUEUE_FED | JOB_REQUEUE_HOLD | JOB_SPECIAL_EXIT)) return 'REQUEUED';
  if (code & JOB_REVOKED) return 'REVOKED';
  const base = code & 0xff;
  return base < 12 ? JOB_STATES[base] : 'UNKNOWN';
}

/** `timelimit` minutes -> seconds; INFINITE (unlimited) and NO_VAL (partition default, unknown) -> null. */
export function mapTimeLimit(minutes: number | null): number | null {
  if (minutes === null || minutes === INFINITE || minutes === NO_VAL) return null;
  return minutes * 60;
}

/**
 * Task ids of a pending array's meta row from `array_task_str`, a hex bitmap (`0x6` = tasks 1,2)
 * as Slurm stores it, printed as sacct does (`1-2`); null if it is not a hex bitmap.
 */
export function arrayTasksFromHex(hex: string): string | null {
  const m = /^0x([0-9a-f]+)$/i.exec(hex.trim());
  if (!m) return null;
  let bits = BigInt(`0x${m[1]}`);
  const ranges: string[] = [];
  let i = 0;
  let runStart = -1;
  while (bits > 0n || runStart >= 0) {
    const set = (bits & 1n) === 1n;
    if (set && runStart < 0) runStart = i;
    if (!set && runStart >= 0) {
      ranges.push(runStart === i - 1 ? `${runStart}` : `${runStart}-${i - 1}`);
      runStart = -1;
    }
    bits >>= 1n;
    i++;
  }
  return ranges.length ? ranges.join(',') : null;
}

/** The job id as sacct's JobID prints it: `123`, array task `100_4`, pending array `100_[1-3]`, het `77+1`. */
export function jobIdOf(r: {
  id_job: number;
  id_array_job: number | null;
  id_array_task: number | null;
  array_task_str?: string | null;
  het_job_id: number | null;
  het_job_offset: number | null;
}): string {
  const arrayJob = r.id_array_job ?? 0;
  const task = r.id_array_task ?? NO_VAL;
  if (arrayJob > 0 && task !== NO_VAL && task !== INFINITE) return `${arrayJob}_${task}`;
  if (arrayJob > 0 && r.array_task_str) {
    const tasks = arrayTasksFromHex(r.array_task_str);
    if (tasks) return `${arrayJob}_[${tasks}]`;
  }
  const het = r.het_job_id ?? 0;
  const off = r.het_job_offset ?? NO_VAL;
  if (het > 0 && off !== NO_VAL && off !== INFINITE) return `${het}+${off}`;
  return String(r.id_job);
}

// ---------------------------------------------------------------------------------------------
// Rows

/** The columns read from `<cluster>_job_table` (backticks: `partition` is a reserved word). */
export const JOB_COLUMNS = [
  'job_db_inx',
  'id_job',
  'id_array_job',
  'id_array_task',
  'array_task_str',
  'het_job_id',
  'het_job_offset',
  'time_submit',
  'time_eligible',
  'time_start',
  'time_end',
  'nodes_alloc',
  'cpus_req',
  'tres_alloc',
  'tres_req',
  'timelimit',
  'partition',
  'state',
  'id_user',
  'nodelist',
] as const;

export type JobRow = Record<(typeof JOB_COLUMNS)[number], unknown>;

/** Latest plausible epoch second (year 2200); anything later except the special values is corrupt. */
const MAX_EPOCH = 7_258_118_400;

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return s === '' ? null : s;
}

/** A row that cannot be a job: its message is the skip reason. */
class BadRow extends Error {}

/** An epoch column: 0 -> null; `allowInfinite` maps INFINITE (eligible of held array tasks) to null. */
function epochOf(v: unknown, name: string, allowInfinite = false): number | null {
  const n = intOf(v);
  if (n === null) throw new BadRow(`${name} is not a number (${String(v)})`);
  if (n === 0) return null;
  if (allowInfinite && (n === INFINITE || n === NO_VAL)) return null;
  if (n > MAX_EPOCH) throw new BadRow(`${name} out of range (${n})`);
  return n;
}

/**
 * One job_table row -> JobRecord, or null when the row is impossible (skipped into `report` with its
 * job_db_inx as the "line"). Jobs that never got nodes (nodes_alloc 0) report the requested nodes and
 * CPUs (tres_req), as sacct's NNodes/ReqCPUS do; such jobs keep the start = end that Slurm stores for a
 * job cancelled while pending, so they hold nodes for no time.
 */
export function rowToRecord(row: JobRow, report: ParseReport): JobRecord | null {
  try {
    return mapRow(row, report);
  } catch (e) {
    if (!(e instanceof BadRow)) throw e;
    skip(report, intOf(row.job_db_inx) ?? -1, e.message);
    return null;
  }
}

function mapRow(row: JobRow, report: ParseReport): JobRecord {
  const idJob = intOf(row.id_job);
  if (idJob === null || idJob === 0) throw new BadRow(`id_job invalid (${String(row.id_job)})`);

  const submit = epochOf(row.time_submit, 'time_submit');
  const eligible = epochOf(row.time_eligible, 'time_eligible', true);
  const s = epochOf(row.time_start, 'time_start');
  const e = epochOf(row.time_end, 'time_end');
  if (s !== null && e !== null && e < s) throw new BadRow(`time_end ${e} before time_start ${s}`);
  if (s === null && e !== null) note(report, 'ended_without_start');

  const stateCode = intOf(row.state);
  if (stateCode === null) throw new BadRow(`state is not a number (${String(row.state)})`);
  const state = mapState(stateCode);
  if (state === 'UNKNOWN') note(report, 'unknown_state');

  const tresAlloc = text(row.tres_alloc);
  const tresReq = text(row.tres_req);
  let nodes = intOf(row.nodes_alloc) ?? 0;
  if (nodes >= NO_VAL) nodes = 0;
  if (nodes === 0) {
    const req = tresCount(tresReq, TRES_NODE) ?? tresCount(tresAlloc, TRES_NODE);
    if (req !== null && req > 0) {
      nodes = req;
      note(report, 'nodes_from_request');
    } else note(report, 'no_node_count');
  }
  let cpus = tresCount(tresAlloc, TRES_CPU) ?? 0;
  if (cpus === 0) {
    const req = tresCount(tresReq, TRES_CPU) ?? intOf(row.cpus_req);
    cpus = req !== null && req < NO_VAL ? req : 0;
  }

  const nodeList = text(row.nodelist);
  const userId = intOf(row.id_user);
  return {
    id: jobIdOf({
      id_job: idJob,
      id_array_job: intOf(row.id_array_job),
      id_array_task: intOf(row.id_array_task),
      array_task_str: text(row.array_task_str),
      het_job_id: intOf(row.het_job_id),
      het_job_offset: intOf(row.het_job_offset),
    }),
    submit,
    eligible,
    start: s,
    end: e,
    nodes,
    cpus,
    timeLimit: mapTimeLimit(intOf(row.timelimit)),
    partition: text(row.partition),
    state,
    user: userId === null ? null : String(userId),
    nodeList: nodeList === null || nodeList === 'None assigned' || nodeList === '(null)' ? null : nodeList,
  };
}
