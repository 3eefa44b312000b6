import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimJob } from '../../src/sim/job.js';
import { FreeList, NODE_BUSY, NODE_IDLE, type NodeAllocator } from '../../src/sim/node-allocator.js';
import { ClusterSim, Scheduler, type SimHooks } from '../../src/sim/scheduler.js';

function job(id: number, submit: number, nodes: number, runtime: number, limit: number): SimJob {
  return { id: String(id), submit, nodes, cpus: nodes, runtime, limit, user: null, partition: null };
}

/** Nodes that are up `delay` seconds after they are taken (a boot for every job); logs the calls. */
class SlowNodes implements NodeAllocator {
  private readonly inner: FreeList;
  readonly log: string[] = [];
  constructor(
    nodes: number,
    private readonly delay: number,
  ) {
    this.inner = new FreeList(nodes);
  }
  get free(): number {
    return this.inner.free;
  }
  take(list: Int32Array, at: number, need: number, t: number): number {
    this.inner.take(list, at, need, t);
    this.log.push(`take ${t} ${Array.from(list.subarray(at, at + need))}`);
    return t + this.delay;
  }
  run(list: Int32Array, at: number, need: number, t: number): void {
    this.log.push(`run ${t} ${Array.from(list.subarray(at, at + need))}`);
  }
  give(list: Int32Array, at: number, need: number, t: number): void {
    this.inner.give(list, at, need);
    this.log.push(`give ${t} ${Array.from(list.subarray(at, at + need))}`);
  }
  advance(): void {}
}

/** The scheduler on any strategy, run to the end. */
class TestSim<A extends NodeAllocator> extends Scheduler<A> {
  constructor(jobs: SimJob[], nodes: A, n: number, hooks?: SimHooks<TestSim<A>>) {
    super(jobs, nodes, { nodes: n, recordDecisions: true, hooks });
  }
  runAll(): void {
    assert.equal(this.loop(Number.POSITIVE_INFINITY), undefined);
  }
}

describe('scheduler: the node strategy seam', () => {
  it('the free list hands out node 0 first and the last freed node next', () => {
    const f = new FreeList(3);
    const list = new Int32Array(3);
    assert.equal(f.take(list, 0, 2, 5), 5);
    assert.deepEqual(Array.from(list.subarray(0, 2)), [0, 1]);
    assert.deepEqual(Array.from(f.state), [NODE_BUSY, NODE_BUSY, NODE_IDLE]);
    f.give(list, 0, 2);
    assert.equal(f.free, 3);
    f.take(list, 2, 1, 6);
    assert.equal(list[2], 1);
  });

  it('a job holds its nodes from allocation and runs when the strategy says they are up', () => {
    const nodes = new SlowNodes(2, 100);
    const sim = new TestSim([job(0, 0, 2, 300, 400)], nodes, 2);
    sim.runAll();
    assert.equal(sim.alloc[0], 0);
    assert.equal(sim.run[0], 100);
    assert.equal(sim.end[0], 400);
    assert.deepEqual(nodes.log, ['take 0 0,1', 'run 100 0,1', 'give 400 0,1']);
    assert.deepEqual(Array.from(sim.nodeJob), [-1, -1]);
    assert.deepEqual(sim.stats(), {
      rejected: 0,
      ran: 1,
      killed: 0,
      overran: 0,
      backfilled: 0,
      meanWait: 100,
      utilisation: (2 * 300) / (2 * 400),
      firstSubmit: 0,
      lastEnd: 400,
    });
  });

  it('EASY plans with run + limit: the reservation counts the boot wait', () => {
    // 3 nodes up 100 s after allocation. A (2 nodes, limit 1000) runs 100..; its expected end is 1100.
    // B (3 nodes) waits with shadow 1100. C (1 node, limit 1085) submitted at 10 ends by its limit at 1095 <=
    // 1100, so it is backfilled; planning with alloc + limit (1000) would have kept it waiting.
    const jobs = [job(0, 0, 2, 500, 1000), job(1, 10, 3, 10, 10), job(2, 10, 1, 50, 1085)];
    const sim = new TestSim(jobs, new SlowNodes(3, 100), 3);
    sim.runAll();
    assert.deepEqual(sim.decisions, [{ time: 10, job: 2, head: 1, shadow: 1100, extra: 0 }]);
    assert.equal(sim.alloc[2], 10);
    assert.equal(sim.run[2], 110);
    // B gets the cluster when both have ended (A at 600) and boots again
    assert.equal(sim.alloc[1], 600);
    assert.equal(sim.run[1], 700);
  });

  it('a layer can wake the loop between events and end the run while events remain', () => {
    const ticks: number[] = [];
    let wake = 0;
    const hooks: SimHooks<TestSim<FreeList>> = {
      onTick: (_s, t) => {
        ticks.push(t);
        if (t === wake) wake += 60;
      },
      nextWake: () => wake,
      over: (s) => s.allEnded && s.now >= 150,
    };
    const sim = new TestSim([job(0, 30, 1, 45, 60)], new FreeList(1), 1, hooks);
    // an event of the layer's own after the end: the run stops first
    sim.schedule(
      1000,
      sim.addEventKind(() => assert.fail('ran past the end')),
      0,
    );
    sim.runAll();
    // wakes at 0 and 60 and 120 and 180, events at 30 (submit) and 75 (end); over once ended and at 150+
    assert.deepEqual(ticks, [0, 30, 60, 75, 120, 180]);
    assert.equal(sim.end[0], 75);
    assert.equal(sim.finished, false);
  });

  it('the plain simulator refuses a hook that returns a promise', () => {
    const sim = new ClusterSim([job(0, 0, 1, 10, 10)], {
      nodes: 1,
      overrun: 'kill',
      hooks: { onTick: () => Promise.resolve() },
    });
    assert.throws(() => sim.runAll(), /runs synchronously/);
  });
});
