/**
 * One entry point for every job source: a file (SWF, sacct parsable export, our job CSV; plain or
 * gzip) or a Slurm accounting DB URL. The format comes from the name (`.swf`, `.swf.gz`) or else
 * from the first line; `since/until` keep only jobs that overlap the window, whatever the source.
 */
import { constants, gunzipSync } from 'node:zlib';
import { InputError, UserError } from '../util/errors.js';
import { JobsCsvParser, openJobsCsv } from './jobs-csv.js';
import { isGzip, readHead } from './lines.js';
import type { JobRecord } from './record.js';
import { note } from './record.js';
import { openSacct, SacctParser } from './sacct.js';
import type { JobSource, OpenOptions } from './source.js';
import { openSwf } from './swf.js';

export type JobFormat = 'swf' | 'sacct' | 'csv' | 'slurmdb';

export interface OpenSourceOptions extends OpenOptions {
  /** Skip detection and read the file as this format. */
  format?: JobFormat;
  /** sacct: IANA zone its times were printed in (default UTC). */
  timeZone?: string;
}

const ACCEPTED_FORMATS =
  'SWF (.swf, .swf.gz), job CSV (header id,submit,eligible,start,end,...), ' +
  'sacct -X --parsable2 output (header JobID|Submit|...), or a mysql:// or mariadb:// Slurm DB URL';

const DB_URL = /^(mysql|mariadb):\/\//i;

/** Bytes read to detect a file's format. */
const SNIFF_BYTES = 1 << 16;

/** The first non-blank line of a file (decompressed if gzip), or '' for an empty file. */
async function firstLine(path: string): Promise<string> {
  let head = await readHead(path, SNIFF_BYTES);
  if (isGzip(head)) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new InputError(`${path}: damaged gzip data (${(e as Error).message})`);
    }
  }
  const text = head.toString('utf8');
  for (const l of text.split('\n')) if (l.trim() !== '') return l.replace(/\r$/, '');
  return '';
}

// Anchored at ^; each repeat starts with \s+ and a number (disjoint), so a failed line is given back at
// most once per separator; the line is at most SNIFF_BYTES. recheck times out on the 17-fold repeat.
// redos-safe: see above
const SWF_JOB_LINE = /^\s*-?\d+(\.\d+)?(\s+-?\d+(\.\d+)?){17}\s*$/;

type FileFormat = Exclude<JobFormat, 'slurmdb'>;

/** The format a first line announces, if any. */
function formatOfLine(line: string): FileFormat | undefined {
  if (line.trimStart().startsWith(';') || SWF_JOB_LINE.test(line)) return 'swf';
  if (JobsCsvParser.looksLikeHeader(line)) return 'csv';
  if (SacctParser.looksLikeHeader(line)) return 'sacct';
  return undefined;
}

const FORMAT_NAMES: Record<FileFormat, string> = { swf: 'SWF', csv: 'job CSV', sacct: 'sacct output' };

/** Which file format `path` holds: by name for SWF, else by its first non-blank line. */
export async function detectFormat(path: string): Promise<FileFormat> {
  if (/\.swf(\.gz)?$/i.test(path)) return 'swf';
  const line = await firstLine(path);
  const f = formatOfLine(line);
  if (f) return f;
  const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
  throw new InputError(
    `${path}: unknown job file format (first line ${JSON.stringify(shown)}); accepted: ${ACCEPTED_FORMATS}`,
  );
}

/** Open the Slurm DB source (slurmdb.ts), loaded only when asked for so mysql2 stays unloaded otherwise. */
async function openSlurmDbSource(url: string, opts: OpenOptions): Promise<JobSource> {
  const { openSlurmDb } = await import('./slurmdb.js');
  return openSlurmDb(url, opts);
}

/**
 * Open a job source by spec: a `mysql://`/`mariadb://` URL, or a file path (format detected, or
 * `opts.format`). Throws UserError/InputError for unreadable files and unknown formats.
 */
export async function openJobSource(spec: string, opts: OpenSourceOptions = {}): Promise<JobSource> {
  const { since, until } = opts;
  if (since !== undefined && until !== undefined && !(since < until)) {
    throw new UserError(`the time window is empty: since (${since}) must be before until (${until})`);
  }
  let src: JobSource;
  const format = opts.format ?? (DB_URL.test(spec) ? 'slurmdb' : await detectFormat(spec));
  if (opts.format && opts.format !== 'slurmdb') {
    // a format asked for, but the file clearly holds another: say so rather than skip every line
    const seen = formatOfLine(await firstLine(spec));
    if (seen && seen !== opts.format) {
      throw new InputError(
        `${spec}: expected ${FORMAT_NAMES[opts.format]} but the file looks like ${FORMAT_NAMES[seen]}`,
      );
    }
  }
  switch (format) {
    case 'slurmdb':
      if (!DB_URL.test(spec))
        throw new UserError(`Slurm DB: expected a mysql:// or mariadb:// URL, got '${spec}'`);
      src = await openSlurmDbSource(spec, opts);
      break;
    case 'swf':
      src = await openSwf(spec, { ppn: opts.ppn });
      break;
    case 'sacct':
      src = await openSacct(spec, { timeZone: opts.timeZone });
      break;
    case 'csv':
      src = await openJobsCsv(spec);
      break;
  }
  return since === undefined && until === undefined ? src : windowed(src, since, until);
}

const OPEN_ENDED = new Set(['PENDING', 'RUNNING', 'SUSPENDED', 'REQUEUED']);

/**
 * Whether a job's life [submit (or first known time), end (or now, if still open)] overlaps the
 * window [since, until). A job with no time at all overlaps nothing.
 */
export function overlaps(
  j: JobRecord,
  since = Number.NEGATIVE_INFINITY,
  until = Number.POSITIVE_INFINITY,
): boolean {
  const from = j.submit ?? j.eligible ?? j.start ?? j.end;
  if (from === null) return false;
  const open = j.end === null && (j.start !== null || OPEN_ENDED.has(j.state));
  const to = j.end ?? (open ? Number.POSITIVE_INFINITY : from);
  return from < until && (to > since || from >= since);
}

/** The same source with only the jobs overlapping [since, until); dropped jobs are noted `outside_window`. */
function windowed(src: JobSource, since?: number, until?: number): JobSource {
  const inner = src.jobs;
  async function* jobs(): AsyncGenerator<JobRecord> {
    for await (const j of inner) {
      if (overlaps(j, since, until)) yield j;
      else {
        src.report.jobs--;
        note(src.report, 'outside_window');
      }
    }
  }
  return Object.assign(src, { jobs: jobs() });
}
