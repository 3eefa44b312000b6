/**
 * `sacct -X --parsable2 --format=...` output: a `|`-separated header line, then one line per job
 * allocation. Columns may come in any order; unknown ones are ignored. Step lines (`123.batch`,
 * `123.0`) are skipped and counted; malformed lines are skipped with their line number and reason.
 *
 * Suggested export: `sacct -a -X -D --parsable2 -S <from> -E <to>
 *   --format=JobID,Submit,Eligible,Start,End,NNodes,AllocCPUS,ReqCPUS,Timelimit,Partition,State,User,NodeList`
 * (`-D` keeps requeued runs, each with its own interval).
 */
import { InputError } from '../util/errors.js';
import { checkTimeZone, parseDateTime } from './datetime.js';
import { count as hostlistCount } from './hostlist.js';
import { openHeadered, type ProgressingSource, parseText } from './lines.js';
import {
  ENDED_STATES,
  type JobRecord,
  type JobState,
  newReport,
  note,
  type ParseReport,
  STATE_NAMES,
  skip,
} from './record.js';

export interface SacctOptions {
  /** IANA zone sacct printed its times in (the host's local zone by default); default UTC. */
  timeZone?: string;
}

/** Columns we read, by their canonical sacct name. */
const KNOWN = [
  'JobID',
  'JobIDRaw',
  'Submit',
  'Eligible',
  'Start',
  'End',
  'NNodes',
  'AllocNodes',
  'ReqNodes',
  'AllocCPUS',
  'NCPUS',
  'ReqCPUS',
  'Timelimit',
  'Partition',
  'State',
  'User',
  'NodeList',
  'Elapsed',
] as const;
type Column = (typeof KNOWN)[number];

/** Required columns, each a list of alternatives. */
const REQUIRED: ReadonlyArray<readonly Column[]> = [
  ['JobID', 'JobIDRaw'],
  ['Submit'],
  ['Start'],
  ['End'],
  ['NNodes', 'AllocNodes', 'ReqNodes'],
  ['AllocCPUS', 'NCPUS', 'ReqCPUS'],
];

/** sacct state names that are not JobState names. */
const STATE_ALIASES: Record<string, JobState> = {
  REQUEUE_FED: 'REQUEUED',
  REQUEUE_HOLD: 'REQUEUED',
  SPECIAL_EXIT: 'FAILED',
  COMPLETING: 'RUNNING',
  CONFIGURING: 'RUNNING',
  SIGNALING: 'RUNNING',
  STAGE_OUT: 'RUNNING',
  STOPPED: 'SUSPENDED',
  CANCELED: 'CANCELLED',
};

/** Values sacct prints for a time that has not happened. */
const NO_TIME = new Set(['', 'Unknown', 'None', 'N/A']);

/** Time limit words meaning "no limit of the job's own" (lower case; sacct prints `Partition_Limit`). */
const NO_LIMIT = new Set(['', 'unlimited', 'partition_limit', 'invalid', 'none']);

const DURATION = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?(?:\.\d+)?$/;

/**
 * Seconds of a Slurm duration: `[D-]HH:MM:SS`, `MM:SS`, `D-HH[:MM]`, or minutes alone (as Slurm reads
 * `--time`). Returns undefined when the text is not a duration.
 */
export function parseSlurmDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const days = m[1] === undefined ? undefined : Number(m[1]);
  const nums = [m[2], m[3], m[4]].filter((x) => x !== undefined).map(Number);
  let h = 0;
  let mi = 0;
  let s = 0;
  if (days !== undefined)
    [h, mi = 0, s = 0] = nums; // D-HH[:MM[:SS]]
  else if (nums.length === 1)
    [mi] = nums; // minutes
  else if (nums.length === 2)
    [mi, s] = nums; // MM:SS
  else [h, mi, s] = nums; // HH:MM:SS
  if (s > 59) return undefined;
  if ((days !== undefined || nums.length === 3) && mi > 59) return undefined;
  if (days !== undefined && h > 23) return undefined;
  return (days ?? 0) * 86400 + h * 3600 + mi * 60 + s;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);
}

class RowError extends Error {}

/** Header-then-rows parser for sacct parsable output. */
export class SacctParser {
  readonly report: ParseReport;
  private readonly tz: string;
  private col: Partial<Record<Column, number>> | null = null;
  private width = 0;
  /** `--parsable` (not 2) ends every line with `|`. */
  private trailingBar = false;

  constructor(source: string, opts: SacctOptions = {}) {
    this.report = newReport(source);
    this.tz = opts.timeZone ?? 'UTC';
    checkTimeZone(this.tz);
  }

  /** Whether a first line looks like a sacct parsable header (a `|`-separated list with JobID). */
  static looksLikeHeader(line: string): boolean {
    if (!line.includes('|')) return false;
    return line.split('|').some((c) => /^jobid(raw)?$/i.test(c.trim()));
  }

  /** One input line (1-based). The first non-blank line must be the header. */
  line(text: string, lineNo: number): JobRecord | null {
    this.report.lines = lineNo;
    if (text.trim() === '') return null;
    if (!this.col) {
      this.header(text, lineNo);
      return null;
    }
    try {
      return this.row(text);
    } catch (e) {
      if (e instanceof RowError) {
        skip(this.report, lineNo, e.message);
        return null;
      }
      throw e;
    }
  }

  private header(text: string, lineNo: number): void {
    let names = text.replace(/\r$/, '').split('|');
    if (names.length > 1 && names[names.length - 1] === '') {
      this.trailingBar = true;
      names = names.slice(0, -1);
    }
    const byLower = new Map(KNOWN.map((k) => [k.toLowerCase(), k]));
    const col: Partial<Record<Column, number>> = {};
    names.forEach((n, i) => {
      const k = byLower.get(n.trim().toLowerCase());
      if (k !== undefined && col[k] === undefined) col[k] = i;
    });
    const missing = REQUIRED.filter((alts) => alts.every((a) => col[a] === undefined)).map((alts) =>
      alts.join(' or '),
    );
    if (missing.length) {
      throw new InputError(
        `${this.report.source}: sacct header (line ${lineNo}) lacks required column(s) ${missing.join(', ')}; ` +
          'export with sacct -X --parsable2 --format=JobID,Submit,Start,End,NNodes,AllocCPUS,...',
      );
    }
    this.col = col;
    this.width = names.length;
  }

  private get(fields: string[], c: Column): string | undefined {
    const i = this.col?.[c];
    return i === undefined ? undefined : fields[i].trim();
  }

  private time(fields: string[], c: Column): number | null {
    const v = this.get(fields, c);
    if (v === undefined || NO_TIME.has(v)) return null;
    const t = parseDateTime(v, this.tz);
    if (t === undefined)
      throw new RowError(`${c}: ${quote(v)} is not a time (expected YYYY-MM-DDTHH:MM:SS or Unknown)`);
    return t;
  }

  private int(fields: string[], c: Column): number | undefined {
    const v = this.get(fields, c);
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v)) throw new RowError(`${c}: ${quote(v)} is not a whole number`);
    return Number(v);
  }

  private row(text: string): JobRecord | null {
    const r = this.report;
    let line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (this.trailingBar && line.endsWith('|')) line = line.slice(0, -1);
    const f = line.split('|');
    if (f.length !== this.width) {
      throw new RowError(`expected ${this.width} '|'-separated fields as in the header, found ${f.length}`);
    }
    const id = (this.get(f, 'JobID') ?? this.get(f, 'JobIDRaw') ?? '').trim();
    if (!id) throw new RowError('JobID is empty');
    if (id.includes('.')) {
      note(r, 'steps_skipped');
      return null;
    }
    const submit = this.time(f, 'Submit');
    const eligible = this.time(f, 'Eligible');
    const start = this.time(f, 'Start');
    let end = this.time(f, 'End');
    // nodes: allocated, else requested (sacct's NNodes already shows the request for jobs that never ran)
    const allocNodes = this.int(f, 'AllocNodes');
    const reqNodes = this.int(f, 'ReqNodes');
    let nodes = this.int(f, 'NNodes') ?? allocNodes ?? reqNodes ?? 0;
    if (nodes === 0 && reqNodes !== undefined) nodes = reqNodes;
    // cpus: allocated, else NCPUS / requested
    const allocCpus = this.int(f, 'AllocCPUS');
    const ncpus = this.int(f, 'NCPUS');
    const reqCpus = this.int(f, 'ReqCPUS');
    let cpus = allocCpus ?? ncpus ?? reqCpus ?? 0;
    if (cpus === 0) cpus = ncpus || reqCpus || 0;
    // time limit
    let timeLimit: number | null = null;
    const tl = this.get(f, 'Timelimit');
    if (tl !== undefined) {
      const word = tl.toLowerCase();
      if (word === 'partition_limit') note(r, 'timelimit_partition');
      if (!NO_LIMIT.has(word)) {
        const s = parseSlurmDuration(tl);
        if (s === undefined)
          throw new RowError(`Timelimit: ${quote(tl)} is not [D-]HH:MM:SS, MM:SS or UNLIMITED`);
        timeLimit = s;
      }
    }
    // state: first word (`CANCELLED by 1234`), without a trailing `+`
    let state: JobState = 'UNKNOWN';
    const st = this.get(f, 'State');
    if (st !== undefined && st !== '') {
      const word = st.trim().split(/\s+/)[0].replace(/\+$/, '').toUpperCase();
      const s = STATE_NAMES.has(word) ? (word as JobState) : STATE_ALIASES[word];
      if (s) state = s;
      else note(r, 'unknown_state');
    }
    // node list: kept when it is a valid hostlist
    let nodeList: string | null = null;
    const nl = this.get(f, 'NodeList');
    if (nl !== undefined && nl !== '' && nl !== 'None assigned') {
      try {
        hostlistCount(nl);
        nodeList = nl;
      } catch {
        note(r, 'bad_nodelist');
      }
    }
    // a job cancelled (or rejected) while pending is stored with start = end = cancel time and no nodes;
    // kept as it is (a zero-length interval), like the Slurm DB source does, and counted
    const noAllocation = nl === 'None assigned' || allocCpus === 0 || allocNodes === 0;
    if (start !== null && end !== null && start === end && noAllocation) note(r, 'never_allocated');
    // a finished job without End: End from Elapsed
    const el = this.get(f, 'Elapsed');
    if (end === null && start !== null && el && ENDED_STATES.has(state)) {
      const s = parseSlurmDuration(el);
      if (s !== undefined) {
        end = start + s;
        note(r, 'end_from_elapsed');
      }
    }
    if (start !== null && end !== null && end < start) throw new RowError('End is before Start');
    const user = this.get(f, 'User')?.trim() || null;
    const partition = this.get(f, 'Partition')?.trim() || null;
    r.jobs++;
    return { id, submit, eligible, start, end, nodes, cpus, timeLimit, partition, state, user, nodeList };
  }
}

/** Parse sacct text held in memory (tests, small inputs). */
export function parseSacctText(
  text: string,
  opts: SacctOptions = {},
  source = 'sacct',
): { jobs: JobRecord[]; report: ParseReport } {
  const p = new SacctParser(source, opts);
  if (text.trim() === '') throw new InputError(`${source}: empty; expected a sacct header line`);
  const jobs = parseText(text, p);
  return { jobs, report: p.report };
}

/** Open a sacct parsable export (plain or gzip); the header is checked before returning. */
export async function openSacct(path: string, opts: SacctOptions = {}): Promise<ProgressingSource> {
  return openHeadered(path, 'sacct', new SacctParser(path, opts), 'empty; expected a sacct header line');
}
