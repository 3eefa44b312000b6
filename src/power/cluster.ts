import type { SimJob } from '../sim/job.js';
import { Scheduler, type SimHooks } from '../sim/scheduler.js';
import type { ClusterView, JobEvent, PowerActions, PowerPolicy } from './policy.js';
import { type AllocationOrder, PoweredNodes } from './powered-nodes.js';
import type { NodePowerModel, StateSeconds } from './watts.js';

/**
 * The power replay: the one scheduler (src/sim/scheduler.ts, FCFS + EASY) on powered nodes
 * (./powered-nodes.ts: off / booting / on / shutting down, boot waits, rate limits, energy), plus the policy:
 *
 * - A policy runs every `policy.intervalS` seconds (ticks aligned to epoch multiples), after the instant's
 *   events and scheduling pass, and may boot free off nodes or power down idle ones (`PowerActions`); it sees
 *   the cluster through `ClusterView` and is told of each submission and end as it happens (`observe`).
 * - Optionally a `minuteHook` runs at every minute boundary right after the events of that instant (before
 *   the policy), for the live timeline row (./live.ts); it may return a promise (an async forecaster).
 * - The run goes on until every job has ended and the energy window is over.
 */

export interface PowerSimOptions {
  nodes: number;
  model: NodePowerModel;
  policy: PowerPolicy;
  /** Boots per minute at most (Slurm ResumeRate); default 300. */
  resumeRate?: number;
  /** Shutdowns per minute at most (Slurm SuspendRate); default 60. */
  suspendRate?: number;
  /** EASY backfilling (default true). */
  backfill?: boolean;
  /** Which free nodes a job gets (./powered-nodes.ts): `recent` (default) or `slurm`. */
  order?: AllocationOrder;
  /** Energy and counts are taken over [start, end) (epoch s); default the whole run. */
  window?: { start: number; end: number };
  /**
   * The cluster's start (epoch s): every node powered and idle from here, policy ticks and minute hooks from
   * here on (a live trial's Slurm starts before its first job); default, and at the latest, the first submit.
   */
  from?: number;
  /** Called at every minute boundary (epoch multiple of 60) from the first submit on, after that instant's events. */
  minuteHook?: (sim: PowerSim, t: number) => void | Promise<void>;
  /** Record powered and allocated nodes at each minute boundary in [start, end) (for plots). */
  traceWindow?: { start: number; end: number };
  /** Called with the number of ended jobs every so often (progress bars). */
  onProgress?: (doneJobs: number) => void;
}

export class PowerSim extends Scheduler<PoweredNodes> implements ClusterView, PowerActions {
  readonly model: NodePowerModel;
  readonly policy: PowerPolicy;
  /** User id per job, interned in job order (-1 = unknown). */
  readonly user: Int32Array;
  private readonly window: { start: number; end: number };
  private readonly minuteHook?: (sim: PowerSim, t: number) => void | Promise<void>;
  private readonly traceWindow?: { start: number; end: number };
  private nextTick = Number.POSITIVE_INFINITY;
  private nextMin = Number.POSITIVE_INFINITY;
  private readonly from: number;
  /** Powered (not off) and allocated node counts at each minute boundary, for plots. */
  readonly trace: { t: number[]; powered: number[]; busy: number[] } = { t: [], powered: [], busy: [] };

  /** The layer on the scheduler: policy events, minute rows and policy ticks, and when the run is over. */
  private static readonly hooks: SimHooks<PowerSim> = {
    onSubmit: (s, j, t) => s.tell('submit', j, t),
    onJobEnd: (s, j, t) => s.tell('end', j, t),
    onTick: (s, t) => s.tick(t),
    nextWake: (s) => Math.min(s.nextTick, s.nextMin),
    over: (s) =>
      s.allEnded && s.now >= (Number.isFinite(s.window.end) ? s.window.end : Number.NEGATIVE_INFINITY),
  };

  constructor(jobs: readonly SimJob[], opts: PowerSimOptions) {
    const window = opts.window ?? { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY };
    let first = opts.from ?? Number.POSITIVE_INFINITY;
    for (const j of jobs) first = Math.min(first, j.submit);
    const nodes = new PoweredNodes({
      nodes: opts.nodes,
      model: opts.model,
      resumeRate: opts.resumeRate ?? 300,
      suspendRate: opts.suspendRate ?? 60,
      window,
      idleFrom: Number.isFinite(first) ? first : 0,
      order: opts.order,
    });
    super(jobs, nodes, {
      nodes: opts.nodes,
      backfill: opts.backfill,
      onProgress: opts.onProgress,
      hooks: PowerSim.hooks,
    });
    nodes.attach(this);
    this.model = opts.model;
    this.policy = opts.policy;
    this.window = window;
    this.minuteHook = opts.minuteHook;
    this.traceWindow = opts.traceWindow;
    this.from = opts.from ?? Number.POSITIVE_INFINITY;
    this.user = new Int32Array(jobs.length);
    const users = new Map<string, number>();
    for (let i = 0; i < jobs.length; i++) {
      const u = jobs[i].user;
      if (u === null) this.user[i] = -1;
      else {
        const id = users.get(u) ?? users.size;
        if (id === users.size) users.set(u, id);
        this.user[i] = id;
      }
    }
  }

  // ---- ClusterView ----------------------------------------------------------------------------------
  get capacity(): number {
    return this.nodes;
  }
  get busy(): number {
    return this.nodes - this.allocator.free;
  }
  get idle(): number {
    return this.allocator.idle;
  }
  get booting(): number {
    return this.allocator.booting;
  }
  get off(): number {
    return this.allocator.off;
  }
  get shutting(): number {
    return this.allocator.shutting;
  }
  get queuedNodes(): number {
    let s = 0;
    for (let k = 0; k < this.qLen; k++) s += this.need[this.queue[k]];
    return s;
  }
  idleNodes(): { ids: Int32Array; since: Float64Array; n: number } {
    return this.allocator.idleNodes();
  }
  /** Nodes powered (not off): booting, on, shutting down. */
  get powered(): number {
    return this.allocator.powered;
  }

  // ---- PowerActions ---------------------------------------------------------------------------------
  powerUp(count: number): number {
    return this.allocator.powerUp(count, this.now);
  }
  powerDown(node: number): boolean {
    return this.allocator.powerDown(node, this.now);
  }

  // ---- power figures (over the energy window) ------------------------------------------------------
  /** Node-seconds per draw class. */
  get seconds(): StateSeconds {
    return this.allocator.seconds;
  }
  /** Boots started in the window. */
  get boots(): number {
    return this.allocator.boots;
  }
  /** Shutdowns started in the window. */
  get shutdowns(): number {
    return this.allocator.shutdowns;
  }
  /** Power state per node (PW_OFF / PW_BOOT / PW_ON / PW_SHUT, ./powered-nodes.ts). */
  get pw(): Uint8Array {
    return this.allocator.pw;
  }

  /** Run until every accepted job has ended and the energy window is over. */
  async runAll(): Promise<this> {
    this.begin();
    const first = Math.min(this.events.peekTime(), this.from);
    if (!Number.isFinite(first)) return this;
    const iv = this.policy.intervalS;
    this.nextTick = Math.ceil(first / iv) * iv;
    this.nextMin = Math.ceil(first / 60) * 60;
    // the scheduler's loop pauses at an instant whose minute hook returned a promise
    for (let r = this.loop(Number.POSITIVE_INFINITY); r; r = this.loop(Number.POSITIVE_INFINITY)) await r;
    this.allocator.advance(Math.max(this.now, Number.isFinite(this.window.end) ? this.window.end : this.now));
    return this;
  }

  /** At every instant after its events and scheduling pass: the minute row, then the policy. */
  private tick(t: number): void | Promise<void> {
    if (t === this.nextMin) {
      const r = this.minuteHook?.(this, t);
      if (r instanceof Promise) return r.then(() => this.afterMinute(t));
      this.afterMinute(t);
      return;
    }
    this.decide(t);
  }

  private afterMinute(t: number): void {
    const tw = this.traceWindow;
    if (tw && t >= tw.start && t < tw.end) {
      this.trace.t.push(t);
      this.trace.powered.push(this.powered);
      this.trace.busy.push(this.busy);
    }
    this.nextMin += 60;
    this.decide(t);
  }

  private decide(t: number): void {
    if (t !== this.nextTick) return;
    this.policy.decide(this, this);
    this.nextTick += this.policy.intervalS;
  }

  /** Deliver a job event to a policy that observes them (at the event's instant: nothing from the future). */
  private tell(kind: JobEvent['kind'], j: number, t: number): void {
    this.policy.observe?.({ kind, t, user: this.user[j], nodes: this.need[j], job: j });
  }
}
