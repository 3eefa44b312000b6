import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { AtomicFileWriter, fsyncDir } from '../util/atomic.js';
import { lockDirectory } from '../util/dir-lock.js';
import { errorMessage, InputError, UserError } from '../util/errors.js';
import {
  COLUMNS_ADDED_AFTER_FIRST_RELEASE,
  TIMELINE_COLUMNS,
  type Timeline,
  type TimelineColumn,
} from './columns.js';
import {
  checkYearFile,
  checkYearFileSize,
  commitYearSet,
  readYearSet,
  SET_LOCK,
  type SetEntry,
  type YearFile,
  yearFileName,
} from './year-set.js';

/**
 * The timeline as CSV: `timestamp` (ISO UTC, `2024-01-01T00:00:00Z`) first, then the contract columns in
 * order, then `capacity` and `total_cpus` (constant per row, so the file carries its cluster size and stays
 * a plain table). Integers are written without decimals, other values with 6 significant digits.
 * One row per minute, no gaps: the reader rejects gaps and disorder with the line.
 */

const TIMESTAMP_COLUMN = 'timestamp';
/** Cluster-size columns written after the contract columns. */
const SIZE_COLUMNS = ['capacity', 'total_cpus'] as const;
/**
 * Columns added after the first release (running nodes by age, ending within 60/240 min, expected ends): a
 * CSV without them was written by an older pcm and is refused with that reason (they cannot be filled in
 * from the other columns; the jobs are needed).
 */
const ADDED_COLUMNS: ReadonlySet<string> = new Set(COLUMNS_ADDED_AFTER_FIRST_RELEASE);
export const CSV_HEADER = [TIMESTAMP_COLUMN, ...TIMELINE_COLUMNS, ...SIZE_COLUMNS].join(',');

/** Compact number text: integers as is, others rounded to 6 significant digits (>= 1e5: to integer). */
export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (!Number.isFinite(a)) return String(v);
  if (a >= 1e5) return String(Math.round(v));
  if (a < 1e-12) return '0';
  const d = Math.min(17, 5 - Math.floor(Math.log10(a)));
  const p = 10 ** d;
  return String(Math.round(v * p) / p);
}

/** `2024-01-01T00:00:00Z` for epoch seconds. */
export function isoMinute(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const HHMM: string[] = Array.from(
  { length: 1440 },
  (_, m) => `T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z`,
);

/** Rows [from, to) of `tl` as CSV text pieces, header first; `emit` receives ~1 MB pieces. */
function emitRows(
  tl: Timeline,
  from: number,
  to: number,
  emit: (s: string) => void,
  onRow?: (i: number) => void,
) {
  emit(`${CSV_HEADER}\n`);
  const cols = TIMELINE_COLUMNS.map((c) => tl.columns[c]);
  const size = `,${formatValue(tl.capacity)},${formatValue(tl.totalCpus)}\n`;
  let day = Number.NaN;
  let dayStr = '';
  let buf = '';
  for (let i = from; i < to; i++) {
    const t = tl.start + 60 * i;
    const d = Math.floor(t / 86400);
    if (d !== day) {
      day = d;
      dayStr = new Date(d * 86400 * 1000).toISOString().slice(0, 10);
    }
    let line = dayStr + HHMM[(t - d * 86400) / 60];
    for (let c = 0; c < cols.length; c++) line += `,${formatValue(cols[c][i])}`;
    buf += line + size;
    if (buf.length > 1 << 20) {
      emit(buf);
      buf = '';
      onRow?.(i + 1);
    }
  }
  if (buf) emit(buf);
  onRow?.(to);
}

export interface WriteOptions {
  /** Called now and then with the number of rows written so far (for a progress bar). */
  onProgress?: (rows: number) => void;
}

/** Write the timeline (rows [from, to), default all) to `path` atomically. */
export function writeTimelineCsv(
  path: string,
  tl: Timeline,
  opts: WriteOptions & { from?: number; to?: number } = {},
): void {
  writeRows(path, tl, opts.from ?? 0, opts.to ?? tl.minutes, opts.onProgress);
}

/**
 * Rows [from, to) to a temp file beside `path`, committed under `path`, or under `nameOf(sha256)` (a name
 * from the content) when given. Returns the committed path, its bytes and sha256 (only with `nameOf`).
 */
function writeRows(
  path: string,
  tl: Timeline,
  from: number,
  to: number,
  onProgress?: (rows: number) => void,
  nameOf?: (sha256: string) => string,
): { path: string; bytes: number; sha256: string } {
  let w: AtomicFileWriter;
  try {
    mkdirSync(dirname(path), { recursive: true });
    w = new AtomicFileWriter(path);
  } catch (e) {
    throw writeError(path, e);
  }
  const hash = nameOf ? createHash('sha256') : null;
  let bytes = 0;
  try {
    emitRows(
      tl,
      from,
      to,
      (s) => {
        hash?.update(s);
        bytes += Buffer.byteLength(s);
        w.write(s);
      },
      onProgress,
    );
    const sha256 = hash ? hash.digest('hex') : '';
    const committed = nameOf ? nameOf(sha256) : path;
    w.commit(committed);
    return { path: committed, bytes, sha256 };
  } catch (e) {
    w.abort();
    throw writeError(path, e);
  }
}

function writeError(path: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ? new UserError(`cannot write ${path}: ${code}`) : (e as Error);
}

/** UTC year of each row boundary: [year, fromRow, toRow) pieces in order. */
export function yearSlices(tl: Timeline): Array<{ year: number; from: number; to: number }> {
  const out: Array<{ year: number; from: number; to: number }> = [];
  let i = 0;
  while (i < tl.minutes) {
    const year = new Date(tl.start * 1000 + i * 60_000).getUTCFullYear();
    const next = Date.UTC(year + 1, 0, 1) / 1000;
    const to = Math.min(tl.minutes, Math.ceil((next - tl.start) / 60));
    out.push({ year, from: i, to });
    i = to;
  }
  return out;
}

/**
 * Per-year split: one CSV per UTC year in `dir`, written as one set (src/timeline/year-set.ts): the year
 * files under new names, the manifest last, then what it does not name removed. Returns the paths written.
 */
export function writeTimelineCsvPerYear(dir: string, tl: Timeline, opts: WriteOptions = {}): string[] {
  try {
    if (mkdirSync(dir, { recursive: true }) !== undefined) fsyncDir(dirname(dir));
  } catch (e) {
    throw new UserError(
      `cannot create directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`,
    );
  }
  let release: () => void;
  try {
    release = lockDirectory(
      dir,
      SET_LOCK,
      (pid) =>
        `${dir}: process ${pid} is writing a timeline into this directory (${SET_LOCK}); one at a time`,
    );
  } catch (e) {
    throw writeError(join(dir, SET_LOCK), e);
  }
  try {
    const files: YearFile[] = [];
    for (const { year, from, to } of yearSlices(tl)) {
      const w = writeRows(join(dir, `job_timeline_${year}.csv`), tl, from, to, opts.onProgress, (sha) =>
        join(dir, yearFileName(year, sha)),
      );
      files.push({ name: basename(w.path), year, rows: to - from, bytes: w.bytes, sha256: w.sha256 });
    }
    const manifest = commitYearSet(dir, files, isoMinute(tl.start), tl.minutes);
    return [...files.map((f) => join(dir, f.name)), manifest];
  } finally {
    release();
  }
}

export interface ReadOptions {
  /** Cluster nodes, when the file has no `capacity` column (or to override it). */
  capacity?: number;
  /** Cluster CPUs, when the file has no `total_cpus` column (or to override it). */
  totalCpus?: number;
  /** A one-line warning (a per-year directory without a manifest); default: `pcm: warning: ...` on stderr. */
  onWarning?: (line: string) => void;
}

const OFFSET_RE = /(Z|[+-]\d\d:?\d\d)$/;

/** Column accumulator growing by doubling. */
class Grow {
  a = new Float64Array(1 << 14);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  take(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/**
 * Read one timeline CSV, or several in order, or a `--per-year` directory (the files its manifest names,
 * each checked against it; src/timeline/year-set.ts). Missing columns -> InputError naming them; extra
 * columns are ignored; timestamps must be whole minutes, one apart (a gap or disorder -> InputError with
 * the file and line).
 */
export async function readTimelineCsv(path: string | string[], opts: ReadOptions = {}): Promise<Timeline> {
  const warn = opts.onWarning ?? ((l: string) => process.stderr.write(`pcm: warning: ${l}\n`));
  if (typeof path !== 'string')
    return readFiles(
      path,
      path.map((p) => ({ path: p, expect: null })),
      opts,
    );
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  return isDir
    ? readYearSet(path, warn, (files) => readFiles(path, files, opts))
    : readFiles(path, [{ path, expect: null }], opts);
}

/** The rows of `files` in order as one timeline (`path`: what was asked for, for the error). */
async function readFiles(path: string | string[], files: SetEntry[], opts: ReadOptions): Promise<Timeline> {
  if (files.length === 0) throw new InputError(`${path}: no job_timeline_*.csv files in this directory`);
  const cols = TIMELINE_COLUMNS.map(() => new Grow());
  const st = { start: Number.NaN, next: Number.NaN, rows: 0, capacity: Number.NaN, totalCpus: Number.NaN };
  for (const { path: f, expect } of files) {
    if (!expect) {
      await readOne(f, cols, st, false);
      continue;
    }
    checkYearFileSize(f, expect);
    const rowsBefore = st.rows;
    const got = await readOne(f, cols, st, true);
    checkYearFile(f, expect, { ...got, rows: st.rows - rowsBefore });
  }
  const capacity = opts.capacity ?? st.capacity;
  const totalCpus = opts.totalCpus ?? st.totalCpus;
  if (!(capacity > 0)) {
    throw new InputError(`${files[0].path}: no capacity column; give the cluster's node count (--nodes)`);
  }
  const columns = {} as Record<TimelineColumn, Float64Array>;
  TIMELINE_COLUMNS.forEach((c, k) => {
    columns[c] = cols[k].take();
  });
  return {
    start: st.rows ? st.start : 0,
    minutes: st.rows,
    capacity,
    totalCpus: totalCpus > 0 ? totalCpus : capacity,
    columns,
  };
}

/** Append one file's rows to `cols`; returns its bytes and (when `hashed`) sha256. */
async function readOne(
  file: string,
  cols: Grow[],
  st: { start: number; next: number; rows: number; capacity: number; totalCpus: number },
  hashed: boolean,
): Promise<{ bytes: number; sha256: string }> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const utf8 = new StringDecoder('utf8');
  const hash = hashed ? createHash('sha256') : null;
  let bytes = 0;
  let rest = '';
  let lineNo = 0;
  let idx: number[] | null = null; // field index of each contract column
  let tsIdx = 0;
  let capIdx = -1;
  let cpuIdx = -1;
  let nFields = 0;

  const header = (line: string) => {
    const names = line.split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
    nFields = names.length;
    const pos = new Map(names.map((n, k) => [n, k]));
    const missing = [TIMESTAMP_COLUMN, ...TIMELINE_COLUMNS].filter((c) => !pos.has(c));
    if (missing.length && missing.every((c) => ADDED_COLUMNS.has(c))) {
      throw new InputError(
        `${file}: line 1: no ${missing.join(', ')}: written by an older pcm; rebuild it with pcm timeline`,
      );
    }
    if (missing.length) {
      throw new InputError(
        `${file}: line 1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      );
    }
    tsIdx = pos.get(TIMESTAMP_COLUMN)!;
    idx = TIMELINE_COLUMNS.map((c) => pos.get(c)!);
    capIdx = pos.get('capacity') ?? -1;
    cpuIdx = pos.get('total_cpus') ?? -1;
  };

  const row = (line: string) => {
    const f = line.split(',');
    if (f.length !== nFields) {
      throw new InputError(`${file}: line ${lineNo}: expected ${nFields} fields, found ${f.length}`);
    }
    const ts = f[tsIdx];
    const ms = OFFSET_RE.test(ts) ? Date.parse(ts) : Number.NaN;
    if (Number.isNaN(ms)) {
      throw new InputError(
        // JSON quoting: a CR or other control character in the cell must not break the one-line message
        `${file}: line ${lineNo}: timestamp ${JSON.stringify(ts.length > 64 ? `${ts.slice(0, 64)}...` : ts)}: expected ISO UTC like 2024-01-01T00:00:00Z`,
      );
    }
    const t = ms / 1000;
    if (t % 60 !== 0)
      throw new InputError(`${file}: line ${lineNo}: timestamp ${ts} is not on a whole minute`);
    if (Number.isNaN(st.next)) st.start = t;
    else if (t !== st.next) {
      const why =
        t < st.next
          ? `not after the previous row (${isoMinute(st.next - 60)})`
          : `gap of ${(t - st.next) / 60} missing minute(s) after ${isoMinute(st.next - 60)}`;
      throw new InputError(
        `${file}: line ${lineNo}: timestamp ${ts} ${why}; the timeline needs one row per minute`,
      );
    }
    st.next = t + 60;
    st.rows++;
    const ix = idx!;
    for (let k = 0; k < ix.length; k++) {
      const s = f[ix[k]];
      const v = s === '' ? Number.NaN : Number(s);
      if (!Number.isFinite(v)) {
        throw new InputError(
          `${file}: line ${lineNo}: ${TIMELINE_COLUMNS[k]}: expected a number, got "${s}"`,
        );
      }
      cols[k].push(v);
    }
    if (capIdx >= 0) st.capacity = size(st.capacity, f[capIdx], 'capacity');
    if (cpuIdx >= 0) st.totalCpus = size(st.totalCpus, f[cpuIdx], 'total_cpus');
  };

  const size = (prev: number, s: string, name: string): number => {
    const v = Number(s);
    if (!(s !== '' && v > 0 && Number.isFinite(v)))
      throw new InputError(`${file}: line ${lineNo}: ${name}: expected a positive number, got "${s}"`);
    if (!Number.isNaN(prev) && v !== prev) {
      throw new InputError(
        `${file}: line ${lineNo}: ${name} changes from ${prev} to ${v}; a timeline has one cluster size`,
      );
    }
    return v;
  };

  const line = (raw: string) => {
    lineNo++;
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (idx === null) header(lineNo === 1 && l.charCodeAt(0) === 0xfeff ? l.slice(1) : l);
    else if (l !== '') row(l);
  };

  try {
    for await (const chunk of stream) {
      hash?.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      const text = rest + utf8.write(chunk as Buffer);
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        line(text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
    }
    rest += utf8.end();
    if (rest !== '') line(rest);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? errorMessage(e))}`,
    );
  } finally {
    stream.destroy();
  }
  if (idx === null)
    throw new InputError(`${file}: empty file; expected a header line starting with ${TIMESTAMP_COLUMN}`);
  return { bytes, sha256: hash ? hash.digest('hex') : '' };
}
