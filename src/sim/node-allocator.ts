/**
 * How the scheduler (./scheduler.ts) finds nodes for a job: the strategy seam between the one FCFS + EASY
 * scheduler and what a node is. The simulator uses the plain free list below (a node is idle or busy); the
 * power replay uses powered pools (src/power/powered-nodes.ts: off / booting / on / shutting down, boots
 * and shutdowns under rate limits, energy by draw class).
 *
 * A job's nodes are passed as a slice of one flat list: `list[at .. at + need)`.
 */
export interface NodeAllocator {
  /** Nodes not held by a job, whatever their power state: what EASY counts. */
  readonly free: number;
  /** Give `need` free nodes to a job at t, written to list[at ..); returns when all of them are up (>= t). */
  take(list: Int32Array, at: number, need: number, t: number): number;
  /** The job on list[at .. at + need) runs from t (all its nodes up). */
  run(list: Int32Array, at: number, need: number, t: number): void;
  /** The job on list[at .. at + need) ended at t: its nodes are free again. */
  give(list: Int32Array, at: number, need: number, t: number): void;
  /** Account the state up to instant t; called before the events of t are applied. */
  advance(t: number): void;
}

export const NODE_IDLE = 0;
export const NODE_BUSY = 1;

/** The simulator's nodes: always up, idle or busy; idle nodes on a stack, node 0 on top, last freed taken first. */
export class FreeList implements NodeAllocator {
  /** NODE_IDLE or NODE_BUSY per node. */
  readonly state: Uint8Array;
  private readonly stack: Int32Array;
  free: number;

  constructor(nodes: number) {
    this.state = new Uint8Array(nodes).fill(NODE_IDLE);
    this.stack = new Int32Array(nodes);
    // node 0 on top of the stack, so a lone job gets node 0
    for (let i = 0; i < nodes; i++) this.stack[i] = nodes - 1 - i;
    this.free = nodes;
  }

  take(list: Int32Array, at: number, need: number, t: number): number {
    for (let k = 0; k < need; k++) {
      const node = this.stack[--this.free];
      this.state[node] = NODE_BUSY;
      list[at + k] = node;
    }
    return t;
  }

  run(): void {}

  give(list: Int32Array, at: number, need: number): void {
    for (let k = 0; k < need; k++) {
      const node = list[at + k];
      this.state[node] = NODE_IDLE;
      this.stack[this.free++] = node;
    }
  }

  advance(): void {}
}
