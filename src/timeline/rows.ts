import { resized } from '../util/typed-array.js';
import type { Timeline } from './columns.js';
import { LimitHistogram, p90Bin } from './limit-histogram.js';
import { RowCalendar } from './row-calendar.js';
import { ENDED_WINDOW_S, EndedWindow, nearestRank, SortedValues } from './runtime-quantiles.js';
import type { ClusterState } from './state.js';
import {
  AGE_EDGES_MIN,
  ageBin,
  CELLS,
  cellIndex,
  DailyEndingTable,
  ENDING_BLOCK_ROWS,
  type EndingTable,
  REM_EDGES_MIN,
  REM_NONE,
  remBin,
  sizeBin,
} from './survival.js';

/**
 * The minute row: row m of the timeline columns (src/timeline/columns.ts), the cluster at the instant
 * t = start + 60*m, written from a scheduler's state at t (src/timeline/state.ts). Every timeline is made
 * here: batch timelines replay job records into a state (./records-state.ts), the simulator's live mode and
 * the power replay hand over their schedulers, `pcm collect` a queue snapshot.
 *
 * Semantics (what a state means at t; what job records mean is in ./records-state.ts):
 * - running at t: the jobs in `running` with need > 0 and end > t, holding nodes from their allocation
 *   (alloc <= t); jobs that hold no nodes count nowhere in the running columns nor in started/ended_last_min.
 * - queued at t: `queue[0 .. qLen)`.
 * - busy_nodes = min(raw, capacity), overshoot_nodes = max(0, raw - capacity), cpu_util = min(1, cpus / totalCpus).
 * - mean_elapsed_running_s: mean of t - alloc; mean/p90 of limits over the running jobs that have one.
 * - p90_limit_running_s: nearest-rank 90th percentile of the limits, from a histogram (./limit-histogram.ts).
 * - ending_k_nodes: nodes of running jobs whose limit runs out by t + k minutes (run + limit <= t + 60k;
 *   the limit counts from `run`, which is later than alloc when the job waited for its nodes to boot).
 * - age_*_nodes: running nodes by t - alloc in [0, 5), [5, 30), [30, 120), [120, inf) minutes.
 * - expected_end_30m_nodes: sum of nodes * P(ends within 30 min | cell) over running jobs, the cell from
 *   age, remaining limit and size (src/timeline/survival.ts); P from a fixed EndingTable for every row when
 *   given (live rows), else refitted once a day (`DailyEndingTable`): the rows of day k (blocks of 1440
 *   rows from row 0) use the table of the jobs that ended by the start of that day (so never a job's own
 *   future). Sums below 1e-9 are written as 0.
 * - *_last_min flow counts: events in (t-60, t], from the state's counters (which the row resets): submits
 *   of any job, starts and ends of node-holding jobs.
 * - p50/p90_elapsed_running_s: nearest-rank quantiles of t - alloc over the running jobs (./runtime-quantiles.ts).
 * - p50/p90_runtime_ended_1h_s: nearest-rank quantiles of end - alloc over the jobs the state reported ended
 *   (`ended`, which the row empties) with end in (t-3600, t].
 */

type TimelineColumns = Timeline['columns'];

/** Age classes of the age_* columns (s): below 5, 30, 120 min, and the rest. */
const AGE_BOUNDS_S = [300, 1800, 7200];
/** ending_5m/10m/30m/60m/240m_nodes (s). */
const ENDING_S = [300, 600, 1800, 3600, 14400];
// module-local bindings of the ending-table bins: the hot path calls them once per job change (an imported
// binding can cost a getter call per use under a loader such as tsx)
const binAge = ageBin;
const binRem = remBin;
const binSize = sizeBin;
const cellOf = cellIndex;
const AGE_EDGES = Float64Array.from(AGE_EDGES_MIN);
const REM_EDGES = Float64Array.from(REM_EDGES_MIN);
const REM_NONE_BIN = REM_NONE;

/**
 * Writes timeline rows from a state (see the module comment), for rows m = 0, 1, 2, ... in order, keeping
 * running sums updated on events, so a row costs O(jobs that changed) plus the p90 scan:
 * - membership: jobs that start or stop holding nodes, and jobs that join or leave the queue. By default
 *   `write` finds them by comparing the state's `running`/`queue` with the jobs it holds (O(running +
 *   queued)); a state that knows them (a replay of records) reports them with enter/leave/enqueue/dequeue
 *   before each `write`, and the builder never reads the lists (`{ scan: false }`).
 * - a held job's age class, ending flags and ending-table cell change at instants known from its alloc, run
 *   and limit: it is rechecked at the first row at or after the next one (./row-calendar.ts).
 * - expected_end_30m_nodes: each job contributes nodes * P[cell] for its current cell and day; the changes
 *   of a row are summed in job order (a job's old contribution out, then its new one in) and then added to
 *   the running sum, so the column is the same float for float as a prefix sum over per-row differences.
 */
export class RowBuilder {
  /** The daily refit (null with a fixed table): the state's owner adds ended runs to it. */
  readonly daily: DailyEndingTable | null;
  private readonly fixedP: Float64Array | null;
  private P: Float64Array = new Float64Array(CELLS);
  private day = -1;
  private readonly scan: boolean;
  // running sums over held jobs: count, nodes, cpus, alloc - start, limits, ending and age classes
  private run = 0;
  private raw = 0;
  private cpus = 0;
  private sumAlloc = 0;
  private limCnt = 0;
  private limSum = 0;
  private readonly ending = new Float64Array(ENDING_S.length);
  private readonly ages = new Float64Array(AGE_BOUNDS_S.length + 1);
  private readonly limits = new LimitHistogram();
  private expEnd = 0;
  // held jobs' alloc times (elapsed quantiles), run times of the jobs ended within the hour
  private readonly allocs = new SortedValues();
  private readonly endedHour = new EndedWindow(ENDED_WINDOW_S);
  // queue sums
  private qLen = 0;
  private qNodes = 0;
  private qCpus = 0;
  // membership changes to apply at the next write
  private readonly entering: number[] = [];
  private readonly leaving: number[] = [];
  private readonly enqueued: number[] = [];
  private readonly dequeued: number[] = [];
  // held and queued jobs, their positions in those lists (-1 = not in), and the scan's marks
  private readonly held: number[] = [];
  private heldAt: Int32Array = new Int32Array(0);
  private readonly waiting: number[] = [];
  private waitingAt: Int32Array = new Int32Array(0);
  private seenRun: Int32Array = new Int32Array(0);
  private seenQueue: Int32Array = new Int32Array(0);
  private stamp = 0;
  /** The next row to write. */
  private rows = 0;
  // per held job: age class | ending flags << 2, cell, limit bin, contribution to expected ends; its recheck row
  private cls: Uint8Array = new Uint8Array(0);
  private cell: Int16Array = new Int16Array(0);
  private pbin: Int16Array = new Int16Array(0);
  private cur: Float64Array = new Float64Array(0);
  private readonly rechecks = new RowCalendar();
  // this row's changes of expected ends: touched jobs, their old contribution, whether they were held
  private touched: Int32Array = new Int32Array(0);
  private nTouched = 0;
  private touchOld: Float64Array = new Float64Array(0);
  private touchHad: Uint8Array = new Uint8Array(0);

  /**
   * `start` = row 0's instant; `endingTable` = a fixed table for every row (default: refitted daily);
   * `scan: false` when the caller reports membership changes itself.
   */
  constructor(
    readonly start: number,
    readonly capacity: number,
    readonly totalCpus: number,
    endingTable?: EndingTable,
    opts: { scan?: boolean } = {},
  ) {
    this.fixedP = endingTable ? endingTable.probabilities() : null;
    this.daily = endingTable ? null : new DailyEndingTable();
    this.scan = opts.scan ?? true;
  }

  /** Job j holds nodes from the next row written on (`scan: false`). */
  enter(j: number): void {
    this.entering.push(j);
  }

  /** Job j holds nodes no more from the next row written on (`scan: false`). */
  leave(j: number): void {
    this.leaving.push(j);
  }

  /** Job j waits in the queue from the next row written on (`scan: false`). */
  enqueue(j: number): void {
    this.enqueued.push(j);
  }

  /** Job j has left the queue (`scan: false`). */
  dequeue(j: number): void {
    this.dequeued.push(j);
  }

  /** Row m from the state at its instant into `out[*][i]`; resets the state's flow counters. */
  write(s: ClusterState, m: number, out: TimelineColumns, i = m): void {
    if (m !== this.rows) throw new Error(`row builder: row ${m} written after row ${this.rows - 1}`);
    this.rows = m + 1;
    const t = this.start + 60 * m;
    if (this.heldAt.length < s.need.length) this.grow(s.need.length);
    if (this.scan) this.compare(s, t);
    const k = Math.floor(m / ENDING_BLOCK_ROWS);
    const newDay = k !== this.day;
    if (newDay) {
      this.P = this.fixedP ?? (this.daily as DailyEndingTable).at(m);
      this.day = k;
    }
    for (const j of this.leaving) this.drop(s, j);
    for (const j of this.entering) this.hold(s, j, m, t);
    this.leaving.length = 0;
    this.entering.length = 0;
    this.rechecks.take(m, (j) => this.classify(s, j, m, t, false));
    if (newDay) {
      // every held job's contribution moves to the new day's table
      for (const j of this.held) {
        this.touch(j);
        this.cur[j] = s.need[j] * this.P[this.cell[j]];
      }
    }
    this.flushExpected();
    for (const j of this.dequeued) this.unqueue(s, j);
    for (const j of this.enqueued) this.queue(s, j);
    this.dequeued.length = 0;
    this.enqueued.length = 0;
    for (const j of s.ended) this.endedHour.add(s.end[j], s.end[j] - s.alloc[j]);
    s.ended.length = 0;
    this.endedHour.evict(t);

    const run = this.run;
    const raw = this.raw;
    const cpus = this.cpus;
    const q = this.qLen;
    const cap = this.capacity;
    out.running_jobs[i] = run;
    out.queued_jobs[i] = q;
    out.busy_nodes[i] = Math.min(raw, cap);
    out.overshoot_nodes[i] = raw > cap ? raw - cap : 0;
    out.cpu_util[i] = cpus < this.totalCpus ? cpus / this.totalCpus : 1;
    out.mean_nodes_running[i] = run > 0 ? raw / run : 0;
    out.mean_cpus_running[i] = run > 0 ? cpus / run : 0;
    out.mean_elapsed_running_s[i] = run > 0 ? 60 * m - this.sumAlloc / run : 0;
    out.mean_nodes_queued[i] = q > 0 ? this.qNodes / q : 0;
    out.mean_cpus_queued[i] = q > 0 ? this.qCpus / q : 0;
    out.queued_nodes[i] = this.qNodes;
    const lc = this.limCnt;
    out.mean_limit_running_s[i] = lc > 0 ? this.limSum / lc : 0;
    out.p90_limit_running_s[i] = lc > 0 ? this.limits.p90(lc) : 0;
    const al = this.allocs;
    out.p50_elapsed_running_s[i] = run > 0 ? t - al.at(run - nearestRank(run, 50)) : 0;
    out.p90_elapsed_running_s[i] = run > 0 ? t - al.at(run - nearestRank(run, 90)) : 0;
    const rt = this.endedHour.runtimes;
    out.p50_runtime_ended_1h_s[i] = rt.size > 0 ? rt.at(nearestRank(rt.size, 50) - 1) : 0;
    out.p90_runtime_ended_1h_s[i] = rt.size > 0 ? rt.at(nearestRank(rt.size, 90) - 1) : 0;
    out.ending_5m_nodes[i] = this.ending[0];
    out.ending_10m_nodes[i] = this.ending[1];
    out.ending_30m_nodes[i] = this.ending[2];
    out.ending_60m_nodes[i] = this.ending[3];
    out.ending_240m_nodes[i] = this.ending[4];
    out.age_lt5m_nodes[i] = this.ages[0];
    out.age_5_30m_nodes[i] = this.ages[1];
    out.age_30_120m_nodes[i] = this.ages[2];
    out.age_ge120m_nodes[i] = this.ages[3];
    out.expected_end_30m_nodes[i] = this.expEnd < 1e-9 ? 0 : this.expEnd;
    out.submitted_last_min[i] = s.submittedSince;
    out.started_last_min[i] = s.startedSince;
    out.ended_last_min[i] = s.endedSince;
    s.submittedSince = 0;
    s.startedSince = 0;
    s.endedSince = 0;
  }

  /** Membership changes from the state's lists: held = in `running` with end > t and need > 0. */
  private compare(s: ClusterState, t: number): void {
    const stamp = ++this.stamp;
    for (const j of s.running) {
      if (!(s.end[j] > t) || !(s.need[j] > 0)) continue;
      this.seenRun[j] = stamp;
      if (this.heldAt[j] < 0) this.entering.push(j);
    }
    for (const j of this.held) if (this.seenRun[j] !== stamp) this.leaving.push(j);
    for (let k = 0; k < s.qLen; k++) {
      const j = s.queue[k];
      this.seenQueue[j] = stamp;
      if (this.waitingAt[j] < 0) this.enqueued.push(j);
    }
    for (const j of this.waiting) if (this.seenQueue[j] !== stamp) this.dequeued.push(j);
  }

  private queue(s: ClusterState, j: number): void {
    this.waitingAt[j] = this.waiting.length;
    this.waiting.push(j);
    this.qLen++;
    this.qNodes += s.need[j];
    this.qCpus += s.cpus[j];
  }

  private unqueue(s: ClusterState, j: number): void {
    removeAt(this.waiting, this.waitingAt, j);
    this.qLen--;
    this.qNodes -= s.need[j];
    this.qCpus -= s.cpus[j];
  }

  /** Add job j to the held jobs at row m (instant t). */
  private hold(s: ClusterState, j: number, m: number, t: number): void {
    this.touch(j);
    this.heldAt[j] = this.held.length;
    this.held.push(j);
    const nd = s.need[j];
    this.run++;
    this.raw += nd;
    this.cpus += s.cpus[j];
    this.sumAlloc += s.alloc[j] - this.start;
    this.allocs.add(s.alloc[j]);
    const l = s.limit[j];
    const b = l > 0 ? p90Bin(l) : -1;
    this.pbin[j] = b;
    if (b >= 0) {
      this.limCnt++;
      this.limSum += l;
      this.limits.add(b, l);
    }
    this.classify(s, j, m, t, true);
  }

  /** Remove job j from the held jobs. */
  private drop(s: ClusterState, j: number): void {
    this.touch(j);
    removeAt(this.held, this.heldAt, j);
    const nd = s.need[j];
    this.run--;
    this.raw -= nd;
    this.cpus -= s.cpus[j];
    this.sumAlloc -= s.alloc[j] - this.start;
    this.allocs.remove(s.alloc[j]);
    const b = this.pbin[j];
    if (b >= 0) {
      const l = s.limit[j];
      this.limCnt--;
      this.limSum -= l;
      this.limits.remove(b, l);
    }
    this.addClass(this.cls[j], -nd);
    this.cur[j] = 0;
    this.rechecks.cancel(j);
  }

  /**
   * Job j's age class (t - alloc below 5/30/120 min), ending flags (run + limit - k min <= t) and cell (age,
   * remaining limit, size) at t; sums and expected ends follow the changes. Rechecked at the first row at or
   * after the next instant one of them changes, less a second (so rounding never misses a boundary; a recheck
   * that finds nothing changed is harmless).
   */
  private classify(s: ClusterState, j: number, m: number, t: number, first: boolean): void {
    const a = s.alloc[j];
    const l = s.limit[j];
    const nd = s.need[j];
    let c = t < a + AGE_BOUNDS_S[0] ? 0 : t < a + AGE_BOUNDS_S[1] ? 1 : t < a + AGE_BOUNDS_S[2] ? 2 : 3;
    // the next age edge (the age classes' bounds are among them)
    const ab = binAge((t - a) / 60);
    let next = ab + 1 < AGE_EDGES.length ? a + 60 * AGE_EDGES[ab + 1] : Number.POSITIVE_INFINITY;
    let rb = REM_NONE_BIN;
    if (l > 0) {
      const due = s.run[j] + l;
      for (let k = 0; k < ENDING_S.length; k++) {
        const th = due - ENDING_S[k];
        if (th <= t) c |= 4 << k;
        else if (th < next) next = th;
      }
      // the remaining limit falls to the next lower edge
      rb = binRem((due - t) / 60);
      if (rb > 0 && due - 60 * REM_EDGES[rb - 1] < next) next = due - 60 * REM_EDGES[rb - 1];
    }
    const cell = cellOf(ab, rb, binSize(nd));
    if (first) this.addClass(c, nd);
    else if (c !== this.cls[j]) {
      this.addClass(this.cls[j], -nd);
      this.addClass(c, nd);
    }
    this.cls[j] = c;
    if (first || cell !== this.cell[j]) {
      this.touch(j);
      this.cell[j] = cell;
      this.cur[j] = nd * this.P[cell];
    }
    if (next < Number.POSITIVE_INFINITY)
      this.rechecks.schedule(j, Math.max(m + 1, Math.ceil((next - 1 - this.start) / 60)), m);
  }

  /** Add `nd` nodes to the age class and ending flags packed in c. */
  private addClass(c: number, nd: number): void {
    this.ages[c & 3] += nd;
    for (let k = 0; k < ENDING_S.length; k++) if (c & (4 << k)) this.ending[k] += nd;
  }

  /** Note job j's contribution (and whether it was held) before this row's first change to it. */
  private touch(j: number): void {
    if (this.touchHad[j]) return;
    this.touchHad[j] = this.heldAt[j] >= 0 ? 2 : 1;
    this.touchOld[j] = this.cur[j];
    this.touched[this.nTouched++] = j;
  }

  /** This row's change of expected ends, summed in job order (old contribution out, new in), into the sum. */
  private flushExpected(): void {
    const n = this.nTouched;
    if (n === 0) return;
    const list = this.touched;
    if (n > 1) sortPrefix(list, n);
    let d = 0;
    for (let k = 0; k < n; k++) {
      const j = list[k];
      if (this.touchHad[j] === 2) d -= this.touchOld[j];
      if (this.heldAt[j] >= 0) d += this.cur[j];
      this.touchHad[j] = 0;
    }
    this.nTouched = 0;
    this.expEnd = d + this.expEnd;
  }

  private grow(n: number): void {
    const len = Math.max(n, 2 * this.heldAt.length);
    this.heldAt = resized(this.heldAt, len, -1);
    this.waitingAt = resized(this.waitingAt, len, -1);
    this.seenRun = resized(this.seenRun, len);
    this.seenQueue = resized(this.seenQueue, len);
    this.cls = resized(this.cls, len);
    this.cell = resized(this.cell, len);
    this.pbin = resized(this.pbin, len);
    this.cur = resized(this.cur, len);
    this.rechecks.reserve(len);
    this.touched = resized(this.touched, len);
    this.touchOld = resized(this.touchOld, len);
    this.touchHad = resized(this.touchHad, len);
  }
}

/** Sort a[0 .. n) ascending (insertion sort for the usual few entries). */
function sortPrefix(a: Int32Array, n: number): void {
  if (n > 32) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let k = i - 1;
    for (; k >= 0 && a[k] > x; k--) a[k + 1] = a[k];
    a[k + 1] = x;
  }
}

/** Remove j from an unordered list with positions `at` (the last entry takes its place). */
function removeAt(list: number[], at: Int32Array, j: number): void {
  const k = at[j];
  const last = list.pop() as number;
  if (k < list.length) {
    list[k] = last;
    at[last] = k;
  }
  at[j] = -1;
}
