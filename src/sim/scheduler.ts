import { compress } from '../jobs/hostlist.js';
import type { JobRecord } from '../jobs/record.js';
import type { ClusterState } from '../timeline/state.js';
import { type EasyState, easyPass } from './easy.js';
import { EventQueue } from './events.js';
import type { SimJob } from './job.js';

/**
 * Discrete-event simulation of an N-node cluster scheduled FCFS with EASY backfilling.
 *
 * - Events sit in a (time, seq) heap; each kind has a handler registered in `handlers`, so later
 *   work (node power states, boot completion, periodic policy ticks) adds kinds with `addEventKind`.
 * - All events at one instant are applied first, then one scheduling pass runs, then `hooks.onTick`.
 *   `runAll()` goes to the end; `advanceTo(t)` stops after instant t (live mode steps it minute by minute,
 *   and any sequence of advanceTo calls gives the same schedule as runAll()).
 * - Node state is explicit: `nodeState[i]` (IDLE / BUSY; room for OFF / BOOTING) and `nodeJob[i]`;
 *   idle nodes sit in a stack so allocation costs O(nodes of the job).
 * - EASY: start queue-head jobs while they fit. If the head does not fit, reserve for it: the shadow
 *   time is when enough nodes free up assuming running jobs end at start + limit, and the extra nodes
 *   are those left over then. A later job may start now if it fits and either ends (by its limit)
 *   before the shadow time or uses only extra nodes. Reservations use limits; ends use real runtimes.
 * - Overrun ('kill' | 'honour'): a job whose runtime exceeds its limit is killed at the limit
 *   (state TIMEOUT) or runs as recorded. With 'honour' the scheduler still plans with the limit; a job
 *   already past its limit is expected to end "now". We deliberately do not plan with
 *   max(limit, runtime): that would let the scheduler know the future for exactly the overrunning jobs.
 */

export const NODE_IDLE = 0;
export const NODE_BUSY = 1;

export const EV_SUBMIT = 0;
export const EV_END = 1;

export type Overrun = 'kill' | 'honour';

export interface SimOptions {
  nodes: number;
  overrun: Overrun;
  /** EASY backfilling (default true); false = plain FCFS, for comparison. */
  backfill?: boolean;
  /** Record every backfill decision (time, job, queue head, shadow, extra) for checks. */
  recordDecisions?: boolean;
  hooks?: SimHooks;
  /** Called with the number of processed jobs every so often (progress bars). */
  onProgress?: (doneJobs: number) => void;
}

/** Callbacks for policies layered on the scheduler (power control). All optional. */
export interface SimHooks {
  onJobStart?(sim: ClusterSim, job: number, time: number): void;
  onJobEnd?(sim: ClusterSim, job: number, time: number): void;
  /** After the events of one instant and the scheduling pass that follows them. */
  onTick?(sim: ClusterSim, time: number): void;
}

export type EventHandler = (sim: ClusterSim, arg: number, time: number) => void;

export interface BackfillDecision {
  time: number;
  job: number;
  head: number;
  shadow: number;
  extra: number;
}

export interface SimStats {
  /** Jobs asking for more nodes than the cluster has (never run). */
  rejected: number;
  /** Jobs that ran. */
  ran: number;
  /** Jobs killed at their limit. */
  killed: number;
  /** Jobs that ran past their limit (overrun = honour). */
  overran: number;
  backfilled: number;
  /** Mean wait (s) over jobs that ran. */
  meanWait: number;
  /** Busy node-seconds / (nodes * (last end - first submit)). */
  utilisation: number;
  firstSubmit: number;
  lastEnd: number;
}

export class ClusterSim implements ClusterState {
  readonly nodes: number;
  readonly overrun: Overrun;
  readonly jobs: readonly SimJob[];
  readonly n: number;
  // per job (index = position in `jobs`)
  readonly submit: Float64Array;
  readonly need: Int32Array;
  readonly cpus: Float64Array;
  /** Effective runtime after the overrun rule. */
  readonly runtime: Float64Array;
  readonly limit: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly killed: Uint8Array;
  readonly backfilled: Uint8Array;
  /** Offset of each job's node list in `allocNodes` (-1 = never ran). */
  readonly allocAt: Int32Array;
  private allocNodes: Int32Array;
  private allocLen = 0;
  // per node
  readonly nodeState: Uint8Array;
  readonly nodeJob: Int32Array;
  private freeStack: Int32Array;
  private freeCount: number;
  // queue (FCFS) and running set sorted by expected end (start + limit)
  readonly queue: Int32Array;
  qLen = 0;
  readonly running: number[] = [];
  private readonly runExpEnd: number[] = [];
  readonly events = new EventQueue(4096);
  private handlers: EventHandler[] = [];
  private hooks: SimHooks;
  readonly decisions: BackfillDecision[] = [];
  private record: boolean;
  private backfill: boolean;
  private progress?: (doneJobs: number) => void;
  private done = 0;
  private rejected = 0;
  private begun = false;
  private lastReport = 0;
  /** Flow counters since the last minute row (ClusterState; the row builder resets them). */
  submittedSince = 0;
  startedSince = 0;
  endedSince = 0;
  now = 0;

  constructor(jobs: readonly SimJob[], opts: SimOptions) {
    this.nodes = opts.nodes;
    this.overrun = opts.overrun;
    this.hooks = opts.hooks ?? {};
    this.record = Boolean(opts.recordDecisions);
    this.backfill = opts.backfill ?? true;
    this.progress = opts.onProgress;
    this.jobs = jobs;
    const n = jobs.length;
    this.n = n;
    this.submit = new Float64Array(n);
    this.need = new Int32Array(n);
    this.cpus = new Float64Array(n);
    this.runtime = new Float64Array(n);
    this.limit = new Float64Array(n);
    this.start = new Float64Array(n).fill(Number.NaN);
    this.end = new Float64Array(n).fill(Number.NaN);
    this.killed = new Uint8Array(n);
    this.backfilled = new Uint8Array(n);
    this.allocAt = new Int32Array(n).fill(-1);
    let totalNodes = 0;
    for (let i = 0; i < n; i++) {
      const j = jobs[i];
      this.submit[i] = j.submit;
      this.need[i] = j.nodes;
      this.cpus[i] = j.cpus;
      this.limit[i] = j.limit;
      const kill = this.overrun === 'kill' && j.runtime > j.limit;
      this.killed[i] = kill ? 1 : 0;
      this.runtime[i] = kill ? j.limit : j.runtime;
      if (j.nodes <= this.nodes) totalNodes += j.nodes;
    }
    this.allocNodes = new Int32Array(totalNodes);
    this.nodeState = new Uint8Array(this.nodes).fill(NODE_IDLE);
    this.nodeJob = new Int32Array(this.nodes).fill(-1);
    this.freeStack = new Int32Array(this.nodes);
    // node 0 on top of the stack, so a lone job gets node 0
    for (let i = 0; i < this.nodes; i++) this.freeStack[i] = this.nodes - 1 - i;
    this.freeCount = this.nodes;
    this.queue = new Int32Array(Math.max(16, n));
    this.handlers[EV_SUBMIT] = (sim, j) => sim.enqueue(j);
    this.handlers[EV_END] = (sim, j, t) => sim.finish(j, t);
  }

  /** Register a new event kind; returns its id for `schedule`. */
  addEventKind(handler: EventHandler): number {
    this.handlers.push(handler);
    return this.handlers.length - 1;
  }

  schedule(time: number, kind: number, arg: number): void {
    this.events.push(time, kind, arg);
  }

  /** ClusterState: a job gets its nodes and runs at once here (no boots), so both are its start. */
  get alloc(): Float64Array {
    return this.start;
  }
  get run(): Float64Array {
    return this.start;
  }

  get freeNodes(): number {
    return this.freeCount;
  }

  get queuedJobs(): number {
    return this.qLen;
  }

  get runningJobs(): number {
    return this.running.length;
  }

  /** Node indices held by a job that ran. */
  nodesOf(job: number): Int32Array {
    const at = this.allocAt[job];
    return at < 0 ? new Int32Array(0) : this.allocNodes.subarray(at, at + this.need[job]);
  }

  /** Run to completion (every submitted job has ended). */
  runAll(): void {
    this.advanceTo(Number.POSITIVE_INFINITY);
    this.progress?.(this.done);
  }

  /** Put every job's submission on the event queue (once; `run` and `advanceTo` call it). */
  private begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (let i = 0; i < this.n; i++) {
      if (this.need[i] > this.nodes || this.need[i] < 1) this.rejected++;
      else this.schedule(this.submit[i], EV_SUBMIT, i);
    }
  }

  /**
   * Process every event instant <= t (each: apply its events, one scheduling pass, `onTick`), then stop:
   * the state is then the cluster just after instant t. Calling it with increasing t runs the same
   * simulation as `runAll()` (live mode steps it minute by minute); `now` becomes t (or the last instant).
   */
  advanceTo(t: number): void {
    this.begin();
    const ev = { time: 0, kind: 0, arg: 0 };
    while (this.events.size > 0 && this.events.peekTime() <= t) {
      const at = this.events.peekTime();
      this.now = at;
      // apply every event of this instant, then schedule once
      while (this.events.size > 0 && this.events.peekTime() === at) {
        this.events.pop(ev);
        this.handlers[ev.kind](this, ev.arg, at);
      }
      this.schedulePass(at);
      this.hooks.onTick?.(this, at);
      if (this.progress && this.done - this.lastReport >= 4096) {
        this.lastReport = this.done;
        this.progress(this.done);
      }
    }
    if (Number.isFinite(t) && t > this.now) this.now = t;
  }

  /** True when every submitted job has ended and nothing is left on the event queue. */
  get finished(): boolean {
    return this.begun && this.events.size === 0;
  }

  /** The queued jobs (FCFS order) as job indices. */
  queuedIndices(): Int32Array {
    return this.queue.slice(0, this.qLen);
  }

  /** The running jobs as job indices (ordered by expected end). */
  runningIndices(): readonly number[] {
    return this.running;
  }

  private enqueue(j: number): void {
    this.queue[this.qLen++] = j;
    this.submittedSince++;
  }

  private finish(j: number, t: number): void {
    // free the job's nodes, drop it from the running set
    const at = this.allocAt[j];
    for (let k = 0; k < this.need[j]; k++) {
      const node = this.allocNodes[at + k];
      this.nodeState[node] = NODE_IDLE;
      this.nodeJob[node] = -1;
      this.freeStack[this.freeCount++] = node;
    }
    const idx = this.findRunning(j);
    this.running.splice(idx, 1);
    this.runExpEnd.splice(idx, 1);
    if (this.end[j] > this.start[j]) this.endedSince++;
    this.done++;
    this.hooks.onJobEnd?.(this, j, t);
  }

  private findRunning(j: number): number {
    // binary search on expected end, then scan the ties
    const e = this.start[j] + this.limit[j];
    let lo = 0;
    let hi = this.runExpEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runExpEnd[mid] < e) lo = mid + 1;
      else hi = mid;
    }
    while (this.running[lo] !== j) lo++;
    return lo;
  }

  private startJob(j: number, t: number): void {
    // take nodes from the idle stack
    const need = this.need[j];
    const at = this.allocLen;
    this.allocAt[j] = at;
    for (let k = 0; k < need; k++) {
      const node = this.freeStack[--this.freeCount];
      this.nodeState[node] = NODE_BUSY;
      this.nodeJob[node] = j;
      this.allocNodes[at + k] = node;
    }
    this.allocLen += need;
    this.start[j] = t;
    this.end[j] = t + this.runtime[j];
    if (this.end[j] > t) this.startedSince++;
    // insert into the running set, ordered by expected end
    const e = t + this.limit[j];
    let lo = 0;
    let hi = this.runExpEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runExpEnd[mid] <= e) lo = mid + 1;
      else hi = mid;
    }
    this.running.splice(lo, 0, j);
    this.runExpEnd.splice(lo, 0, e);
    this.schedule(this.end[j], EV_END, j);
    this.hooks.onJobStart?.(this, j, t);
  }

  private easy?: EasyState;

  /** One EASY pass at time t: the rule in ./easy.ts, shared by ClusterSim and PowerSim. */
  private schedulePass(t: number): void {
    // the arrays are allocated once (constructor) and changed in place, so the state holds them directly
    this.easy ??= {
      queue: this.queue,
      qLen: 0,
      need: this.need,
      limit: this.limit,
      running: this.running,
      runExpEnd: this.runExpEnd,
      backfill: this.backfill,
      freeCount: () => this.freeCount,
      startJob: (j, at) => this.startJob(j, at),
      onBackfill: (j, time, head, shadow, extra) => {
        if (this.record) this.decisions.push({ time, job: j, head, shadow, extra });
        this.backfilled[j] = 1;
      },
    };
    this.easy.qLen = this.qLen;
    this.qLen = easyPass(this.easy, t);
  }

  stats(): SimStats {
    let ran = 0;
    let killed = 0;
    let overran = 0;
    let backfilled = 0;
    let wait = 0;
    let busy = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.n; i++) {
      if (Number.isNaN(this.start[i])) continue;
      ran++;
      killed += this.killed[i];
      if (this.runtime[i] > this.limit[i]) overran++;
      backfilled += this.backfilled[i];
      wait += this.start[i] - this.submit[i];
      busy += this.need[i] * (this.end[i] - this.start[i]);
      if (this.submit[i] < first) first = this.submit[i];
      if (this.end[i] > last) last = this.end[i];
    }
    const span = last - first;
    return {
      rejected: this.rejected,
      ran,
      killed,
      overran,
      backfilled,
      meanWait: ran ? wait / ran : 0,
      utilisation: ran && span > 0 ? busy / (this.nodes * span) : 0,
      firstSubmit: ran ? first : 0,
      lastEnd: ran ? last : 0,
    };
  }

  /**
   * The scheduled jobs as JobRecords, in submit order (jobs that never ran are left out). With
   * `nodeNames` (one name per node index), `nodeList` is the compressed hostlist of the job's nodes.
   */
  *records(nodeNames?: readonly string[]): Generator<JobRecord> {
    for (let i = 0; i < this.n; i++) {
      if (Number.isNaN(this.start[i])) continue;
      const j = this.jobs[i];
      yield {
        id: j.id,
        submit: j.submit,
        eligible: null,
        start: this.start[i],
        end: this.end[i],
        nodes: j.nodes,
        cpus: j.cpus,
        timeLimit: j.limit,
        partition: j.partition,
        state: this.killed[i] ? 'TIMEOUT' : 'COMPLETED',
        user: j.user,
        nodeList: nodeNames ? compress(Array.from(this.nodesOf(i), (k) => nodeNames[k])) : null,
      };
    }
  }
}

/** Schedule `jobs` (sorted by submit) on `opts.nodes` nodes and return the finished simulation. */
export function simulateCluster(jobs: readonly SimJob[], opts: SimOptions): ClusterSim {
  const sim = new ClusterSim(jobs, opts);
  sim.runAll();
  return sim;
}
