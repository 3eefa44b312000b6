import type { JobRecord, JobState } from '../jobs/record.js';
import { InputError } from '../util/errors.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from './columns.js';
import { CELLS, EndingTable, MAX_PIECES, segmentsInto } from './survival.js';

/**
 * Jobs -> minute timeline, by a sweep over events: every job adds a few interval updates to
 * difference arrays (one entry where an interval starts, one where it ends) and the columns are their
 * prefix sums. Cost O(jobs + minutes) plus O(minutes * P90_BINS) for the time-limit percentile; memory
 * 64 bytes per job plus ~20 Float64Arrays of `minutes` entries.
 *
 * Semantics (row i is the instant t = start + 60*i):
 * - running at t: start <= t < end (end null = still running -> until the span end). A job holds nodes
 *   only when nodes > 0 and (end null or end > start); jobs that do not hold nodes count nowhere in the
 *   running columns nor in started/ended_last_min (they still count as submitted and while queued).
 * - queued at t: (eligible ?? submit) <= t < (start ?? end ?? +inf). A job cancelled while pending leaves
 *   the queue at its end. Exception: a job in a finished state (COMPLETED, CANCELLED, FAILED, ...) with
 *   neither start nor end has no known exit time and is not counted as queued at all (counted in
 *   `stats.noExitTime`) — otherwise such records (e.g. SWF run time -1) would sit in the queue forever.
 * - busy_nodes = min(raw, capacity), overshoot_nodes = max(0, raw - capacity), cpu_util = min(1, cpus / totalCpus).
 * - p90_limit_running_s: nearest-rank 90th percentile read from a histogram of the running jobs' limits
 *   over P90_BINS = 128 log-spaced bins from 60 s to 365 days (each bin spans a factor 525600^(1/128) ~ 1.108,
 *   i.e. ~10.8 %). The value reported is the mean of the limits in the percentile's bin, so it is exact
 *   when that bin holds one distinct limit (the usual case: limits are round numbers) and otherwise lies
 *   within that bin. Limits below 60 s share bin 0, above 365 days the last bin.
 * - *_last_min flow counts: events in (t-60, t].
 * - age_*_nodes: running nodes by t - start in [0, 5), [5, 30), [30, 120), [120, inf) minutes.
 * - expected_end_30m_nodes: sum of nodes * P(ends within 30 min | cell) over running jobs, P from an
 *   EndingTable (src/timeline/survival.ts): `opts.endingTable` for every row when given (live rows), else
 *   fitted online — the rows of day k (blocks of 1440 rows from the first row) use the table of the jobs
 *   that ended by the start of that day (so never a job's own future). P is constant over a job's minutes
 *   of one cell and one day, so each such piece is one difference-array update.
 */

/** Histogram resolution of p90_limit_running_s (see the module comment). */
export const P90_BINS = 128;
export const P90_MIN_S = 60;
export const P90_MAX_S = 365 * 86400;
const LOG_RANGE = Math.log(P90_MAX_S / P90_MIN_S);

/** The histogram bin of a time limit (seconds). */
export function p90Bin(limitS: number): number {
  if (limitS <= P90_MIN_S) return 0;
  if (limitS >= P90_MAX_S) return P90_BINS - 1;
  const b = Math.floor((Math.log(limitS / P90_MIN_S) / LOG_RANGE) * P90_BINS);
  return b < P90_BINS ? b : P90_BINS - 1;
}

/** Refuse spans that would take gigabytes (about 11.4 years of minutes); the user can clip with since/until. */
export const MAX_TIMELINE_MINUTES = 6_000_000;

export interface BuildOptions {
  /** Nodes in the cluster: busy_nodes is clipped to it. */
  capacity: number;
  /** CPUs per node (default 1); only used for the default of totalCpus. */
  cpusPerNode?: number;
  /** CPUs in the cluster, the cpu_util denominator (default capacity * cpusPerNode). */
  totalCpus?: number;
  /** First row: the first minute boundary >= start (epoch s). Default: floor-minute of the earliest event. */
  start?: number;
  /** Rows stop before this instant (exclusive, epoch s). Default: up to and including the ceil-minute of the latest event. */
  end?: number;
  /**
   * The ending table for expected_end_30m_nodes on every row (e.g. one saved by `pcm timeline`, for a live
   * row built from a queue snapshot). Default: fitted online from the jobs given (see the module comment).
   */
  endingTable?: EndingTable;
}

/** What the builder did with the jobs it was given, for the summary's data-quality section. */
export interface BuildStats {
  jobs: number;
  /** Jobs with nodes > 0 and a start, and end null or end > start. */
  holdingNodes: number;
  /** Started jobs with nodes <= 0 (hold nothing). */
  zeroNodes: number;
  /** Started jobs with end <= start (run time 0 or negative: hold nothing). */
  nonPositiveRun: number;
  /** Started jobs with no end: counted as running until the span end. */
  openEnded: number;
  /** Jobs that never started (pending, or cancelled while pending). */
  neverStarted: number;
  /** Finished-state jobs with neither start nor end: not counted in the queue (no known exit time). */
  noExitTime: number;
  /** Jobs with no submit and no eligible time (never counted as queued). */
  noSubmit: number;
  /** Earliest and latest event time seen (epoch s), null when no job had a time. */
  firstEvent: number | null;
  lastEvent: number | null;
}

const FINISHED: ReadonlySet<JobState> = new Set<JobState>([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED',
]);

// per-job record layout in the flat store (NaN = null)
const F_SUBMIT = 0;
const F_QSTART = 1; // eligible ?? submit
const F_START = 2;
const F_END = 3;
const F_NODES = 4;
const F_CPUS = 5;
const F_LIMIT = 6;
const F_QEND = 7; // when the job left the queue: start ?? end ?? (finished state ? -inf = never queued : +inf)
const STRIDE = 8;

/** Collects jobs (64 bytes each) and builds the timeline once all are in. Feed with `add`, then `finish`. */
export class TimelineBuilder {
  private store = new Float64Array(STRIDE * 1024);
  private n = 0;
  private minT = Number.POSITIVE_INFINITY;
  private maxT = Number.NEGATIVE_INFINITY;
  readonly stats: BuildStats = {
    jobs: 0,
    holdingNodes: 0,
    zeroNodes: 0,
    nonPositiveRun: 0,
    openEnded: 0,
    neverStarted: 0,
    noExitTime: 0,
    noSubmit: 0,
    firstEvent: null,
    lastEvent: null,
  };
  private readonly opts: BuildOptions;

  constructor(opts: BuildOptions) {
    if (!(Number.isFinite(opts.capacity) && opts.capacity > 0)) {
      throw new InputError(`capacity: expected a positive number of nodes, got ${opts.capacity}`);
    }
    const total = opts.totalCpus ?? opts.capacity * (opts.cpusPerNode ?? 1);
    if (!(Number.isFinite(total) && total > 0)) {
      throw new InputError(`totalCpus: expected a positive number of CPUs, got ${total}`);
    }
    if (opts.start !== undefined && opts.end !== undefined && !(opts.end > opts.start)) {
      throw new InputError(`end (${opts.end}) must be after start (${opts.start})`);
    }
    this.opts = opts;
  }

  get count(): number {
    return this.n;
  }

  add(job: JobRecord): void {
    const st = this.stats;
    st.jobs++;
    if (this.n * STRIDE === this.store.length) {
      const grown = new Float64Array(this.store.length * 2);
      grown.set(this.store);
      this.store = grown;
    }
    const submit = num(job.submit);
    const qStart = job.eligible != null && Number.isFinite(job.eligible) ? job.eligible : submit;
    const start = num(job.start);
    const end = num(job.end);
    let qEnd = start;
    if (Number.isNaN(start)) {
      st.neverStarted++;
      if (!Number.isNaN(end)) qEnd = end;
      else if (FINISHED.has(job.state)) {
        qEnd = Number.NEGATIVE_INFINITY; // no known exit: never queued
        st.noExitTime++;
      } else qEnd = Number.POSITIVE_INFINITY;
    } else if (!(job.nodes > 0)) st.zeroNodes++;
    else if (Number.isNaN(end)) {
      st.openEnded++;
      st.holdingNodes++;
    } else if (end <= start) st.nonPositiveRun++;
    else st.holdingNodes++;
    if (Number.isNaN(qStart)) st.noSubmit++;
    const o = this.n * STRIDE;
    const s = this.store;
    s[o + F_SUBMIT] = submit;
    s[o + F_QSTART] = qStart;
    s[o + F_START] = start;
    s[o + F_END] = end;
    s[o + F_NODES] = Number.isFinite(job.nodes) && job.nodes > 0 ? job.nodes : 0; // NaN -> 0
    s[o + F_CPUS] = Number.isFinite(job.cpus) && job.cpus > 0 ? job.cpus : 0;
    const limit = job.timeLimit;
    s[o + F_LIMIT] = limit != null && Number.isFinite(limit) && limit > 0 ? limit : Number.NaN;
    s[o + F_QEND] = qEnd;
    this.n++;
    // the default span covers every known event time
    this.see(submit);
    this.see(qStart);
    this.see(start);
    this.see(end);
  }

  private see(t: number): void {
    if (t < this.minT) this.minT = t; // NaN compares false
    if (t > this.maxT) this.maxT = t;
  }

  finish(): Timeline {
    const { capacity } = this.opts;
    const totalCpus = this.opts.totalCpus ?? capacity * (this.opts.cpusPerNode ?? 1);
    if (this.minT <= this.maxT) {
      this.stats.firstEvent = this.minT;
      this.stats.lastEvent = this.maxT;
    }
    // rows: minute instants T0 .. T0 + 60*(M-1)
    let T0: number;
    let last: number;
    if (this.opts.start !== undefined) T0 = Math.ceil(this.opts.start / 60) * 60;
    else T0 = this.minT <= this.maxT ? Math.floor(this.minT / 60) * 60 : 0;
    if (this.opts.end !== undefined) last = Math.ceil(this.opts.end / 60) * 60 - 60;
    else last = this.minT <= this.maxT ? Math.ceil(this.maxT / 60) * 60 : T0 - 60;
    const noEvents = !(this.minT <= this.maxT) && this.opts.start === undefined;
    const M = noEvents ? 0 : Math.max(0, (last - T0) / 60 + 1);
    if (M > MAX_TIMELINE_MINUTES) {
      throw new InputError(
        `the timeline would span ${M} minutes (${iso(T0)} .. ${iso(last)}), more than ${MAX_TIMELINE_MINUTES}; ` +
          'clip it with --since/--until',
      );
    }
    const cols = {} as Record<TimelineColumn, Float64Array>;
    for (const c of TIMELINE_COLUMNS) cols[c] = new Float64Array(M);
    const tl: Timeline = { start: T0, minutes: M, capacity, totalCpus, columns: cols };
    if (M === 0) return tl;
    sweep(this.store, this.n, T0, M, capacity, totalCpus, cols);
    expectedEnds(this.store, this.n, T0, M, cols.expected_end_30m_nodes, this.opts.endingTable);
    return tl;
  }

  /** The ending table of every job added so far that held nodes and has ended (to save for live rows). */
  endingTable(): EndingTable {
    const t = new EndingTable();
    const s = this.store;
    for (let j = 0; j < this.n; j++) {
      const o = j * STRIDE;
      const start = s[o + F_START];
      const end = s[o + F_END];
      if (Number.isNaN(start) || Number.isNaN(end) || !(s[o + F_NODES] > 0) || end <= start) continue;
      t.addRun((end - start) / 60, s[o + F_LIMIT] / 60, s[o + F_NODES]);
    }
    return t;
  }
}

/**
 * Build the minute timeline of `jobs` (see TimelineBuilder for the semantics). Synchronous for an
 * Iterable (an array), a Promise for an AsyncIterable (a JobSource's `jobs`).
 */
export function buildTimeline(jobs: Iterable<JobRecord>, opts: BuildOptions): Timeline;
export function buildTimeline(jobs: AsyncIterable<JobRecord>, opts: BuildOptions): Promise<Timeline>;
export function buildTimeline(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  opts: BuildOptions,
): Timeline | Promise<Timeline>;
export function buildTimeline(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  opts: BuildOptions,
): Timeline | Promise<Timeline> {
  const b = new TimelineBuilder(opts);
  if (Symbol.asyncIterator in jobs) {
    return (async () => {
      for await (const j of jobs) b.add(j);
      return b.finish();
    })();
  }
  for (const j of jobs) b.add(j);
  return b.finish();
}

/** A job time as a number: null (and NaN/infinite garbage) -> NaN. */
function num(x: number | null): number {
  return x != null && Number.isFinite(x) ? x : Number.NaN;
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}

/** Row index of the first minute instant >= x, clamped to [0, M]; NaN/+inf -> M, -inf -> 0. */
function rowAtOrAfter(x: number, T0: number, M: number): number {
  if (!(x < Number.POSITIVE_INFINITY)) return M; // NaN or +inf
  const i = Math.ceil((x - T0) / 60);
  return i < 0 ? 0 : Math.min(i, M);
}

/** Row index of the flow bucket (t-60, t] that holds x, or -1 outside the rows. */
function flowRow(x: number, T0: number, M: number): number {
  if (Number.isNaN(x)) return -1;
  const i = Math.ceil((x - T0) / 60);
  return i >= 0 && i < M ? i : -1;
}

/** Interval addition on a difference array of length M: +v on rows [a, b). */
function addRange(d: Float64Array, a: number, b: number, v: number): void {
  d[a] += v;
  if (b < d.length) d[b] -= v;
}

/** In-place prefix sum: difference array -> values. */
function prefixSum(d: Float64Array): void {
  for (let i = 1; i < d.length; i++) d[i] += d[i - 1];
}

const ENDING: ReadonlyArray<[TimelineColumn, number]> = [
  ['ending_5m_nodes', 5],
  ['ending_10m_nodes', 10],
  ['ending_30m_nodes', 30],
  ['ending_60m_nodes', 60],
  ['ending_240m_nodes', 240],
];

/** Age columns: nodes of running jobs with t - start below each bound (minutes), the last unbounded. */
const AGES: ReadonlyArray<[TimelineColumn, number]> = [
  ['age_lt5m_nodes', 5],
  ['age_5_30m_nodes', 30],
  ['age_30_120m_nodes', 120],
  ['age_ge120m_nodes', Number.POSITIVE_INFINITY],
];

/** Rows per refit of the online ending table (one day). */
export const ENDING_BLOCK_ROWS = 1440;

/** The sweep: store (n jobs x STRIDE) -> columns (M rows). */
function sweep(
  store: Float64Array,
  n: number,
  T0: number,
  M: number,
  capacity: number,
  totalCpus: number,
  c: Record<TimelineColumn, Float64Array>,
): void {
  // difference arrays live in the output columns (and two temporaries) until the prefix sums
  const dRun = c.running_jobs;
  const dRaw = c.overshoot_nodes; // raw node sum, split into busy/overshoot at the end
  const dCpus = c.mean_cpus_running; // allocated CPUs, turned into cpu_util and the mean at the end
  const dSumStart = c.mean_elapsed_running_s; // sum of (start - T0) over running jobs
  const dLimSum = c.mean_limit_running_s;
  const dLimCnt = new Float64Array(M);
  const dQ = c.queued_jobs;
  const dQNodes = c.queued_nodes;
  const dQCpus = c.mean_cpus_queued;
  const submitted = c.submitted_last_min;
  const started = c.started_last_min;
  const ended = c.ended_last_min;
  // p90 histogram events, bucketed by row (CSR): evCount[i] events at row i
  const evStart = new Int32Array(M + 1);
  const bin = new Uint8Array(n);

  for (let j = 0; j < n; j++) {
    const o = j * STRIDE;
    const submit = store[o + F_SUBMIT];
    const start = store[o + F_START];
    const end = store[o + F_END];
    const nodes = store[o + F_NODES];
    const cpus = store[o + F_CPUS];
    // flow: submitted in (t-60, t]
    const si = flowRow(submit, T0, M);
    if (si >= 0) submitted[si]++;
    // queue interval [qStart, qEnd)
    const qa = rowAtOrAfter(store[o + F_QSTART], T0, M);
    const qEnd = store[o + F_QEND];
    const qb = qEnd === Number.NEGATIVE_INFINITY ? 0 : rowAtOrAfter(qEnd, T0, M);
    if (qa < qb) {
      addRange(dQ, qa, qb, 1);
      addRange(dQNodes, qa, qb, nodes);
      addRange(dQCpus, qa, qb, cpus);
    }
    // running interval [start, end) of node-holding jobs
    if (Number.isNaN(start) || !(nodes > 0) || end <= start) continue;
    const fi = flowRow(start, T0, M);
    if (fi >= 0) started[fi]++;
    const ei = flowRow(end, T0, M);
    if (ei >= 0) ended[ei]++;
    const a = rowAtOrAfter(start, T0, M);
    const b = rowAtOrAfter(end, T0, M); // NaN (open end) -> M
    if (a >= b) continue;
    addRange(dRun, a, b, 1);
    addRange(dRaw, a, b, nodes);
    addRange(dCpus, a, b, cpus);
    addRange(dSumStart, a, b, start - T0);
    // age columns: rows [a, b) cut where t - start reaches each bound
    let lo = a;
    for (const [col, bound] of AGES) {
      const hi = Math.min(b, rowAtOrAfter(start + 60 * bound, T0, M));
      if (lo < hi) {
        addRange(c[col], lo, hi, nodes);
        lo = hi;
      }
    }
    const limit = store[o + F_LIMIT];
    if (Number.isNaN(limit)) continue;
    addRange(dLimCnt, a, b, 1);
    addRange(dLimSum, a, b, limit);
    bin[j] = p90Bin(limit);
    evStart[a + 1]++;
    if (b < M) evStart[b + 1]++;
    // known future: nodes of running jobs whose limit ends by t + k minutes: rows t >= start + limit - 60k
    for (const [col, k] of ENDING) {
      const lo = Math.max(a, rowAtOrAfter(start + limit - 60 * k, T0, M));
      if (lo < b) addRange(c[col], lo, b, nodes);
    }
  }

  // CSR of histogram events: +(j+1) = job j starts counting at that row, -(j+1) = stops
  for (let i = 0; i < M; i++) evStart[i + 1] += evStart[i];
  const events = new Int32Array(evStart[M]);
  const fill = evStart.slice(0, M);
  for (let j = 0; j < n; j++) {
    const o = j * STRIDE;
    const start = store[o + F_START];
    const end = store[o + F_END];
    const nodes = store[o + F_NODES];
    if (Number.isNaN(start) || !(nodes > 0) || end <= start || Number.isNaN(store[o + F_LIMIT])) continue;
    const a = rowAtOrAfter(start, T0, M);
    const b = rowAtOrAfter(end, T0, M);
    if (a >= b) continue;
    events[fill[a]++] = j + 1;
    if (b < M) events[fill[b]++] = -(j + 1);
  }

  for (const d of [dRun, dRaw, dCpus, dSumStart, dLimSum, dLimCnt, dQ, dQNodes, dQCpus]) prefixSum(d);
  for (const [col] of ENDING) prefixSum(c[col]);
  for (const [col] of AGES) prefixSum(c[col]);

  const busy = c.busy_nodes;
  const util = c.cpu_util;
  const meanNodes = c.mean_nodes_running;
  const meanNodesQ = c.mean_nodes_queued;
  const p90 = c.p90_limit_running_s;
  const hCount = new Float64Array(P90_BINS);
  const hSum = new Float64Array(P90_BINS);
  for (let i = 0; i < M; i++) {
    // running: raw nodes -> busy (clipped) + overshoot; CPUs -> utilisation + mean
    const run = dRun[i];
    const raw = dRaw[i];
    busy[i] = Math.min(raw, capacity);
    dRaw[i] = raw > capacity ? raw - capacity : 0;
    const cpus = dCpus[i];
    util[i] = cpus < totalCpus ? cpus / totalCpus : 1;
    if (run > 0) {
      meanNodes[i] = raw / run;
      dCpus[i] = cpus / run;
      dSumStart[i] = 60 * i - dSumStart[i] / run; // mean of (t - start)
    } else {
      dCpus[i] = 0;
      dSumStart[i] = 0;
    }
    // queue means
    const q = dQ[i];
    if (q > 0) {
      meanNodesQ[i] = dQNodes[i] / q;
      dQCpus[i] /= q;
    } else dQCpus[i] = 0;
    // limits: mean from sums; p90 from the histogram after applying this row's events
    for (let e = evStart[i]; e < evStart[i + 1]; e++) {
      const ev = events[e];
      const j = ev > 0 ? ev - 1 : -ev - 1;
      const bj = bin[j];
      const lim = store[j * STRIDE + F_LIMIT];
      if (ev > 0) {
        hCount[bj]++;
        hSum[bj] += lim;
      } else if (--hCount[bj] === 0) hSum[bj] = 0;
      else hSum[bj] -= lim;
    }
    const cnt = dLimCnt[i];
    if (cnt > 0) {
      dLimSum[i] /= cnt;
      const rank = Math.ceil((cnt * 9) / 10); // nearest rank, 1-based (integer arithmetic, no 0.9 rounding)
      let cum = 0;
      let bi = 0;
      for (; bi < P90_BINS - 1; bi++) {
        cum += hCount[bi];
        if (cum >= rank) break;
      }
      p90[i] = hSum[bi] / hCount[bi];
    } else dLimSum[i] = 0;
  }
}

/**
 * expected_end_30m_nodes into `out` (M rows): per running job, nodes * P[cell] over the rows of each piece
 * of constant cell and day. P: from `fixed` for every row, else per day from the jobs ended by its start.
 */
function expectedEnds(
  store: Float64Array,
  n: number,
  T0: number,
  M: number,
  out: Float64Array,
  fixed?: EndingTable,
): void {
  const nb = Math.ceil(M / ENDING_BLOCK_ROWS);
  const blockS = 60 * ENDING_BLOCK_ROWS;
  let P: Float64Array;
  if (fixed) P = fixed.probabilities();
  else {
    // finished jobs grouped by the first day that starts at or after their end (CSR)
    P = new Float64Array(nb * CELLS);
    const off = new Int32Array(nb + 1);
    const group = new Int32Array(n).fill(-1);
    for (let j = 0; j < n; j++) {
      const o = j * STRIDE;
      const start = store[o + F_START];
      const end = store[o + F_END];
      if (Number.isNaN(start) || Number.isNaN(end) || !(store[o + F_NODES] > 0) || end <= start) continue;
      const g = Math.max(0, Math.ceil((end - T0) / blockS));
      if (g >= nb) continue;
      group[j] = g;
      off[g + 1]++;
    }
    for (let k = 0; k < nb; k++) off[k + 1] += off[k];
    const fill = off.slice(0, nb);
    const idx = new Int32Array(off[nb]);
    for (let j = 0; j < n; j++) if (group[j] >= 0) idx[fill[group[j]]++] = j;
    const table = new EndingTable();
    for (let k = 0; k < nb; k++) {
      for (let e = off[k]; e < off[k + 1]; e++) {
        const o = idx[e] * STRIDE;
        table.addRun(
          (store[o + F_END] - store[o + F_START]) / 60,
          store[o + F_LIMIT] / 60,
          store[o + F_NODES],
        );
      }
      P.set(table.probabilities(), k * CELLS);
    }
  }
  const stride = fixed ? 0 : CELLS;
  const from = new Float64Array(MAX_PIECES);
  const to = new Float64Array(MAX_PIECES);
  const cell = new Int32Array(MAX_PIECES);
  for (let j = 0; j < n; j++) {
    const o = j * STRIDE;
    const start = store[o + F_START];
    const end = store[o + F_END];
    const nodes = store[o + F_NODES];
    if (Number.isNaN(start) || !(nodes > 0) || end <= start) continue;
    const a = rowAtOrAfter(start, T0, M);
    const b = rowAtOrAfter(end, T0, M);
    if (a >= b) continue;
    // ages (minutes) of rows a and b; a piece of ages [p, q) holds rows ceil((start + 60p - T0) / 60) ..
    const x0 = (T0 + 60 * a - start) / 60;
    const x1 = (T0 + 60 * b - start) / 60;
    const base = (start - T0) / 60;
    const m = segmentsInto(x0, x1, store[o + F_LIMIT] / 60, nodes, from, to, cell);
    for (let k = 0; k < m; k++) {
      let lo = Math.max(a, Math.ceil(base + from[k] - 1e-7));
      const hi = Math.min(b, Math.ceil(base + to[k] - 1e-7));
      while (lo < hi) {
        const blk = Math.floor(lo / ENDING_BLOCK_ROWS);
        const e = Math.min(hi, (blk + 1) * ENDING_BLOCK_ROWS);
        addRange(out, lo, e, nodes * P[blk * stride + cell[k]]);
        lo = e;
      }
    }
  }
  prefixSum(out);
  for (let i = 0; i < M; i++) if (out[i] < 1e-9) out[i] = 0; // rounding left by the prefix sums
}
