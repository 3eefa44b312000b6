/**
 * The project's own job CSV (what `pcm extract --out jobs.csv` writes), one `JobRecord` per row:
 *   id,submit,eligible,start,end,nodes,cpus,time_limit,partition,state,user,nodelist
 * Times are epoch seconds (UTC), time_limit is seconds, an empty cell is null. Text cells are quoted
 * (RFC 4180) when they hold a comma, quote or line break, so hostlists like `a[1-2],b3` survive.
 */
import { AtomicFileWriter } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { openHeadered, type ProgressingSource, parseText } from './lines.js';
import { type JobRecord, type JobState, newReport, type ParseReport, STATE_NAMES, skip } from './record.js';

const JOBS_CSV_COLUMNS = [
  'id',
  'submit',
  'eligible',
  'start',
  'end',
  'nodes',
  'cpus',
  'time_limit',
  'partition',
  'state',
  'user',
  'nodelist',
] as const;
type CsvColumn = (typeof JOBS_CSV_COLUMNS)[number];

export const JOBS_CSV_HEADER = JOBS_CSV_COLUMNS.join(',');

/** A record that spans more physical lines than this is refused (an unbalanced quote). */
const MAX_RECORD_CHARS = 1 << 20;

function cell(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function num(v: number | null): string {
  return v === null ? '' : String(v);
}

/** One CSV row (no line end) for a job. */
export function jobCsvRow(j: JobRecord): string {
  return [
    cell(j.id),
    num(j.submit),
    num(j.eligible),
    num(j.start),
    num(j.end),
    String(j.nodes),
    String(j.cpus),
    num(j.timeLimit),
    cell(j.partition),
    j.state,
    cell(j.user),
    cell(j.nodeList),
  ].join(',');
}

/**
 * Write jobs to `path` atomically (the file appears only when complete); `onJob` is called after
 * each row (for progress), `beforeCommit` may throw to leave the old file in place. Returns the row count.
 */
export async function writeJobsCsv(
  path: string,
  jobs: AsyncIterable<JobRecord> | Iterable<JobRecord>,
  onJob?: (j: JobRecord, n: number) => void,
  beforeCommit?: (n: number) => void,
): Promise<number> {
  const w = new AtomicFileWriter(path);
  let n = 0;
  try {
    w.write(`${JOBS_CSV_HEADER}\n`);
    for await (const j of jobs) {
      w.write(`${jobCsvRow(j)}\n`);
      n++;
      onJob?.(j, n);
    }
    beforeCommit?.(n);
    w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  return n;
}

/**
 * Split one CSV record into cells. Returns null when a quoted cell is still open at the end
 * (the record continues on the next line), or a string naming the problem.
 */
export function splitCsv(text: string): string[] | null | string {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      // quoted cell: "" is a quote, the cell ends at a lone quote
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return null;
        v += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 34) {
          v += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i >= n) return out;
      if (text.charCodeAt(i) !== 44) return `unexpected ${JSON.stringify(text[i])} after a quoted cell`;
      i++;
    } else {
      const c = text.indexOf(',', i);
      const v = c < 0 ? text.slice(i) : text.slice(i, c);
      if (v.includes('"')) return `stray quote in cell ${out.length + 1}`;
      out.push(v);
      if (c < 0) return out;
      i = c + 1;
    }
  }
}

/**
 * Starting inside a quoted cell, whether `line` ends still inside one (the record goes on to the next
 * line). Mirrors splitCsv's reading, so a record left open by a stray quote costs one scan per line, not a
 * re-split of everything joined so far. A malformed line returns false: splitCsv then names the problem.
 */
export function stillQuoted(line: string): boolean {
  const n = line.length;
  let quoted = true;
  let i = 0;
  while (i < n) {
    if (quoted) {
      const q = line.indexOf('"', i);
      if (q < 0) return true;
      if (line.charCodeAt(q + 1) === 34) {
        i = q + 2; // "" is a quote inside the cell
        continue;
      }
      quoted = false;
      i = q + 1;
      if (i < n && line.charCodeAt(i) !== 44) return false;
      i++;
    } else if (line.charCodeAt(i) === 34) {
      quoted = true;
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (line.slice(i, c < 0 ? n : c).includes('"')) return false;
      if (c < 0) return false;
      i = c + 1;
    }
  }
  return quoted;
}

class RowError extends Error {}

/** Reads job CSV lines; the first non-blank line must be the header. */
export class JobsCsvParser {
  readonly report: ParseReport;
  private col: Record<CsvColumn, number> | null = null;
  private width = 0;
  private pending = '';
  private pendingLine = 0;

  constructor(source: string) {
    this.report = newReport(source);
  }

  static looksLikeHeader(line: string): boolean {
    const names = new Set(
      line
        .replace(/^\uFEFF/, '')
        .trim()
        .split(','),
    );
    return JOBS_CSV_COLUMNS.every((c) => names.has(c));
  }

  line(text: string, lineNo: number): JobRecord | null {
    this.report.lines = lineNo;
    // a CR at the end of the record is its CRLF line end; inside a quoted cell it is data, kept in `raw`
    const raw = this.pending ? `${this.pending}\n${text}` : text;
    if (this.pending && stillQuoted(text)) {
      // the quoted cell goes on past this line too (what splitCsv would say, without re-reading the record)
      if (raw.length > MAX_RECORD_CHARS) {
        this.pending = '';
        skip(this.report, this.pendingLine, 'unterminated quoted cell');
      } else this.pending = raw;
      return null;
    }
    const t = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!this.pending) {
      if (t.trim() === '') return null;
      this.pendingLine = lineNo;
    }
    if (!this.col) {
      this.header(t, lineNo);
      return null;
    }
    const cells = splitCsv(t);
    if (cells === null) {
      if (t.length > MAX_RECORD_CHARS) {
        this.pending = '';
        skip(this.report, this.pendingLine, 'unterminated quoted cell');
        return null;
      }
      this.pending = raw;
      return null;
    }
    this.pending = '';
    if (typeof cells === 'string') {
      skip(this.report, this.pendingLine, cells);
      return null;
    }
    try {
      const j = this.row(cells);
      this.report.jobs++;
      return j;
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      skip(this.report, this.pendingLine, e.message);
      return null;
    }
  }

  /** Call at the end of input: reports a record left open by an unbalanced quote. */
  finish(): void {
    if (this.pending) skip(this.report, this.pendingLine, 'unterminated quoted cell at end of file');
    this.pending = '';
  }

  private header(t: string, lineNo: number): void {
    const names = t
      .replace(/^\uFEFF/, '')
      .split(',')
      .map((s) => s.trim());
    const col: Partial<Record<CsvColumn, number>> = {};
    names.forEach((n, i) => {
      if ((JOBS_CSV_COLUMNS as readonly string[]).includes(n)) col[n as CsvColumn] ??= i;
    });
    const missing = JOBS_CSV_COLUMNS.filter((c) => col[c] === undefined);
    if (missing.length) {
      throw new InputError(
        `${this.report.source}: job CSV header (line ${lineNo}) lacks column(s) ${missing.join(', ')}; expected ${JOBS_CSV_HEADER}`,
      );
    }
    this.col = col as Record<CsvColumn, number>;
    this.width = names.length;
  }

  private row(cells: string[]): JobRecord {
    if (cells.length !== this.width) {
      throw new RowError(`expected ${this.width} cells as in the header, found ${cells.length}`);
    }
    const c = this.col as Record<CsvColumn, number>;
    const text = (k: CsvColumn) => (cells[c[k]] === '' ? null : cells[c[k]]);
    const time = (k: CsvColumn): number | null => {
      const v = cells[c[k]].trim();
      if (v === '') return null;
      if (!/^-?\d{1,15}$/.test(v)) throw new RowError(`${k}: ${JSON.stringify(v)} is not epoch seconds`);
      return Number(v);
    };
    const count = (k: CsvColumn): number => {
      const v = cells[c[k]].trim();
      if (!/^\d{1,9}$/.test(v)) throw new RowError(`${k}: ${JSON.stringify(v)} is not a whole number >= 0`);
      return Number(v);
    };
    const id = text('id');
    if (id === null) throw new RowError('id is empty');
    const state = cells[c.state].trim();
    if (!STATE_NAMES.has(state)) throw new RowError(`state: ${JSON.stringify(state)} is not a job state`);
    return {
      id,
      submit: time('submit'),
      eligible: time('eligible'),
      start: time('start'),
      end: time('end'),
      nodes: count('nodes'),
      cpus: count('cpus'),
      timeLimit: time('time_limit'),
      partition: text('partition'),
      state: state as JobState,
      user: text('user'),
      nodeList: text('nodelist'),
    };
  }
}

/** Parse job CSV text held in memory (tests, small inputs). */
export function parseJobsCsvText(
  text: string,
  source = 'jobs.csv',
): { jobs: JobRecord[]; report: ParseReport } {
  const p = new JobsCsvParser(source);
  const jobs = parseText(text, p);
  return { jobs, report: p.report };
}

/** Open a job CSV (plain or gzip) as a stream; the header is checked before returning. */
export async function openJobsCsv(path: string): Promise<ProgressingSource> {
  // LF only: a quoted cell may hold a lone CR, which readline would take for a line end
  return openHeadered(
    path,
    'csv',
    new JobsCsvParser(path),
    `empty; expected the job CSV header ${JOBS_CSV_HEADER}`,
    {
      lfOnly: true,
    },
  );
}
