import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomicSync } from '../util/atomic.js';
import { errorMessage, InputError, UserError } from '../util/errors.js';

/**
 * A per-year timeline directory (`pcm timeline --per-year`) as one set. Each year's CSV is written under
 * a name carrying its content's hash, `job_timeline_2024.<sha256 prefix>.csv`, so an earlier run's files
 * are never overwritten; then the manifest `job_timeline.manifest.json`, written last and atomically,
 * names exactly the files of the set with each one's rows, bytes and sha256. Readers read only what the
 * manifest names: a crash mid-write leaves the earlier set readable whole, a year left from an earlier
 * run is never read back, and a file changed after the manifest (a torn set) is refused. Files the
 * manifest does not name are removed only after it is committed, under the directory's lock.
 *
 * A directory without a manifest (an older pcm, or the seed's files) is read as before, every
 * `job_timeline_YYYY.csv` in year order, with a one-line warning: refusing it would strand per-year files
 * whose jobs the Slurm DB may have purged since (`PurgeJobAfter`), so they could not be rebuilt.
 */

export const SET_MANIFEST = 'job_timeline.manifest.json';
/** The writer's lock (src/util/dir-lock.ts): one writer per directory. */
export const SET_LOCK = '.job_timeline.lock';
const SET_FORMAT = 'pcm-timeline-years';
const SET_VERSION = 1;
const HASH_CHARS = 12;

const SET_FILE_RE = /^job_timeline_(\d{4})\.([0-9a-f]{12})\.csv$/;
const OLD_FILE_RE = /^job_timeline_\d{4}\.csv$/;
/** Temp files of the year files and of the manifest (src/util/atomic.ts names them `.<name>.<...>.tmp`). */
const TEMP_RE = /^\.job_timeline[._][^/]*\.tmp$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/** One year's file of a set, as the manifest records it. */
export interface YearFile {
  name: string;
  year: number;
  rows: number;
  bytes: number;
  sha256: string;
}

interface SetManifest {
  format: typeof SET_FORMAT;
  version: typeof SET_VERSION;
  created: string;
  /** First minute (ISO UTC) and row count of the whole set. */
  start: string;
  minutes: number;
  files: YearFile[];
}

/** The committed name of a year's file, from its content's sha256. */
export function yearFileName(year: number, sha256: string): string {
  return `job_timeline_${year}.${sha256.slice(0, HASH_CHARS)}.csv`;
}

/**
 * Commit a set whose year files are written: the manifest (atomically), then remove the year files and
 * temp files it does not name. Call with the directory's lock held. Returns the manifest's path.
 */
export function commitYearSet(dir: string, files: YearFile[], start: string, minutes: number): string {
  const m: SetManifest = {
    format: SET_FORMAT,
    version: SET_VERSION,
    created: new Date().toISOString(),
    start,
    minutes,
    files,
  };
  const path = join(dir, SET_MANIFEST);
  writeFileAtomicSync(path, `${JSON.stringify(m, null, 1)}\n`);
  const keep = new Set(files.map((f) => f.name));
  for (const f of readdirSync(dir)) {
    const stale = (SET_FILE_RE.test(f) || OLD_FILE_RE.test(f)) && !keep.has(f);
    if (stale || TEMP_RE.test(f)) rmSync(join(dir, f), { force: true });
  }
  fsyncDir(dir);
  return path;
}

/** A file to read for a directory, with what the manifest says of it (null: a directory without one). */
export interface SetEntry {
  path: string;
  expect: YearFile | null;
}

/**
 * Read a timeline directory with `read`, given its files in order: those its manifest names, or (no
 * manifest) every `job_timeline_YYYY.csv`, after `warn` is given one line. A read that fails while a
 * writer replaced the set (the manifest changed since it was read: its files were removed under the
 * reader) is done again from the new manifest, up to 3 times.
 */
export async function readYearSet<T>(
  dir: string,
  warn: (line: string) => void,
  read: (files: SetEntry[]) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const m = readManifest(dir);
    try {
      return await read(
        m ? m.files.map((f) => ({ path: join(dir, f.name), expect: f })) : olderFiles(dir, warn),
      );
    } catch (e) {
      if (!m || attempt >= 3 || readManifestText(dir) === m.text) throw e;
    }
  }
}

/** A directory an older pcm wrote: every `job_timeline_YYYY.csv`, in year order, unchecked. */
function olderFiles(dir: string, warn: (line: string) => void): SetEntry[] {
  const old = readdirSync(dir)
    .filter((f) => OLD_FILE_RE.test(f))
    .sort();
  if (old.length)
    warn(
      `${dir}: no ${SET_MANIFEST} (written by an older pcm?): reading its ${old.length} job_timeline_YYYY.csv ` +
        'file(s) as one set, unchecked; rewrite it with pcm timeline --per-year',
    );
  return old.map((f) => ({ path: join(dir, f), expect: null }));
}

/** What reading a file found, checked against its manifest entry: a difference is a torn set. */
export function checkYearFile(
  path: string,
  e: YearFile,
  got: { rows: number; bytes: number; sha256: string },
): void {
  const short = (h: string) => `${h.slice(0, HASH_CHARS)}...`;
  if (got.bytes !== e.bytes) throw torn(path, `${got.bytes} bytes, ${SET_MANIFEST} says ${e.bytes}`);
  if (got.sha256 !== e.sha256)
    throw torn(path, `sha256 ${short(got.sha256)}, ${SET_MANIFEST} says ${short(e.sha256)}`);
  if (got.rows !== e.rows) throw torn(path, `${got.rows} rows, ${SET_MANIFEST} says ${e.rows}`);
}

/** Before a manifest entry's file is read: there, and of its size (a missing or cut file is refused at once). */
export function checkYearFileSize(path: string, e: YearFile): void {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw torn(
      path,
      `named by ${SET_MANIFEST} but ${code === 'ENOENT' ? 'missing' : `unreadable (${code})`}`,
    );
  }
  if (bytes !== e.bytes) throw torn(path, `${bytes} bytes, ${SET_MANIFEST} says ${e.bytes}`);
}

function torn(path: string, diff: string): InputError {
  return new InputError(
    `${path}: ${diff}: the set changed after pcm timeline wrote it; rebuild it with pcm timeline --per-year`,
  );
}

/** The manifest's text; null when the directory has none. */
function readManifestText(dir: string): string | null {
  const path = join(dir, SET_MANIFEST);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new UserError(`cannot read ${path}: ${code ?? errorMessage(e)}`);
  }
}

/** The directory's manifest, checked, with its text; null when it has none. */
function readManifest(dir: string): (SetManifest & { text: string }) | null {
  const path = join(dir, SET_MANIFEST);
  const text = readManifestText(dir);
  if (text === null) return null;
  const bad = (why: string) => new InputError(`${path}: ${why}; rebuild it with pcm timeline --per-year`);
  let m: Partial<SetManifest>;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${errorMessage(e).split('\n')[0]})`);
  }
  if (m?.format !== SET_FORMAT) throw bad(`format: expected "${SET_FORMAT}"`);
  if (m.version !== SET_VERSION)
    throw bad(`version ${JSON.stringify(m.version)}: this pcm reads version ${SET_VERSION}`);
  if (!Array.isArray(m.files) || m.files.length === 0) throw bad('files: expected a non-empty list');
  let rows = 0;
  let year = -Infinity;
  m.files.forEach((f: Partial<YearFile>, k) => {
    const at = `files[${k}]`;
    const name = typeof f?.name === 'string' ? SET_FILE_RE.exec(f.name) : null;
    if (!name) throw bad(`${at}.name: expected job_timeline_YYYY.<12 hex>.csv`);
    if (f.year !== Number(name[1]) || !(f.year > year))
      throw bad(`${at}.year: expected ${name[1]}, in year order`);
    if (!Number.isSafeInteger(f.rows) || !(f.rows! > 0)) throw bad(`${at}.rows: expected a positive integer`);
    if (!Number.isSafeInteger(f.bytes) || !(f.bytes! > 0))
      throw bad(`${at}.bytes: expected a positive integer`);
    if (typeof f.sha256 !== 'string' || !SHA256_RE.test(f.sha256) || !f.sha256.startsWith(name[2]))
      throw bad(`${at}.sha256: expected the 64 hex digits its name starts`);
    year = f.year;
    rows += f.rows!;
  });
  if (m.minutes !== rows) throw bad(`minutes: ${JSON.stringify(m.minutes)}, the files hold ${rows} rows`);
  return { ...(m as SetManifest), text };
}
