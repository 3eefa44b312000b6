import { ENDED_STATES, type JobRecord, type JobState } from '../jobs/record.js';
import { resized } from '../util/typed-array.js';
import type { RowBuilder } from './rows.js';
import { ENDED_WINDOW_S } from './runtime-quantiles.js';
import type { ClusterState } from './state.js';
import { type DailyEndingTable, ENDING_BLOCK_ROWS } from './survival.js';

/**
 * Job records replayed as a ClusterState, one minute row at a time: what a batch timeline (./build.ts) and a
 * queue snapshot (`pcm collect`) hand to the row builder (./rows.ts). Collect with `add` (64 bytes per job),
 * then `begin(T0, M)` and `advance(m)` for rows m = 0, 1, ... in order; after `advance(m)` the state is the
 * cluster at T0 + 60*m. Each job's rows are found once (events bucketed by row), so a replay costs
 * O(jobs + rows) plus what the row builder reads.
 *
 * The queue and running rules of job records (./rows.ts says what a row makes of the state):
 * - running at t: start <= t < end (end null = still running -> until the span end). A job holds nodes only
 *   when nodes > 0 and (end null or end > start); jobs that do not hold nodes still count as submitted and
 *   while queued.
 * - queued at t: (eligible ?? submit) <= t < (start ?? end ?? +inf). A job cancelled while pending leaves the
 *   queue at its end. Exception: a job in a finished state (COMPLETED, CANCELLED, FAILED, ...) with neither
 *   start nor end has no known exit time and is not counted as queued at all (counted in `stats.noExitTime`)
 *   — otherwise such records (e.g. SWF run time -1) would sit in the queue forever.
 * - flows in (t-60, t]: submits of any job; starts and ends of node-holding jobs (also those shorter than a
 *   minute, which hold no row). Ended jobs are also listed (`ended`) at the row of their end; row 0 lists those
 *   of the hour before it too (the run-time window of ./rows.ts).
 */

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

/** Finished states: the ended ones, and REVOKED (a federated job that left this cluster). */
const FINISHED: ReadonlySet<JobState> = new Set<JobState>([...ENDED_STATES, 'REVOKED']);

/** A job time as a number: null (and NaN/infinite garbage) -> NaN. */
function num(x: number | null): number {
  return x != null && Number.isFinite(x) ? x : Number.NaN;
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

/** Events of each row in CSR form: row m's events are ev[off[m] .. off[m+1]); +(j+1) = job j enters, -(j+1) = leaves. */
interface RowEvents {
  off: Int32Array;
  ev: Int32Array;
}

export class RecordsState implements ClusterState {
  // per job (ClusterState); NaN = unknown; end = +inf when the record has none
  need: Float64Array = new Float64Array(1024);
  cpus: Float64Array = new Float64Array(1024);
  /** Time limit (s), NaN = none. */
  limit: Float64Array = new Float64Array(1024);
  /** The job's start (alloc = run for records). */
  alloc: Float64Array = new Float64Array(1024);
  end: Float64Array = new Float64Array(1024);
  // per job, queue and flows
  private submit: Float64Array = new Float64Array(1024);
  /** eligible ?? submit */
  private qStart: Float64Array = new Float64Array(1024);
  /** When the job left the queue: start ?? end ?? (finished state ? -inf = never queued : +inf). */
  private qEnd: Float64Array = new Float64Array(1024);
  n = 0;
  /** Earliest and latest event time of the jobs added (+inf / -inf when none had a time). */
  minT = Number.POSITIVE_INFINITY;
  maxT = Number.NEGATIVE_INFINITY;
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
  // the replay (ClusterState)
  readonly running: number[] = [];
  queue: Int32Array = new Int32Array(0);
  qLen = 0;
  submittedSince = 0;
  startedSince = 0;
  endedSince = 0;
  readonly ended: number[] = [];
  /** Where each running / queued job sits in `running` / `queue`. */
  private pos: Int32Array = new Int32Array(0);
  private qpos: Int32Array = new Int32Array(0);
  private runEv: RowEvents = { off: new Int32Array(1), ev: new Int32Array(0) };
  private queueEv: RowEvents = { off: new Int32Array(1), ev: new Int32Array(0) };
  /** Node-holding jobs by the row that lists them as ended (CSR). */
  private endEv: RowEvents = { off: new Int32Array(1), ev: new Int32Array(0) };
  /** Flow counts per row: submitted, started, ended. */
  private flows: Int32Array = new Int32Array(0);
  /** Jobs that held nodes and ended within the rows, by day of rows (CSR, job order within a day). */
  private endedOff: Int32Array = new Int32Array(1);
  private endedJobs: Int32Array = new Int32Array(0);
  private endedDays = 0;

  /** ClusterState: a record's job runs from its start (no boot wait). */
  get run(): Float64Array {
    return this.alloc;
  }

  add(job: JobRecord): void {
    const st = this.stats;
    st.jobs++;
    if (this.n === this.need.length) this.grow(Math.max(16, 2 * this.n));
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
    const j = this.n++;
    this.submit[j] = submit;
    this.qStart[j] = qStart;
    this.qEnd[j] = qEnd;
    this.alloc[j] = start;
    this.end[j] = Number.isNaN(end) ? Number.POSITIVE_INFINITY : end;
    this.need[j] = Number.isFinite(job.nodes) && job.nodes > 0 ? job.nodes : 0; // NaN -> 0
    this.cpus[j] = Number.isFinite(job.cpus) && job.cpus > 0 ? job.cpus : 0;
    const limit = job.timeLimit;
    this.limit[j] = limit != null && Number.isFinite(limit) && limit > 0 ? limit : Number.NaN;
    // the default span covers every known event time
    this.see(submit);
    this.see(qStart);
    this.see(start);
    this.see(end);
    if (this.minT <= this.maxT) {
      st.firstEvent = this.minT;
      st.lastEvent = this.maxT;
    }
  }

  private see(t: number): void {
    if (t < this.minT) this.minT = t; // NaN compares false
    if (t > this.maxT) this.maxT = t;
  }

  /** Resize every per-job array to `c` entries (a trim when c < length). */
  private grow(c: number): void {
    this.need = resized(this.need, c);
    this.cpus = resized(this.cpus, c);
    this.limit = resized(this.limit, c);
    this.alloc = resized(this.alloc, c);
    this.end = resized(this.end, c);
    this.submit = resized(this.submit, c);
    this.qStart = resized(this.qStart, c);
    this.qEnd = resized(this.qEnd, c);
  }

  /** Whether job j holds nodes (nodes > 0, a start, end open or after the start). */
  private holds(j: number): boolean {
    return this.need[j] > 0 && this.end[j] > this.alloc[j]; // NaN start compares false
  }

  /** Prepare the replay of rows T0 + 60*m, m in [0, M): every job's rows, bucketed by row; empty state. */
  begin(T0: number, M: number): void {
    const n = this.n;
    const runRows = new Int32Array(2 * n).fill(-1);
    const queueRows = new Int32Array(2 * n).fill(-1);
    const endRows = new Int32Array(n).fill(-1);
    const flows = new Int32Array(3 * M);
    for (let j = 0; j < n; j++) {
      const si = flowRow(this.submit[j], T0, M);
      if (si >= 0) flows[3 * si]++;
      // queue interval [qStart, qEnd)
      const qa = rowAtOrAfter(this.qStart[j], T0, M);
      const qEnd = this.qEnd[j];
      const qb = qEnd === Number.NEGATIVE_INFINITY ? 0 : rowAtOrAfter(qEnd, T0, M);
      if (qa < qb) {
        queueRows[2 * j] = qa;
        queueRows[2 * j + 1] = qb;
      }
      // running interval [start, end) of node-holding jobs
      if (!this.holds(j)) continue;
      const fi = flowRow(this.alloc[j], T0, M);
      if (fi >= 0) flows[3 * fi + 1]++;
      const ei = flowRow(this.end[j], T0, M);
      if (ei >= 0) flows[3 * ei + 2]++;
      endRows[j] = ei >= 0 ? ei : this.end[j] > T0 - ENDED_WINDOW_S && this.end[j] <= T0 ? 0 : -1;
      const a = rowAtOrAfter(this.alloc[j], T0, M);
      const b = rowAtOrAfter(this.end[j], T0, M); // open end (+inf) -> M
      if (a < b) {
        runRows[2 * j] = a;
        runRows[2 * j + 1] = b;
      }
    }
    this.byDay(T0, M);
    this.runEv = bucket(runRows, n, M);
    this.queueEv = bucket(queueRows, n, M);
    this.endEv = byRow(endRows, M);
    this.flows = flows;
    this.running.length = 0;
    this.queue = new Int32Array(n);
    this.qLen = 0;
    this.pos = new Int32Array(n);
    this.qpos = new Int32Array(n);
    this.submittedSince = 0;
    this.startedSince = 0;
    this.endedSince = 0;
    this.ended.length = 0;
  }

  /**
   * Group the jobs that held nodes and ended by day of rows: day g = the first day (blocks of
   * ENDING_BLOCK_ROWS rows from T0) that starts at or after the end (ended before T0: day 0).
   */
  private byDay(T0: number, M: number): void {
    const nb = Math.ceil(M / ENDING_BLOCK_ROWS);
    const blockS = 60 * ENDING_BLOCK_ROWS;
    const off = new Int32Array(nb + 1);
    const day = new Int32Array(this.n).fill(-1);
    for (let j = 0; j < this.n; j++) {
      if (!this.holds(j) || !Number.isFinite(this.end[j])) continue;
      const g = Math.max(0, Math.ceil((this.end[j] - T0) / blockS));
      if (g >= nb) continue;
      day[j] = g;
      off[g + 1]++;
    }
    for (let k = 0; k < nb; k++) off[k + 1] += off[k];
    const fill = off.slice(0, nb);
    const jobs = new Int32Array(off[nb]);
    for (let j = 0; j < this.n; j++) if (day[j] >= 0) jobs[fill[day[j]]++] = j;
    this.endedOff = off;
    this.endedJobs = jobs;
    this.endedDays = 0;
  }

  /**
   * Add to a daily refit the jobs that held nodes and ended by the start of day k of rows (those of days
   * < k were added by earlier calls): call before writing row k * ENDING_BLOCK_ROWS.
   */
  addEndedBy(into: DailyEndingTable, k: number): void {
    const off = this.endedOff;
    for (; this.endedDays <= k && this.endedDays + 1 < off.length; this.endedDays++) {
      for (let e = off[this.endedDays]; e < off[this.endedDays + 1]; e++) {
        const j = this.endedJobs[e];
        into.addRun(this.alloc[j], this.end[j], this.limit[j], this.need[j]);
      }
    }
  }

  /** Add every job that held nodes and has ended, in job order (the table to save for live rows). */
  addAllEnded(into: DailyEndingTable): void {
    for (let j = 0; j < this.n; j++) {
      if (this.holds(j) && Number.isFinite(this.end[j]))
        into.addRun(this.alloc[j], this.end[j], this.limit[j], this.need[j]);
    }
  }

  /**
   * Apply row m's events: the state becomes the cluster at its instant (call for m = 0, 1, ... in order).
   * `rows`: a row builder told of every change (then it need not compare the lists).
   */
  advance(m: number, rows?: RowBuilder): void {
    const { running, queue, pos, qpos } = this;
    const r = this.runEv;
    for (let e = r.off[m]; e < r.off[m + 1]; e++) {
      const ev = r.ev[e];
      if (ev > 0) {
        pos[ev - 1] = running.length;
        running.push(ev - 1);
        rows?.enter(ev - 1);
      } else {
        rows?.leave(-ev - 1);
        const k = pos[-ev - 1];
        const last = running.pop() as number;
        if (k < running.length) {
          running[k] = last;
          pos[last] = k;
        }
      }
    }
    const q = this.queueEv;
    for (let e = q.off[m]; e < q.off[m + 1]; e++) {
      const ev = q.ev[e];
      if (ev > 0) {
        qpos[ev - 1] = this.qLen;
        queue[this.qLen++] = ev - 1;
        rows?.enqueue(ev - 1);
      } else {
        rows?.dequeue(-ev - 1);
        // no order is kept: the last entry takes the leaver's place
        const k = qpos[-ev - 1];
        const last = queue[--this.qLen];
        queue[k] = last;
        qpos[last] = k;
      }
    }
    const d = this.endEv;
    for (let e = d.off[m]; e < d.off[m + 1]; e++) this.ended.push(d.ev[e]);
    this.submittedSince += this.flows[3 * m];
    this.startedSince += this.flows[3 * m + 1];
    this.endedSince += this.flows[3 * m + 2];
  }
}

/** Job j listed at row rows[j] (-1 = none), in job order per row (M rows). */
function byRow(rows: Int32Array, M: number): RowEvents {
  const off = new Int32Array(M + 1);
  for (const r of rows) if (r >= 0) off[r + 1]++;
  for (let i = 0; i < M; i++) off[i + 1] += off[i];
  const ev = new Int32Array(off[M]);
  const fill = off.slice(0, M);
  rows.forEach((r, j) => {
    if (r >= 0) ev[fill[r]++] = j;
  });
  return { off, ev };
}

/** Intervals [rows[2j], rows[2j+1]) (-1 = none) of n jobs -> enter/leave events per row (M rows). */
function bucket(rows: Int32Array, n: number, M: number): RowEvents {
  const off = new Int32Array(M + 2);
  for (let j = 0; j < n; j++) {
    const a = rows[2 * j];
    if (a < 0) continue;
    off[a + 1]++;
    if (rows[2 * j + 1] < M) off[rows[2 * j + 1] + 1]++;
  }
  for (let i = 0; i <= M; i++) off[i + 1] += off[i];
  const ev = new Int32Array(off[M + 1]);
  const fill = off.slice(0, M + 1);
  for (let j = 0; j < n; j++) {
    const a = rows[2 * j];
    if (a < 0) continue;
    ev[fill[a]++] = j + 1;
    const b = rows[2 * j + 1];
    if (b < M) ev[fill[b]++] = -(j + 1);
  }
  return { off, ev };
}
