/**
 * Standard Workload Format (Parallel Workloads Archive) job logs, `.swf` or `.swf.gz`, read as a stream.
 *
 * Header lines `; Keyword: value` go into `meta` (continuation lines are appended to the keyword above,
 * so notices such as SDSC's copyright are kept whole). Each job line has 18 whitespace-separated numbers,
 * -1 meaning unknown; the mapping to `JobRecord` is documented on `SwfParser.job`. Malformed lines are
 * skipped with their line number and reason.
 * Over 450 lines as one unit: the SWF format's 18 fields, its header keywords and its line rules are one
 * format's reader.
 */
import { AtomicFileWriter } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { openLines, type ProgressingSource, parseText } from './lines.js';
import { type JobRecord, type JobState, newReport, note, type ParseReport, skip } from './record.js';
import type { SourceMeta } from './source.js';

const SWF_FIELDS = 18;

const FIELD_NAMES = [
  'job number',
  'submit time',
  'wait time',
  'run time',
  'allocated processors',
  'average CPU time',
  'used memory',
  'requested processors',
  'requested time',
  'requested memory',
  'status',
  'user id',
  'group id',
  'executable number',
  'queue number',
  'partition number',
  'preceding job number',
  'think time',
];

/** Fields (0-based) that must hold whole numbers; the others (CPU time, memory) may be fractional. */
const INTEGER_FIELDS = [0, 1, 2, 3, 4, 7, 8, 10, 11, 14, 15, 16, 17];

export interface SwfOptions {
  /** Processors per node; default MaxProcs / MaxNodes when that is a whole number, else 1. */
  ppn?: number;
}

/** Leading integer of a header value: `338 (batch partition; 512 total)` → 338; none → undefined. */
function leadingInt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/**
 * `Keyword:` at the start of a header line (not `http://`). The value is the rest of the line, trimmed in
 * code: a trailing `(.*?)\s*$` made the match quadratic in a run of blanks (a 1 MB line hung the parser).
 */
const KEYWORD = /^\s{0,2}([A-Z][A-Za-z0-9_]*)\s*:(?!\/\/)/;
/** `338 (batch partition)` → 338 and the name after it (trimmed in code, for the same reason). */
const NUMBERED = /^\s*(-?\d+)/;
/** A line break inside a value: `.` never matched one, so such a line is not a `Keyword: value` line. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** `Keyword: value` → [key, value], or null when the line is not one. */
function keywordLine(body: string): [string, string] | null {
  const m = KEYWORD.exec(body);
  if (!m) return null;
  const value = body.slice(m[0].length).trim();
  return LINE_BREAK.test(value) ? null : [m[1], value];
}

/**
 * Cheap whitespace split of a job line into numbers: fills `out` with up to SWF_FIELDS values and
 * returns the field count. A token that is not a plain decimal number (`-12`, `3.5`) becomes NaN, and
 * `tokStart/tokEnd` keep where each token is so that a rejection can quote it.
 */
function splitNumbers(line: string, out: Float64Array, tokStart: Int32Array, tokEnd: Int32Array): number {
  const n = line.length;
  let i = 0;
  let k = 0;
  for (;;) {
    // skip blanks (space, tab, CR)
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 13) break;
      i++;
    }
    if (i >= n) return k;
    const start = i;
    // parse [-]digits[.digits]
    let neg = false;
    let c = line.charCodeAt(i);
    if (c === 45) {
      neg = true;
      i++;
    }
    let val = 0;
    let digits = 0;
    for (; i < n; i++) {
      c = line.charCodeAt(i);
      if (c < 48 || c > 57) break;
      val = val * 10 + (c - 48);
      digits++;
    }
    if (i < n && line.charCodeAt(i) === 46) {
      i++;
      let scale = 1;
      for (; i < n; i++) {
        c = line.charCodeAt(i);
        if (c < 48 || c > 57) break;
        scale /= 10;
        val += (c - 48) * scale;
        digits++;
      }
    }
    let ok = digits > 0;
    // anything else up to the next blank makes the token invalid
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) break;
      ok = false;
      i++;
    }
    if (k < out.length) {
      out[k] = ok ? (neg ? -val : val) : Number.NaN;
      tokStart[k] = start;
      tokEnd[k] = i;
    }
    k++;
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);
}

/**
 * Line-at-a-time SWF parser: feed it every line with `line()`; header lines fill `meta`, job lines
 * return records. `meta.ppn` is fixed at the first job line (from the option, or the header).
 */
class SwfParser {
  readonly report: ParseReport;
  readonly header: Record<string, string> = {};
  readonly queues = new Map<number, string>();
  readonly partitions = new Map<number, string>();
  private lastKey: string | null = null;
  private ppnOption: number | undefined;
  private ppn = 0;
  private t0 = 0;
  private readonly f = new Float64Array(SWF_FIELDS);
  private readonly ts = new Int32Array(SWF_FIELDS);
  private readonly te = new Int32Array(SWF_FIELDS);

  constructor(source: string, opts: SwfOptions = {}) {
    this.report = newReport(source);
    if (opts.ppn !== undefined && !(Number.isInteger(opts.ppn) && opts.ppn > 0)) {
      throw new InputError(`--ppn: expected a positive whole number of processors per node, got ${opts.ppn}`);
    }
    this.ppnOption = opts.ppn;
  }

  /** What the header says so far (complete once the first job line has been seen). */
  meta(): SourceMeta {
    const h = this.header;
    const maxNodes = leadingInt(h.MaxNodes);
    const maxProcs = leadingInt(h.MaxProcs);
    const m: SourceMeta = { header: h, ppn: this.ppn || this.choosePpn() };
    if (maxNodes !== undefined) m.maxNodes = maxNodes;
    if (maxProcs !== undefined) m.maxProcs = maxProcs;
    if (h.TimeZoneString) m.timeZone = h.TimeZoneString.split(/\s/)[0];
    return m;
  }

  private choosePpn(): number {
    if (this.ppnOption) return this.ppnOption;
    const nodes = leadingInt(this.header.MaxNodes);
    const procs = leadingInt(this.header.MaxProcs);
    if (nodes && procs && procs % nodes === 0) return procs / nodes;
    return 1;
  }

  /** Fix the header-derived constants before the first job line. */
  private begin(): void {
    this.ppn = this.choosePpn();
    const t0 = leadingInt(this.header.UnixStartTime);
    if (t0 === undefined) note(this.report, 'no_unix_start_time');
    this.t0 = t0 ?? 0;
  }

  /** One input line (1-based `lineNo`). Returns a job, or null for header/blank/skipped lines. */
  line(text: string, lineNo: number): JobRecord | null {
    this.report.lines = lineNo;
    let i = 0;
    while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i === text.length) return null;
    if (text.charCodeAt(i) === 59) {
      this.headerLine(text.slice(i + 1));
      return null;
    }
    if (this.ppn === 0) this.begin();
    return this.job(text, lineNo);
  }

  private headerLine(body: string): void {
    const m = keywordLine(body);
    if (!m) {
      const rest = body.trim();
      if (!rest) this.lastKey = null;
      else if (this.lastKey) this.header[this.lastKey] += `\n${rest}`;
      else this.header.Comment = this.header.Comment ? `${this.header.Comment}\n${rest}` : rest;
      return;
    }
    const [key, value] = m;
    this.header[key] = key in this.header ? `${this.header[key]}\n${value}` : value;
    this.lastKey = key;
    if (key === 'Queue' || key === 'Partition') {
      const q = NUMBERED.exec(value);
      if (q)
        (key === 'Queue' ? this.queues : this.partitions).set(Number(q[1]), value.slice(q[0].length).trim());
    }
  }

  /**
   * One job line → record:
   * submit = UnixStartTime + f2; start = submit + max(f3, 0) (f3 = -1 noted `wait_unknown`);
   * end = start + f4; f4 = -1 → start and end null (`run_time_unknown`);
   * procs = f5, or f8 when f5 = -1 (`alloc_from_requested` when the job ran, f4 > 0);
   * nodes = ceil(procs / ppn); cpus = procs; timeLimit = f9 when > 0;
   * state from f11 (1 COMPLETED, 0 FAILED, 5 CANCELLED, 2/3 partial → COMPLETED, 4 partial → FAILED, else UNKNOWN);
   * user = f12; partition = f16 (or queue f15), by its header name when there is one.
   */
  private job(text: string, lineNo: number): JobRecord | null {
    const f = this.f;
    const r = this.report;
    const n = splitNumbers(text, f, this.ts, this.te);
    if (n !== SWF_FIELDS) {
      skip(r, lineNo, `expected ${SWF_FIELDS} whitespace-separated numbers, found ${n}`);
      return null;
    }
    for (let k = 0; k < SWF_FIELDS; k++) {
      if (Number.isNaN(f[k])) {
        const tok = text.slice(this.ts[k], this.te[k]);
        skip(r, lineNo, `field ${k + 1} (${FIELD_NAMES[k]}): ${quote(tok)} is not a number`);
        return null;
      }
    }
    for (const k of INTEGER_FIELDS) {
      if (!Number.isSafeInteger(f[k])) {
        const tok = text.slice(this.ts[k], this.te[k]);
        skip(r, lineNo, `field ${k + 1} (${FIELD_NAMES[k]}): ${quote(tok)} is not a whole number`);
        return null;
      }
    }
    const [id, submitRel, wait, run, alloc] = f;
    const reqProcs = f[7];
    if (submitRel < 0) {
      skip(r, lineNo, `field 2 (submit time): ${submitRel} is negative (unknown submit time)`);
      return null;
    }
    const submit = this.t0 + submitRel;
    // start/end: known only when the run time is
    let start: number | null = null;
    let end: number | null = null;
    if (run >= 0) {
      if (wait < 0) note(r, 'wait_unknown');
      start = submit + Math.max(wait, 0);
      end = start + run;
    } else {
      note(r, 'run_time_unknown');
    }
    // processors: allocated, else requested
    let procs = alloc;
    if (alloc < 0) {
      if (reqProcs > 0) {
        procs = reqProcs;
        note(r, run > 0 ? 'alloc_from_requested' : 'requested_procs_not_run');
      } else {
        procs = 0;
        note(r, 'procs_unknown');
      }
    }
    const state = swfState(f[10]);
    if (state === undefined) note(r, 'unknown_status');
    else if (f[10] >= 2 && f[10] <= 4) note(r, 'partial_record');
    const user = f[11] >= 0 ? String(f[11]) : null;
    const part = f[15];
    const queue = f[14];
    let partition: string | null = null;
    if (part >= 0) partition = this.partitions.get(part) || String(part);
    else if (queue >= 0) partition = this.queues.get(queue) || String(queue);
    r.jobs++;
    return {
      id: String(id),
      submit,
      eligible: null,
      start,
      end,
      nodes: procs > 0 ? Math.ceil(procs / this.ppn) : 0,
      cpus: procs,
      timeLimit: f[8] > 0 ? f[8] : null,
      partition,
      state: state ?? 'UNKNOWN',
      user,
      nodeList: null,
    };
  }
}

function swfState(status: number): JobState | undefined {
  switch (status) {
    case 1:
    case 2:
    case 3:
      return 'COMPLETED';
    case 0:
    case 4:
      return 'FAILED';
    case 5:
      return 'CANCELLED';
    case -1:
      return 'UNKNOWN';
    default:
      return undefined;
  }
}

/** Parse SWF text held in memory (tests, small inputs). */
export function parseSwfText(
  text: string,
  opts: SwfOptions = {},
  source = 'swf',
): { jobs: JobRecord[]; meta: SourceMeta; report: ParseReport } {
  const p = new SwfParser(source, opts);
  const jobs = parseText(text, p);
  return { jobs, meta: p.meta(), report: p.report };
}

/** Open an SWF file (plain or gzip); reads the header before returning so that `meta` is complete. */
export async function openSwf(path: string, opts: SwfOptions = {}): Promise<ProgressingSource> {
  const p = new SwfParser(path, opts);
  const ls = await openLines(path);
  let lineNo = 0;
  let pending: JobRecord | null = null;
  let ended = false;
  // read the header (and the first job line, if any) now
  try {
    for (;;) {
      const r = await ls.lines.next();
      if (r.done) {
        ended = true;
        break;
      }
      lineNo++;
      const isJob = !/^\s*(;|$)/.test(r.value);
      pending = p.line(r.value, lineNo);
      if (isJob) break;
    }
  } catch (e) {
    ls.close();
    throw e;
  }
  const meta = p.meta();
  async function* jobs(): AsyncGenerator<JobRecord> {
    if (pending) yield pending;
    if (ended) return;
    for await (const l of ls.lines) {
      const j = p.line(l, ++lineNo);
      if (j) yield j;
    }
  }
  return {
    kind: 'swf',
    meta,
    report: p.report,
    jobs: jobs(),
    progress: () => ({ done: ls.bytesRead(), total: ls.totalBytes }),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Header keys the writer computes itself (any values in `meta.header` for these are replaced). */
const COMPUTED_KEYS = new Set([
  'Version',
  'MaxJobs',
  'MaxRecords',
  'UnixStartTime',
  'TimeZoneString',
  'MaxNodes',
  'MaxProcs',
  'MaxQueues',
  'Queue',
  'Queues',
  'MaxPartitions',
  'Partition',
]);

function swfStatus(s: JobState): number {
  switch (s) {
    case 'COMPLETED':
      return 1;
    case 'CANCELLED':
      return 5;
    case 'FAILED':
    case 'TIMEOUT':
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
    case 'DEADLINE':
    case 'OUT_OF_MEMORY':
    case 'PREEMPTED':
      return 0;
    default:
      return -1;
  }
}

export interface SwfWriteResult {
  written: number;
  /** Jobs with neither a submit nor a start time (cannot be placed in an SWF log). */
  skipped: number;
  /** True when job ids were not all whole numbers and were renumbered 1..n. */
  renumbered: boolean;
}

/**
 * SWF text for `jobs` (sorted by submit time): a header from `meta` (its free-form keys, such as
 * Acknowledge and Copyright, are kept) and one 18-field line per job. Per job: f5 = cpus when it ran
 * (start and end known), else f5 = -1 and f8 = cpus (requested); users that are not numbers get
 * small numbers; partitions get numbers listed in `; Partition:` lines. Reading the result back
 * with the same ppn gives the same records, except what SWF cannot hold (eligible, nodeList,
 * nodes not equal to ceil(cpus / ppn), a running job's start, the finer failure states).
 */
function* swfLines(
  jobs: readonly JobRecord[],
  meta: SourceMeta = {},
  result: SwfWriteResult = { written: 0, skipped: 0, renumbered: false },
): Generator<string> {
  const placed = jobs.filter((j) => j.submit !== null || j.start !== null);
  result.skipped = jobs.length - placed.length;
  const submitOf = (j: JobRecord) => (j.submit ?? j.start) as number;
  const sorted = placed
    .map((j, i) => ({ j, i }))
    .sort((a, b) => submitOf(a.j) - submitOf(b.j) || a.i - b.i)
    .map((x) => x.j);
  const ppn = meta.ppn && meta.ppn > 0 ? meta.ppn : 1;
  // time 0: the header's, when it is not after the first submit
  let t0 = sorted.length ? submitOf(sorted[0]) : 0;
  const h0 = leadingInt(meta.header?.UnixStartTime);
  if (h0 !== undefined && (sorted.length === 0 || h0 <= t0)) t0 = h0;
  result.renumbered = !sorted.every((j) => /^\d{1,15}$/.test(j.id));
  // users that are not numbers get numbers above the largest numeric one
  const numericUser = (u: string) => /^\d{1,15}$/.test(u);
  let userBase = 0;
  for (const j of sorted)
    if (j.user !== null && numericUser(j.user)) userBase = Math.max(userBase, Number(j.user));
  const users = new Map<string, number>();
  const parts = new Map<string, number>();
  for (const j of sorted) {
    if (j.user !== null && !numericUser(j.user) && !users.has(j.user))
      users.set(j.user, userBase + users.size + 1);
    if (j.partition !== null && !parts.has(j.partition)) parts.set(j.partition, parts.size + 1);
  }

  yield '; Version: 2.2';
  for (const [k, v] of Object.entries(meta.header ?? {})) {
    if (COMPUTED_KEYS.has(k)) continue;
    const [first, ...more] = v.split('\n');
    yield `; ${k}: ${first}`;
    for (const m of more) yield `;   ${m}`;
  }
  yield `; MaxJobs: ${sorted.length}`;
  yield `; MaxRecords: ${sorted.length}`;
  yield `; UnixStartTime: ${t0}`;
  if (meta.timeZone) yield `; TimeZoneString: ${meta.timeZone}`;
  if (meta.maxNodes !== undefined) yield `; MaxNodes: ${meta.maxNodes}`;
  if (meta.maxProcs !== undefined) yield `; MaxProcs: ${meta.maxProcs}`;
  else if (meta.maxNodes !== undefined) yield `; MaxProcs: ${meta.maxNodes * ppn}`;
  if (parts.size) {
    yield `; MaxPartitions: ${parts.size}`;
    for (const [name, num] of parts) yield `; Partition: ${num} ${name.replace(/[\r\n]+/g, ' ')}`;
  }
  if (users.size) yield '; Note: user names were replaced by numbers in order of appearance';
  if (result.renumbered) yield '; Note: job ids were not all numbers and were renumbered from 1';
  yield ';';

  let n = 0;
  for (const j of sorted) {
    n++;
    const submit = submitOf(j);
    const ran = j.start !== null && j.end !== null;
    const procs = j.cpus > 0 ? j.cpus : j.nodes * ppn;
    const fields = [
      result.renumbered ? n : Number(j.id),
      submit - t0,
      j.start !== null ? j.start - submit : -1,
      ran ? (j.end as number) - (j.start as number) : -1,
      ran && procs > 0 ? procs : -1,
      -1,
      -1,
      procs > 0 ? procs : -1,
      j.timeLimit ?? -1,
      -1,
      swfStatus(j.state),
      j.user === null ? -1 : (users.get(j.user) ?? Number(j.user)),
      -1,
      -1,
      -1,
      j.partition === null ? -1 : (parts.get(j.partition) as number),
      -1,
      -1,
    ];
    yield fields.join(' ');
  }
  result.written = n;
}

/** The whole SWF text (see `swfLines`). */
export function formatSwf(jobs: readonly JobRecord[], meta: SourceMeta = {}): string {
  let s = '';
  for (const l of swfLines(jobs, meta)) s += `${l}\n`;
  return s;
}

/** Write an SWF file atomically (see `swfLines`). */
export function writeSwf(path: string, jobs: readonly JobRecord[], meta: SourceMeta = {}): SwfWriteResult {
  const result: SwfWriteResult = { written: 0, skipped: 0, renumbered: false };
  const w = new AtomicFileWriter(path);
  try {
    for (const l of swfLines(jobs, meta, result)) w.write(`${l}\n`);
    w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  return result;
}
