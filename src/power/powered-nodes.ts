import type { NodeAllocator } from '../sim/node-allocator.js';
import type { Scheduler } from '../sim/scheduler.js';
import { pickRuns } from './slurm-order.js';
import type { NodePowerModel, StateSeconds } from './watts.js';

/**
 * The power replay's nodes, a node strategy for the scheduler (src/sim/node-allocator.ts):
 *
 * - A node is off, booting, on, or shutting down; on nodes are idle or held by a job. Free nodes (not held)
 *   are what EASY counts, whatever their power state, so power control changes when jobs *run* (boot waits),
 *   never EASY's view of capacity.
 * - Allocation order, `recent` (the default): powered idle nodes first (most recently freed first), then
 *   booting nodes (the soonest ready first), then powered-down nodes, which the allocation boots (at most
 *   ResumeRate a minute), and last nodes still shutting down (Slurm holds them until they are off; then they
 *   boot for the job). `slurm`: the order measured on Slurm 22.05 (./slurm-order.ts): powered idle and booting
 *   nodes alike, by runs of consecutive ids, then powered-down nodes the same way, then shutting-down ones;
 *   policies' boots take the lowest-numbered powered-down nodes.
 *   A job runs once all its nodes are up: `take` returns max(boot done).
 * - A policy may boot free off nodes (`powerUp`) or power down idle ones (`powerDown`, at most SuspendRate a
 *   minute; a shutting-down node is unavailable for ShutdownSeconds, then off and free again).
 * - Energy is integrated over node-seconds per draw class within [window.start, window.end): off, booting,
 *   idle (powered and not running: idle, waiting for a job's other nodes, shutting down) and busy.
 */

const PW_OFF = 0;
const PW_BOOT = 1;
export const PW_ON = 2;
const PW_SHUT = 3;

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

export interface PoweredNodesOptions {
  nodes: number;
  model: NodePowerModel;
  /** Boots per minute at most (Slurm ResumeRate). */
  resumeRate: number;
  /** Shutdowns per minute at most (Slurm SuspendRate). */
  suspendRate: number;
  /** Energy and counts are taken over [start, end) (epoch s). */
  window: { start: number; end: number };
  /** Every node counts as idle since this instant at the start (the first submit). */
  idleFrom: number;
  /** Which free nodes a job gets: `recent` (default) or `slurm` (see above). */
  order?: AllocationOrder;
}

export type AllocationOrder = 'recent' | 'slurm';
export const ALLOCATION_ORDERS: readonly AllocationOrder[] = ['recent', 'slurm'];

export class PoweredNodes implements NodeAllocator {
  readonly nodes: number;
  private readonly model: NodePowerModel;
  private readonly window: { start: number; end: number };
  // per node
  readonly pw: Uint8Array;
  readonly bootDone: Float64Array;
  readonly idleSince: Float64Array;
  private readonly shutDone: Float64Array;
  /** 1 while the node's job runs. */
  private readonly busy: Uint8Array;
  private readonly drawCls: Uint8Array;
  private readonly drawCount = new Float64Array(4);
  private readonly idleBuf: Int32Array;
  private readonly sinceBuf: Float64Array;
  private readonly onPool: NodePool;
  private readonly bootPool: NodePool;
  private readonly offPool: NodePool;
  private readonly shutPool: NodePool;
  private readonly resume: RateLimit;
  private readonly suspend: RateLimit;
  private readonly slurmOrder: boolean;
  private readonly member: Uint8Array;
  private readonly picked: number[] = [];
  // the scheduler's event queue, for boots and shutdowns (attach)
  private sim?: Scheduler<PoweredNodes>;
  private evBootStart = -1;
  private evBooted = -1;
  private evShutDone = -1;
  // accounting
  readonly seconds: StateSeconds = { off: 0, boot: 0, idle: 0, busy: 0 };
  boots = 0;
  shutdowns = 0;
  private lastT = Number.NaN;

  constructor(o: PoweredNodesOptions) {
    const N = o.nodes;
    this.nodes = N;
    this.model = o.model;
    this.window = o.window;
    this.resume = new RateLimit(o.resumeRate);
    this.suspend = new RateLimit(o.suspendRate);
    this.slurmOrder = (o.order ?? 'recent') === 'slurm';
    this.member = new Uint8Array(N);
    this.pw = new Uint8Array(N).fill(PW_ON);
    this.bootDone = new Float64Array(N);
    this.idleSince = new Float64Array(N).fill(o.idleFrom);
    this.shutDone = new Float64Array(N);
    this.busy = new Uint8Array(N);
    this.drawCls = new Uint8Array(N).fill(D_IDLE);
    this.drawCount[D_IDLE] = N;
    this.idleBuf = new Int32Array(N);
    this.sinceBuf = new Float64Array(N);
    this.onPool = new NodePool(N);
    this.bootPool = new NodePool(N);
    this.offPool = new NodePool(N);
    this.shutPool = new NodePool(N);
    // node 0 on top, as in the plain free list
    for (let i = N - 1; i >= 0; i--) this.onPool.add(i);
  }

  /** Register the boot and shutdown event kinds with the scheduler these nodes belong to (once, before it runs). */
  attach(sim: Scheduler<PoweredNodes>): void {
    this.sim = sim;
    this.evBootStart = sim.addEventKind((_s, node, t) => this.beginBoot(node, t));
    this.evBooted = sim.addEventKind((_s, node, t) => this.booted(node, t));
    this.evShutDone = sim.addEventKind((_s, node, t) => this.shutDown(node, t));
  }

  private schedule(time: number, kind: number, node: number): void {
    if (!this.sim) throw new Error('PoweredNodes: attach() to a scheduler first');
    this.sim.schedule(time, kind, node);
  }

  // ---- counts (a policy's ClusterView) ----------------------------------------------------------------
  get free(): number {
    return this.onPool.n + this.bootPool.n + this.offPool.n + this.shutPool.n;
  }
  /** Powered, idle, free nodes. */
  get idle(): number {
    return this.onPool.n;
  }
  /** Free nodes that are booting. */
  get booting(): number {
    return this.bootPool.n;
  }
  /** Free powered-down nodes. */
  get off(): number {
    return this.offPool.n;
  }
  /** Free nodes shutting down. */
  get shutting(): number {
    return this.shutPool.n;
  }
  /** Nodes powered (not off): booting, on, shutting down. */
  get powered(): number {
    return this.nodes - this.drawCount[D_OFF];
  }
  /** The idle nodes (ids) with the time each became idle, in matching order; valid until the next action. */
  idleNodes(): { ids: Int32Array; since: Float64Array; n: number } {
    const n = this.onPool.n;
    const ids = this.idleBuf.subarray(0, n);
    ids.set(this.onPool.ids.subarray(0, n));
    const since = this.sinceBuf.subarray(0, n);
    for (let i = 0; i < n; i++) since[i] = this.idleSince[ids[i]];
    return { ids, since, n };
  }

  // ---- a policy's actions -----------------------------------------------------------------------------
  /** Boot up to `count` free off nodes at t; returns how many boots were started (or queued). */
  powerUp(count: number, t: number): number {
    let k = 0;
    while (k < count && this.offPool.n > 0) {
      const node = this.slurmOrder ? this.lowest(this.offPool) : this.offPool.pop();
      if (this.slurmOrder) this.offPool.remove(node);
      this.startBoot(node, t);
      this.bootPool.add(node);
      k++;
    }
    return k;
  }

  /** Power down one idle node at t; false when it is not idle or the suspend rate is used up. */
  powerDown(node: number, t: number): boolean {
    if (!this.onPool.has(node) || !this.suspend.tryTake(t)) return false;
    this.onPool.remove(node);
    this.shutPool.add(node);
    this.pw[node] = PW_SHUT;
    this.setDraw(node, D_IDLE);
    if (this.inWindow(t)) this.shutdowns++;
    this.shutDone[node] = t + this.model.shutdownS;
    this.schedule(this.shutDone[node], this.evShutDone, node);
    return true;
  }

  // ---- the scheduler's strategy -----------------------------------------------------------------------
  /** Allocate on nodes, then booting, then off (booted now), then shutting down; returns when all are up. */
  take(list: Int32Array, at: number, need: number, t: number): number {
    if (this.slurmOrder) return this.takeSlurm(list, at, need, t);
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
      } else node = this.takeShutting();
      if (this.pw[node] !== PW_ON && this.bootDone[node] > ready) ready = this.bootDone[node];
      list[at + k] = node;
    }
    return ready;
  }

  /** Slurm's order: powered idle and booting nodes by runs of ids, then powered-down ones, then shutting down. */
  private takeSlurm(list: Int32Array, at: number, need: number, t: number): number {
    const out = this.picked;
    out.length = 0;
    this.mark(this.onPool, this.bootPool);
    pickRuns(this.member, need, out);
    const powered = out.length;
    if (powered < need) {
      this.mark(this.offPool);
      pickRuns(this.member, need - powered, out);
    }
    let ready = t;
    for (let k = 0; k < need; k++) {
      let node: number;
      if (k < out.length) {
        node = out[k];
        if (this.onPool.has(node)) this.onPool.remove(node);
        else if (this.bootPool.has(node)) this.bootPool.remove(node);
        else {
          this.offPool.remove(node);
          this.startBoot(node, t);
        }
      } else node = this.takeShutting();
      if (this.pw[node] !== PW_ON && this.bootDone[node] > ready) ready = this.bootDone[node];
      list[at + k] = node;
    }
    return ready;
  }

  /** A node still shutting down: off at its shutdown end, then booted (worst case without rate limits). */
  private takeShutting(): number {
    const node = this.shutPool.pop();
    this.bootDone[node] = this.shutDone[node] + this.model.bootS;
    return node;
  }

  /** Set `member` to the nodes of the given pools. */
  private mark(...pools: NodePool[]): void {
    this.member.fill(0);
    for (const p of pools) for (let i = 0; i < p.n; i++) this.member[p.ids[i]] = 1;
  }

  private lowest(pool: NodePool): number {
    let best = pool.ids[0];
    for (let i = 1; i < pool.n; i++) if (pool.ids[i] < best) best = pool.ids[i];
    return best;
  }

  run(list: Int32Array, at: number, need: number): void {
    for (let k = 0; k < need; k++) {
      const node = list[at + k];
      this.busy[node] = 1;
      this.refresh(node);
    }
  }

  give(list: Int32Array, at: number, need: number, t: number): void {
    for (let k = 0; k < need; k++) {
      const node = list[at + k];
      this.busy[node] = 0;
      this.onPool.add(node);
      this.idleSince[node] = t;
      this.refresh(node);
    }
  }

  /** Integrate node-seconds per draw class from the last instant to t (clipped to the window). */
  advance(t: number): void {
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

  // ---- internals ----------------------------------------------------------------------------------------
  private inWindow(t: number): boolean {
    return t >= this.window.start && t < this.window.end;
  }

  private setDraw(node: number, cls: number): void {
    this.drawCount[this.drawCls[node]]--;
    this.drawCls[node] = cls;
    this.drawCount[cls]++;
  }

  /** Draw class a node should have now, from its power state and whether its job runs. */
  private refresh(node: number): void {
    const p = this.pw[node];
    const cls =
      p === PW_OFF
        ? D_OFF
        : p === PW_BOOT
          ? D_BOOT
          : p === PW_SHUT
            ? D_IDLE
            : this.busy[node]
              ? D_BUSY
              : D_IDLE;
    if (cls !== this.drawCls[node]) this.setDraw(node, cls);
  }

  /** Begin (or queue, under ResumeRate) the boot of an off node; sets bootDone. */
  private startBoot(node: number, t: number): void {
    const at = this.resume.takeQueued(t);
    this.bootDone[node] = at + this.model.bootS;
    if (this.inWindow(at)) this.boots++;
    if (at > t) this.schedule(at, this.evBootStart, node);
    else this.beginBoot(node, t);
  }

  private beginBoot(node: number, t: number): void {
    this.pw[node] = PW_BOOT;
    this.refresh(node);
    this.schedule(t + this.model.bootS, this.evBooted, node);
  }

  private booted(node: number, t: number): void {
    this.pw[node] = PW_ON;
    // a free booting node joins the idle ones; a node whose zero-length job ended at this very instant is
    // already among them (give), and one still held waits for its job's other nodes
    if (this.bootPool.has(node)) {
      this.bootPool.remove(node);
      this.onPool.add(node);
      this.idleSince[node] = t;
    }
    this.refresh(node);
  }

  private shutDown(node: number, t: number): void {
    this.pw[node] = PW_OFF;
    if (this.shutPool.has(node)) {
      this.shutPool.remove(node);
      this.offPool.add(node);
    } else {
      // allocated while shutting down: boot for its job now (its run was planned with shutdown + boot)
      if (this.inWindow(t)) this.boots++;
      this.beginBoot(node, t);
    }
    this.refresh(node);
  }
}
