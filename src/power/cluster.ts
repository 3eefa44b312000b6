import { type EasyState, easyPass } from '../sim/easy.js';
import { EventQueue } from '../sim/events.js';
import type { SimJob } from '../sim/job.js';
import type { ClusterState } from '../timeline/state.js';
import type { NodePowerModel, StateSeconds } from './model.js';
import type { ClusterView, JobEvent, PowerActions, PowerPolicy } from './policy.js';

/**
 * The simulator's FCFS + EASY-backfilling scheduler (same rules as src/sim/scheduler.ts `ClusterSim`, which a
 * test checks start for start) extended with node power states, so that boot delays are simulated:
 *
 * - A node is off, booting, on, or shutting down; on nodes are idle or allocated to a job. Free nodes (not
 *   allocated) are what EASY counts, whatever their power state, so power control changes when jobs *run*
 *   (boot waits), never EASY's view of capacity.
 * - Allocation order (Slurm): powered idle nodes first (most recently freed first), then booting nodes (the
 *   soonest ready first), then powered-down nodes, which the allocation boots (at most ResumeRate a minute),
 *   and last nodes still shutting down (Slurm holds them until they are off; then they boot for the job).
 *   The job holds its nodes from allocation and runs once all of them are up: run = max(boot done), and it
 *   ends `runtime` later. EASY plans with run + limit.
 * - A policy runs every `policy.intervalS` seconds (ticks aligned to epoch multiples), after the instant's
 *   events and scheduling pass, and may boot free off nodes or power down idle ones (at most SuspendRate a
 *   minute; a shutting-down node is unavailable for ShutdownSeconds, then off and free again).
 * - Energy is integrated over node-seconds per draw state within [window.start, window.end): off, booting,
 *   idle (powered and not running: idle, waiting for a job's other nodes, shutting down) and busy.
 * - Optionally a `minuteHook` runs at every minute boundary right after the events of that instant (before
 *   the policy), for the live timeline row (./live.ts).
 */

export const PW_OFF = 0;
export const PW_BOOT = 1;
export const PW_ON = 2;
export const PW_SHUT = 3;

const EV_SUBMIT = 0;
const EV_RUN = 1;
const EV_END = 2;
const EV_BOOT_START = 3;
const EV_BOOTED = 4;
const EV_SHUT_DONE = 5;

// draw classes for energy
const D_OFF = 0;
const D_BOOT = 1;
const D_IDLE = 2;
const D_BUSY = 3;

/** A set of node ids with O(1) add / remove / pop (pop = most recently added). */
class NodePool {
  readonly ids: Int32Array;
  private readonly pos: Int32Array;
  n = 0;
  constructor(nodes: number) {
    this.ids = new Int32Array(nodes);
    this.pos = new Int32Array(nodes).fill(-1);
  }
  add(node: number): void {
    this.pos[node] = this.n;
    this.ids[this.n++] = node;
  }
  has(node: number): boolean {
    return this.pos[node] >= 0;
  }
  remove(node: number): void {
    // move the last member into the hole
    const p = this.pos[node];
    const last = this.ids[--this.n];
    this.ids[p] = last;
    this.pos[last] = p;
    this.pos[node] = -1;
  }
  pop(): number {
    const node = this.ids[this.n - 1];
    this.remove(node);
    return node;
  }
}

/** Slurm-style rate limit: `perMin` actions a minute, bursts up to `perMin` (a token bucket). */
export class RateLimit {
  private tokens: number;
  private last = Number.NaN;
  constructor(readonly perMin: number) {
    this.tokens = perMin;
  }
  private refill(t: number): void {
    if (Number.isNaN(this.last)) this.last = t;
    else if (t > this.last) {
      this.tokens = Math.min(this.perMin, this.tokens + ((t - this.last) * this.perMin) / 60);
      this.last = t;
    }
  }
  /** Take a token now or queue for the next one; returns when the action happens. */
  takeQueued(t: number): number {
    this.refill(t);
    const base = Math.max(t, this.last);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return base;
    }
    // wait for the next whole token
    const at = base + ((1 - this.tokens) * 60) / this.perMin;
    this.tokens = 0;
    this.last = at;
    return at;
  }
  /** Take a token only if one is free now. */
  tryTake(t: number): boolean {
    this.refill(t);
    if (this.last > t || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

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
  /** Energy and counts are taken over [start, end) (epoch s); default the whole run. */
  window?: { start: number; end: number };
  /** Called at every minute boundary (epoch multiple of 60) from the first submit on, after that instant's events. */
  minuteHook?: (sim: PowerSim, t: number) => void | Promise<void>;
  /** Record powered and allocated nodes at each minute boundary in [start, end) (for plots). */
  traceWindow?: { start: number; end: number };
  /** Called with the number of ended jobs every so often (progress bars). */
  onProgress?: (doneJobs: number) => void;
}

/** Power figures of one run, over the energy window. */
export interface PowerRunStats {
  /** Node-seconds per draw state. */
  seconds: StateSeconds;
  /** Boots started in the window. */
  boots: number;
  /** Shutdowns started in the window. */
  shutdowns: number;
}

export class PowerSim implements ClusterView, PowerActions, ClusterState {
  readonly capacity: number;
  readonly model: NodePowerModel;
  readonly policy: PowerPolicy;
  readonly n: number;
  // per job
  readonly submit: Float64Array;
  readonly need: Int32Array;
  readonly cpus: Float64Array;
  readonly runtime: Float64Array;
  readonly limit: Float64Array;
  /** User id per job, interned in job order (-1 = unknown). */
  readonly user: Int32Array;
  /** When the job got its nodes (NaN = never). */
  readonly alloc: Float64Array;
  /** When it started running (all its nodes up). */
  readonly run: Float64Array;
  readonly end: Float64Array;
  private readonly allocAt: Int32Array;
  private readonly allocNodes: Int32Array;
  private allocLen = 0;
  private readonly running8: Uint8Array;
  // per node
  readonly pw: Uint8Array;
  readonly nodeJob: Int32Array;
  readonly bootDone: Float64Array;
  private readonly shutDone: Float64Array;
  private readonly idleBuf: Int32Array;
  private readonly sinceBuf: Float64Array;
  readonly idleSince: Float64Array;
  private readonly drawCls: Uint8Array;
  private readonly drawCount = new Float64Array(4);
  private readonly onPool: NodePool;
  private readonly bootPool: NodePool;
  private readonly offPool: NodePool;
  private readonly shutPool: NodePool;
  // queue and running set (by expected end = run + limit)
  readonly queue: Int32Array;
  qLen = 0;
  readonly running: number[] = [];
  private readonly runExpEnd: number[] = [];
  private readonly events = new EventQueue(4096);
  private readonly resume: RateLimit;
  private readonly suspend: RateLimit;
  private readonly backfill: boolean;
  private readonly window: { start: number; end: number };
  private readonly minuteHook?: (sim: PowerSim, t: number) => void | Promise<void>;
  private readonly traceWindow?: { start: number; end: number };
  private readonly progress?: (doneJobs: number) => void;
  // accounting
  readonly seconds: StateSeconds = { off: 0, boot: 0, idle: 0, busy: 0 };
  boots = 0;
  shutdowns = 0;
  private lastT = Number.NaN;
  /** Flow counters since the last minute row (reset by the live recorder). */
  submittedSince = 0;
  startedSince = 0;
  endedSince = 0;
  private accepted = 0;
  private done = 0;
  now = 0;
  /** Powered (not off) and allocated node counts at each minute boundary, for plots. */
  readonly trace: { t: number[]; powered: number[]; busy: number[] } = { t: [], powered: [], busy: [] };

  constructor(jobs: readonly SimJob[], opts: PowerSimOptions) {
    this.capacity = opts.nodes;
    this.model = opts.model;
    this.policy = opts.policy;
    this.backfill = opts.backfill ?? true;
    this.resume = new RateLimit(opts.resumeRate ?? 300);
    this.suspend = new RateLimit(opts.suspendRate ?? 60);
    this.minuteHook = opts.minuteHook;
    this.traceWindow = opts.traceWindow;
    this.progress = opts.onProgress;
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
    this.allocAt = new Int32Array(n).fill(-1);
    this.running8 = new Uint8Array(n);
    this.user = new Int32Array(n);
    const users = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < n; i++) {
      const j = jobs[i];
      if (j.user === null) this.user[i] = -1;
      else {
        const u = users.get(j.user) ?? users.size;
        if (u === users.size) users.set(j.user, u);
        this.user[i] = u;
      }
      this.submit[i] = j.submit;
      this.need[i] = j.nodes;
      this.cpus[i] = j.cpus;
      this.runtime[i] = j.runtime;
      this.limit[i] = j.limit;
      if (j.nodes >= 1 && j.nodes <= opts.nodes) total += j.nodes;
    }
    this.allocNodes = new Int32Array(total);
    const N = opts.nodes;
    this.pw = new Uint8Array(N).fill(PW_ON);
    this.nodeJob = new Int32Array(N).fill(-1);
    this.bootDone = new Float64Array(N);
    this.shutDone = new Float64Array(N);
    this.idleBuf = new Int32Array(N);
    this.sinceBuf = new Float64Array(N);
    this.idleSince = new Float64Array(N);
    this.drawCls = new Uint8Array(N).fill(D_IDLE);
    this.drawCount[D_IDLE] = N;
    this.onPool = new NodePool(N);
    this.bootPool = new NodePool(N);
    this.offPool = new NodePool(N);
    this.shutPool = new NodePool(N);
    // node 0 on top, as in ClusterSim
    for (let i = N - 1; i >= 0; i--) this.onPool.add(i);
    this.queue = new Int32Array(Math.max(16, n));
    let first = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) first = Math.min(first, this.submit[i]);
    this.idleSince.fill(Number.isFinite(first) ? first : 0);
    this.window = opts.window ?? { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY };
  }

  // ---- ClusterView ----------------------------------------------------------------------------------
  get busy(): number {
    return this.capacity - this.freeCount;
  }
  get idle(): number {
    return this.onPool.n;
  }
  get booting(): number {
    return this.bootPool.n;
  }
  get off(): number {
    return this.offPool.n;
  }
  get shutting(): number {
    return this.shutPool.n;
  }
  get queuedNodes(): number {
    let s = 0;
    for (let k = 0; k < this.qLen; k++) s += this.need[this.queue[k]];
    return s;
  }
  idleNodes(): { ids: Int32Array; since: Float64Array; n: number } {
    const n = this.onPool.n;
    const ids = this.idleBuf.subarray(0, n);
    ids.set(this.onPool.ids.subarray(0, n));
    const since = this.sinceBuf.subarray(0, n);
    for (let i = 0; i < n; i++) since[i] = this.idleSince[ids[i]];
    return { ids, since, n };
  }
  /** Nodes powered (not off): booting, on, shutting down. */
  get powered(): number {
    return this.capacity - this.drawCount[D_OFF];
  }

  // ---- PowerActions ---------------------------------------------------------------------------------
  powerUp(count: number): number {
    let k = 0;
    while (k < count && this.offPool.n > 0) {
      const node = this.offPool.pop();
      this.startBoot(node, this.now);
      this.bootPool.add(node);
      k++;
    }
    return k;
  }

  powerDown(node: number): boolean {
    if (!this.onPool.has(node) || !this.suspend.tryTake(this.now)) return false;
    this.onPool.remove(node);
    this.shutPool.add(node);
    this.pw[node] = PW_SHUT;
    this.setDraw(node, D_IDLE);
    if (this.inWindow(this.now)) this.shutdowns++;
    this.shutDone[node] = this.now + this.model.shutdownS;
    this.events.push(this.shutDone[node], EV_SHUT_DONE, node);
    return true;
  }

  // ---- internals ------------------------------------------------------------------------------------
  private inWindow(t: number): boolean {
    return t >= this.window.start && t < this.window.end;
  }

  private setDraw(node: number, cls: number): void {
    this.drawCount[this.drawCls[node]]--;
    this.drawCls[node] = cls;
    this.drawCount[cls]++;
  }

  /** Draw class a node should have now, from its power state and its job. */
  private refresh(node: number): void {
    const p = this.pw[node];
    const j = this.nodeJob[node];
    const cls =
      p === PW_OFF
        ? D_OFF
        : p === PW_BOOT
          ? D_BOOT
          : p === PW_SHUT
            ? D_IDLE
            : j >= 0 && this.running8[j]
              ? D_BUSY
              : D_IDLE;
    if (cls !== this.drawCls[node]) this.setDraw(node, cls);
  }

  /** Begin (or queue, under ResumeRate) the boot of an off node; sets bootDone. */
  private startBoot(node: number, t: number): void {
    const at = this.resume.takeQueued(t);
    this.bootDone[node] = at + this.model.bootS;
    if (this.inWindow(at)) this.boots++;
    if (at > t) this.events.push(at, EV_BOOT_START, node);
    else this.beginBoot(node, t);
  }

  private beginBoot(node: number, t: number): void {
    this.pw[node] = PW_BOOT;
    this.refresh(node);
    this.events.push(t + this.model.bootS, EV_BOOTED, node);
  }

  /** Integrate node-seconds per draw state from the last instant to t (clipped to the window). */
  private advance(t: number): void {
    if (!Number.isNaN(this.lastT)) {
      const a = Math.max(this.lastT, this.window.start);
      const b = Math.min(t, this.window.end);
      if (b > a) {
        const dt = b - a;
        const c = this.drawCount;
        this.seconds.off += c[D_OFF] * dt;
        this.seconds.boot += c[D_BOOT] * dt;
        this.seconds.idle += c[D_IDLE] * dt;
        this.seconds.busy += c[D_BUSY] * dt;
      }
    }
    this.lastT = t;
  }

  private handle(kind: number, arg: number, t: number): void {
    switch (kind) {
      case EV_SUBMIT:
        this.queue[this.qLen++] = arg;
        this.submittedSince++;
        this.tell('submit', arg, t);
        break;
      case EV_RUN:
        this.startRunning(arg);
        break;
      case EV_END:
        this.finish(arg, t);
        break;
      case EV_BOOT_START:
        this.beginBoot(arg, t);
        break;
      case EV_BOOTED: {
        this.pw[arg] = PW_ON;
        if (this.nodeJob[arg] < 0) {
          this.bootPool.remove(arg);
          this.onPool.add(arg);
          this.idleSince[arg] = t;
        }
        this.refresh(arg);
        break;
      }
      case EV_SHUT_DONE:
        this.pw[arg] = PW_OFF;
        if (this.nodeJob[arg] < 0) {
          this.shutPool.remove(arg);
          this.offPool.add(arg);
        } else {
          // allocated while shutting down: boot for its job now (its run was planned with shutdown + boot)
          if (this.inWindow(t)) this.boots++;
          this.beginBoot(arg, t);
        }
        this.refresh(arg);
        break;
    }
  }

  private startRunning(j: number): void {
    this.running8[j] = 1;
    const at = this.allocAt[j];
    for (let k = 0; k < this.need[j]; k++) this.refresh(this.allocNodes[at + k]);
  }

  private finish(j: number, t: number): void {
    const at = this.allocAt[j];
    this.running8[j] = 0;
    for (let k = 0; k < this.need[j]; k++) {
      const node = this.allocNodes[at + k];
      this.nodeJob[node] = -1;
      this.onPool.add(node);
      this.idleSince[node] = t;
      this.refresh(node);
    }
    const idx = this.findRunning(j);
    this.running.splice(idx, 1);
    this.runExpEnd.splice(idx, 1);
    if (this.end[j] > this.alloc[j]) this.endedSince++;
    this.done++;
    this.tell('end', j, t);
  }

  /** Deliver a job event to a policy that observes them (at the event's instant: nothing from the future). */
  private tell(kind: JobEvent['kind'], j: number, t: number): void {
    this.policy.observe?.({ kind, t, user: this.user[j], nodes: this.need[j] });
  }

  private findRunning(j: number): number {
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

  private get freeCount(): number {
    return this.onPool.n + this.bootPool.n + this.offPool.n + this.shutPool.n;
  }

  /** Allocate nodes (on, then booting, then off) and plan the run. */
  private startJob(j: number, t: number): void {
    const need = this.need[j];
    const at = this.allocLen;
    this.allocAt[j] = at;
    let ready = t;
    for (let k = 0; k < need; k++) {
      let node: number;
      if (this.onPool.n > 0) node = this.onPool.pop();
      else if (this.bootPool.n > 0) {
        // the booting node that is up soonest
        let best = 0;
        for (let i = 1; i < this.bootPool.n; i++) {
          if (this.bootDone[this.bootPool.ids[i]] < this.bootDone[this.bootPool.ids[best]]) best = i;
        }
        node = this.bootPool.ids[best];
        this.bootPool.remove(node);
      } else if (this.offPool.n > 0) {
        node = this.offPool.pop();
        this.startBoot(node, t);
      } else {
        // still shutting down: off at its shutdown end, then booted (worst case without rate limits)
        node = this.shutPool.pop();
        this.bootDone[node] = this.shutDone[node] + this.model.bootS;
      }
      if (this.pw[node] !== PW_ON && this.bootDone[node] > ready) ready = this.bootDone[node];
      this.nodeJob[node] = j;
      this.allocNodes[at + k] = node;
    }
    this.allocLen += need;
    this.alloc[j] = t;
    this.run[j] = ready;
    this.end[j] = ready + this.runtime[j];
    if (this.end[j] > t) this.startedSince++;
    // running set ordered by expected end
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
    if (ready > t) this.events.push(ready, EV_RUN, j);
    else this.startRunning(j);
    this.events.push(this.end[j], EV_END, j);
  }

  private easy?: EasyState;

  /** One EASY pass at time t: the rule in ../sim/easy.ts, shared by ClusterSim and PowerSim. */
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
    };
    this.easy.qLen = this.qLen;
    this.qLen = easyPass(this.easy, t);
  }

  /** Run until every accepted job has ended and the energy window is over. */
  async runAll(): Promise<this> {
    for (let i = 0; i < this.n; i++) {
      if (this.need[i] >= 1 && this.need[i] <= this.capacity) {
        this.events.push(this.submit[i], EV_SUBMIT, i);
        this.accepted++;
      }
    }
    const ev = { time: 0, kind: 0, arg: 0 };
    const iv = this.policy.intervalS;
    const first = this.events.peekTime();
    if (!Number.isFinite(first)) return this;
    let nextTick = Math.ceil(first / iv) * iv;
    let nextMin = Math.ceil(first / 60) * 60;
    const stopAfter = Number.isFinite(this.window.end) ? this.window.end : Number.NEGATIVE_INFINITY;
    let lastReport = 0;
    for (;;) {
      const te = this.events.peekTime();
      if (this.done === this.accepted && this.now >= stopAfter) break;
      const t = Math.min(te, nextTick, nextMin);
      this.advance(t);
      this.now = t;
      let any = false;
      while (this.events.size > 0 && this.events.peekTime() === t) {
        this.events.pop(ev);
        this.handle(ev.kind, ev.arg, t);
        any = true;
      }
      if (any) this.schedulePass(t);
      if (t === nextMin) {
        const r = this.minuteHook?.(this, t);
        if (r) await r;
        const tw = this.traceWindow;
        if (tw && t >= tw.start && t < tw.end) {
          this.trace.t.push(t);
          this.trace.powered.push(this.powered);
          this.trace.busy.push(this.busy);
        }
        nextMin += 60;
      }
      if (t === nextTick) {
        this.policy.decide(this, this);
        nextTick += iv;
      }
      if (this.progress && this.done - lastReport >= 4096) {
        lastReport = this.done;
        this.progress(this.done);
      }
    }
    this.advance(Math.max(this.now, Number.isFinite(this.window.end) ? this.window.end : this.now));
    return this;
  }

  stats(): PowerRunStats {
    return { seconds: { ...this.seconds }, boots: this.boots, shutdowns: this.shutdowns };
  }
}
