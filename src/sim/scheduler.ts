import type { JobRecord } from '../jobs/record.js';
import type { ClusterState } from '../timeline/state.js';
import { type EasyState, easyPass } from './easy.js';
import { EventQueue } from './events.js';
import type { SimJob } from './job.js';
import { FreeList, type NodeAllocator } from './node-allocator.js';
import { jobRecords, type SimStats, scheduleStats } from './outcome.js';

/**
 * The one discrete-event scheduler: an N-node cluster scheduled FCFS with EASY backfilling (./easy.ts), with
 * nodes found by a strategy (./node-allocator.ts): the simulator's plain free list (`ClusterSim` below) or the
 * power replay's powered pools (`PowerSim`, src/power/cluster.ts).
 *
 * - Events sit in a (time, seq) heap; each kind has a handler registered in `handlers`, so later work (node
 *   boots and shutdowns, checks of a policy) adds kinds with `addEventKind`.
 * - At one instant: the node strategy accounts up to it, every event of the instant is applied, then one
 *   scheduling pass runs (only if there were events), then `hooks.onTick`. Instants are those of events plus
 *   those a layer asks for (`hooks.nextWake`: the power replay's minute rows and policy decisions).
 * - A job holds its nodes from allocation (`alloc`) and runs once all of them are up (`run`, the strategy says
 *   when); it ends `runtime` later. The running set is sorted by expected end, run + limit, which EASY plans with.
 * - EASY: start queue-head jobs while they fit. If the head does not fit, reserve for it: the shadow time is
 *   when enough nodes free up assuming running jobs end at run + limit, and the extra nodes are those left
 *   over then. A later job may start now if it fits and either ends (by its limit) before the shadow time or
 *   uses only extra nodes. Reservations use limits; ends use real runtimes.
 * - Overrun ('kill' | 'honour'): a job whose runtime exceeds its limit is killed at the limit (state TIMEOUT)
 *   or runs as recorded. With 'honour' the scheduler still plans with the limit; a job already past its limit
 *   is expected to end "now". We deliberately do not plan with max(limit, runtime): that would let the
 *   scheduler know the future for exactly the overrunning jobs.
 */

const EV_SUBMIT = 0;
const EV_END = 1;
/** All nodes of a job are up: it runs (only when the strategy made it wait for boots). */
const EV_RUN = 2;

export type Overrun = 'kill' | 'honour';

/**
 * Callbacks for layers on the scheduler (a live row writer, power control). All optional. The method syntax
 * lets a subclass's hooks take the subclass (`SimHooks<ClusterSim>`, `SimHooks<PowerSim>`).
 */
export interface SimHooks<S = ClusterSim> {
  /** A job entered the queue. */
  onSubmit?(sim: S, job: number, time: number): void;
  onJobStart?(sim: S, job: number, time: number): void;
  onJobEnd?(sim: S, job: number, time: number): void;
  /** After the events of one instant and the scheduling pass that follows them; a promise is waited for. */
  onTick?(sim: S, time: number): void | Promise<void>;
  /** The next instant at which `onTick` must run even if no event falls on it (default: event instants only). */
  nextWake?(sim: S): number;
  /** True when the run is over although events may remain; asked before each instant (default: none left). */
  over?(sim: S): boolean;
}

export interface SchedulerOptions<S> {
  nodes: number;
  /** Default 'honour'. */
  overrun?: Overrun;
  /** EASY backfilling (default true); false = plain FCFS, for comparison. */
  backfill?: boolean;
  /** Record every backfill decision (time, job, queue head, shadow, extra) for checks. */
  recordDecisions?: boolean;
  hooks?: SimHooks<S>;
  /** Called with the number of ended jobs every so often (progress bars). */
  onProgress?: (doneJobs: number) => void;
}

export interface SimOptions extends SchedulerOptions<ClusterSim> {
  overrun: Overrun;
}

export type EventHandler<S = ClusterSim> = (sim: S, arg: number, time: number) => void;

export interface BackfillDecision {
  time: number;
  job: number;
  head: number;
  shadow: number;
  extra: number;
}

export class Scheduler<A extends NodeAllocator> implements ClusterState {
  readonly nodes: number;
  readonly allocator: A;
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
  /** When the job got its nodes (NaN = never). */
  readonly alloc: Float64Array;
  /** When it started running (all its nodes up). */
  readonly run: Float64Array;
  readonly end: Float64Array;
  readonly killed: Uint8Array;
  readonly backfilled: Uint8Array;
  /** Offset of each job's node list in `allocNodes` (-1 = never ran). */
  readonly allocAt: Int32Array;
  private readonly allocNodes: Int32Array;
  private allocLen = 0;
  /** Job holding each node (-1 = free). */
  readonly nodeJob: Int32Array;
  // queue (FCFS) and running set sorted by expected end (run + limit)
  readonly queue: Int32Array;
  qLen = 0;
  readonly running: number[] = [];
  private readonly runExpEnd: number[] = [];
  readonly events = new EventQueue(4096);
  private readonly handlers: EventHandler<Scheduler<A>>[] = [];
  private readonly hooks: SimHooks<this>;
  readonly decisions: BackfillDecision[] = [];
  private readonly record: boolean;
  private readonly backfill: boolean;
  protected readonly progress?: (doneJobs: number) => void;
  protected done = 0;
  private accepted = 0;
  private begun = false;
  private lastReport = 0;
  /** Flow counters since the last minute row (ClusterState; the row builder resets them). */
  submittedSince = 0;
  startedSince = 0;
  endedSince = 0;
  /** Node-holding jobs that ended since the last minute row (ClusterState; the row builder empties it). */
  readonly ended: number[] = [];
  now = 0;

  constructor(jobs: readonly SimJob[], allocator: A, opts: SchedulerOptions<Scheduler<A>>) {
    this.nodes = opts.nodes;
    this.allocator = allocator;
    this.overrun = opts.overrun ?? 'honour';
    this.hooks = (opts.hooks ?? {}) as SimHooks<this>;
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
    this.alloc = new Float64Array(n).fill(Number.NaN);
    this.run = new Float64Array(n).fill(Number.NaN);
    this.end = new Float64Array(n).fill(Number.NaN);
    this.killed = new Uint8Array(n);
    this.backfilled = new Uint8Array(n);
    this.allocAt = new Int32Array(n).fill(-1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const j = jobs[i];
      this.submit[i] = j.submit;
      this.need[i] = j.nodes;
      this.cpus[i] = j.cpus;
      this.limit[i] = j.limit;
      const kill = this.overrun === 'kill' && j.runtime > j.limit;
      this.killed[i] = kill ? 1 : 0;
      this.runtime[i] = kill ? j.limit : j.runtime;
      if (this.fits(i)) total += j.nodes;
    }
    this.allocNodes = new Int32Array(total);
    this.nodeJob = new Int32Array(this.nodes).fill(-1);
    this.queue = new Int32Array(Math.max(16, n));
    this.handlers[EV_SUBMIT] = (sim, j, t) => sim.enqueue(j, t);
    this.handlers[EV_END] = (sim, j, t) => sim.finish(j, t);
    this.handlers[EV_RUN] = (sim, j, t) => sim.startRunning(j, t);
  }

  /** Register a new event kind; returns its id for `schedule`. */
  addEventKind(handler: EventHandler<this>): number {
    // the handler is only ever called with this scheduler
    this.handlers.push(handler as EventHandler<Scheduler<A>>);
    return this.handlers.length - 1;
  }

  schedule(time: number, kind: number, arg: number): void {
    this.events.push(time, kind, arg);
  }

  get freeNodes(): number {
    return this.allocator.free;
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

  /** True when every submitted job has ended and nothing is left on the event queue. */
  get finished(): boolean {
    return this.begun && this.events.size === 0;
  }

  /** True when every job that fits the cluster has been submitted and has ended. */
  get allEnded(): boolean {
    return this.begun && this.done === this.accepted;
  }

  /** The queued jobs (FCFS order) as job indices. */
  queuedIndices(): Int32Array {
    return this.queue.slice(0, this.qLen);
  }

  /** The running jobs as job indices (ordered by expected end). */
  runningIndices(): readonly number[] {
    return this.running;
  }

  private fits(j: number): boolean {
    return this.need[j] >= 1 && this.need[j] <= this.nodes;
  }

  /** Put every job's submission on the event queue (once; the loop calls it). */
  protected begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (let i = 0; i < this.n; i++) {
      if (!this.fits(i)) continue;
      this.schedule(this.submit[i], EV_SUBMIT, i);
      this.accepted++;
    }
  }

  /**
   * The event loop. Process every instant <= `until` (each: the strategy accounts up to it, its events, one
   * scheduling pass if there were any, `onTick`), then stop: the state is then the cluster just after that
   * instant, and `now` becomes `until` if finite. Calling it with increasing `until` runs the same simulation
   * as one call with Infinity. When `onTick` returns a promise, the loop returns it at once with that instant
   * otherwise complete; the caller waits for it and calls again (./scheduler.ts ClusterSim never does,
   * src/power/cluster.ts waits).
   */
  protected loop(until: number): Promise<void> | undefined {
    this.begin();
    const ev = { time: 0, kind: 0, arg: 0 };
    const h = this.hooks;
    for (;;) {
      if (h.over?.(this)) return;
      const t = Math.min(this.events.peekTime(), h.nextWake ? h.nextWake(this) : Number.POSITIVE_INFINITY);
      if (!(t <= until && t < Number.POSITIVE_INFINITY)) break; // past `until`, or nothing left
      this.allocator.advance(t);
      this.now = t;
      // apply every event of this instant, then schedule once
      let any = false;
      while (this.events.size > 0 && this.events.peekTime() === t) {
        this.events.pop(ev);
        this.handlers[ev.kind](this, ev.arg, t);
        any = true;
      }
      if (any) this.schedulePass(t);
      const r = h.onTick?.(this, t);
      if (this.progress && this.done - this.lastReport >= 4096) {
        this.lastReport = this.done;
        this.progress(this.done);
      }
      if (r instanceof Promise) return r;
    }
    if (Number.isFinite(until) && until > this.now) this.now = until;
  }

  private enqueue(j: number, t: number): void {
    this.queue[this.qLen++] = j;
    this.submittedSince++;
    this.hooks.onSubmit?.(this, j, t);
  }

  /** Allocate nodes through the strategy and plan the run (at once, or when the last node is up). */
  private startJob(j: number, t: number): void {
    const need = this.need[j];
    const at = this.allocLen;
    this.allocAt[j] = at;
    const ready = this.allocator.take(this.allocNodes, at, need, t);
    for (let k = 0; k < need; k++) this.nodeJob[this.allocNodes[at + k]] = j;
    this.allocLen += need;
    this.alloc[j] = t;
    this.run[j] = ready;
    this.end[j] = ready + this.runtime[j];
    if (this.end[j] > t) this.startedSince++;
    // insert into the running set, ordered by expected end
    const e = ready + this.limit[j];
    let lo = 0;
    let hi = this.runExpEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runExpEnd[mid] <= e) lo = mid + 1;
      else hi = mid;
    }
    this.running.splice(lo, 0, j);
    this.runExpEnd.splice(lo, 0, e);
    if (ready > t) this.schedule(ready, EV_RUN, j);
    else this.startRunning(j, t);
    this.schedule(this.end[j], EV_END, j);
    this.hooks.onJobStart?.(this, j, t);
  }

  private startRunning(j: number, t: number): void {
    this.allocator.run(this.allocNodes, this.allocAt[j], this.need[j], t);
  }

  private finish(j: number, t: number): void {
    // free the job's nodes, drop it from the running set
    const at = this.allocAt[j];
    const need = this.need[j];
    for (let k = 0; k < need; k++) this.nodeJob[this.allocNodes[at + k]] = -1;
    this.allocator.give(this.allocNodes, at, need, t);
    const idx = this.findRunning(j);
    this.running.splice(idx, 1);
    this.runExpEnd.splice(idx, 1);
    if (this.end[j] > this.alloc[j]) {
      this.endedSince++;
      this.ended.push(j);
    }
    this.done++;
    this.hooks.onJobEnd?.(this, j, t);
  }

  private findRunning(j: number): number {
    // binary search on expected end, then scan the ties
    const e = this.run[j] + this.limit[j];
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

  private easy?: EasyState;

  /** One EASY pass at time t: the rule in ./easy.ts. */
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
      freeCount: () => this.allocator.free,
      startJob: (j, at) => this.startJob(j, at),
      onBackfill: (j, time, head, shadow, extra) => {
        if (this.record) this.decisions.push({ time, job: j, head, shadow, extra });
        this.backfilled[j] = 1;
      },
    };
    this.easy.qLen = this.qLen;
    this.qLen = easyPass(this.easy, t);
  }

  /** Figures of the schedule so far (./outcome.ts). */
  stats(): SimStats {
    return scheduleStats(this);
  }

  /** The scheduled jobs as JobRecords, in submit order (./outcome.ts); `nodeNames` gives each a hostlist. */
  records(nodeNames?: readonly string[]): Generator<JobRecord> {
    return jobRecords(this, nodeNames);
  }
}

/** The simulator: the scheduler on a plain free list (nodes always up, so a job runs as soon as it is allocated). */
export class ClusterSim extends Scheduler<FreeList> {
  constructor(jobs: readonly SimJob[], opts: SimOptions) {
    super(jobs, new FreeList(opts.nodes), opts);
  }

  /** When each job started (NaN = never): its allocation, which is also when it runs. */
  get start(): Float64Array {
    return this.alloc;
  }

  /** NODE_IDLE / NODE_BUSY per node (./node-allocator.ts). */
  get nodeState(): Uint8Array {
    return this.allocator.state;
  }

  /** Process every instant <= t, then stop; `now` becomes t (live mode steps it minute by minute). */
  advanceTo(t: number): void {
    if (this.loop(t))
      throw new Error('ClusterSim: an onTick hook returned a promise; the simulator runs synchronously');
  }

  /** Run to completion (every submitted job has ended). */
  runAll(): void {
    this.advanceTo(Number.POSITIVE_INFINITY);
    this.progress?.(this.done);
  }
}

/** Schedule `jobs` (sorted by submit) on `opts.nodes` nodes and return the finished simulation. */
export function simulateCluster(jobs: readonly SimJob[], opts: SimOptions): ClusterSim {
  const sim = new ClusterSim(jobs, opts);
  sim.runAll();
  return sim;
}
