import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimJob } from '../../src/sim/job.js';
import { NODE_BUSY } from '../../src/sim/node-allocator.js';
import { type ClusterSim, type Overrun, simulateCluster } from '../../src/sim/scheduler.js';
import { Rng } from '../../src/util/rng.js';

function job(id: number, submit: number, nodes: number, runtime: number, limit: number): SimJob {
  return { id: String(id), submit, nodes, cpus: nodes, runtime, limit, user: null, partition: null };
}

/** A random workload that keeps the queue busy: mixed sizes, limits over-estimating, some overruns. */
function randomJobs(seed: number, n: number, nodes: number): SimJob[] {
  const r = new Rng(seed);
  const jobs: SimJob[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(r.exponential(1 / 60));
    const size = r.bernoulli(0.3) ? 1 : 1 + r.int(r.bernoulli(0.1) ? nodes : Math.ceil(nodes / 4));
    const runtime = 1 + Math.floor(r.lognormal(Math.log(600), 1.2));
    const limit = r.bernoulli(0.1)
      ? Math.max(1, Math.floor(runtime * 0.7))
      : Math.ceil(runtime * (1 + 3 * r.uniform()));
    jobs.push(job(i, t, size, runtime, limit));
  }
  return jobs;
}

/** Earliest time `need` nodes are free if every job in `running` ends at max(start + limit, t). */
function earliestFit(sim: ClusterSim, need: number, running: number[], t: number): number {
  let free = sim.nodes - running.reduce((s, j) => s + sim.need[j], 0);
  if (free >= need) return t;
  const ends = running
    .map((j) => [Math.max(sim.start[j] + sim.limit[j], t), sim.need[j]])
    .sort((a, b) => a[0] - b[0]);
  for (const [e, k] of ends) {
    free += k;
    if (free >= need) return e;
  }
  return Number.POSITIVE_INFINITY;
}

function runningAt(sim: ClusterSim, t: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < sim.n; j++) if (sim.start[j] <= t && sim.end[j] > t) out.push(j);
  return out;
}

function checkInvariants(sim: ClusterSim, overrun: Overrun): void {
  // every job ran, never before its submit, for its (possibly cut) run time
  for (let j = 0; j < sim.n; j++) {
    assert.ok(sim.start[j] >= sim.submit[j], `job ${j} starts before its submit`);
    const want = overrun === 'kill' ? Math.min(sim.jobs[j].runtime, sim.limit[j]) : sim.jobs[j].runtime;
    assert.equal(sim.end[j] - sim.start[j], want);
  }
  // busy nodes never exceed the cluster (sweep over the output intervals)
  const ev: Array<[number, number]> = [];
  for (let j = 0; j < sim.n; j++) ev.push([sim.start[j], sim.need[j]], [sim.end[j], -sim.need[j]]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let busy = 0;
  for (const [, d] of ev) {
    busy += d;
    assert.ok(busy <= sim.nodes, `busy ${busy} > ${sim.nodes}`);
  }
  // FCFS: a job that was not backfilled starts no earlier than every job submitted before it
  let maxStart = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < sim.n; j++) {
    if (!sim.backfilled[j])
      assert.ok(sim.start[j] >= maxStart, `job ${j} overtook an earlier job without backfill`);
    maxStart = Math.max(maxStart, sim.start[j]);
  }
  // each backfill decision: brute force says the head's reservation is not later with the backfilled jobs
  const byTime = new Map<number, { head: number; jobs: number[] }>();
  for (const d of sim.decisions) {
    const e = byTime.get(d.time) ?? { head: d.head, jobs: [] };
    assert.equal(e.head, d.head);
    e.jobs.push(d.job);
    byTime.set(d.time, e);
  }
  for (const [t, { head, jobs }] of byTime) {
    const after = runningAt(sim, t).filter((j) => sim.end[j] > t);
    const before = after.filter((j) => !jobs.includes(j));
    const r0 = earliestFit(sim, sim.need[head], before, t);
    const r1 = earliestFit(sim, sim.need[head], after, t);
    assert.ok(r1 <= r0, `backfill at ${t} delays head ${head}: ${r0} -> ${r1}`);
    // with jobs killed at their limits, the head starts by its reservation
    if (overrun === 'kill')
      assert.ok(sim.start[head] <= r0, `head ${head} started ${sim.start[head]} after reservation ${r0}`);
  }
}

describe('sim scheduler (FCFS + EASY)', () => {
  it('follows EASY on a hand-made case: backfill before the shadow time, not past it', () => {
    const jobs = [job(1, 0, 2, 100, 100), job(2, 1, 4, 10, 10), job(3, 2, 2, 50, 50), job(4, 3, 1, 20, 200)];
    const sim = simulateCluster(jobs, { nodes: 4, overrun: 'kill' });
    assert.deepEqual(Array.from(sim.start), [0, 100, 2, 110]);
    assert.deepEqual(Array.from(sim.backfilled), [0, 0, 1, 0]);
  });

  it('backfills onto the extra nodes even past the shadow time', () => {
    const jobs = [
      job(1, 0, 2, 100, 100),
      job(2, 1, 4, 10, 10),
      job(3, 2, 1, 500, 1000),
      job(4, 3, 1, 500, 1000),
    ];
    const sim = simulateCluster(jobs, { nodes: 5, overrun: 'kill' });
    // 3 free at t=2, head needs 4 at t=100 when 5 are free: 1 extra node, taken by job 3 only
    assert.deepEqual(Array.from(sim.start), [0, 100, 2, 110]);
  });

  it('plain FCFS never overtakes', () => {
    const sim = simulateCluster(randomJobs(5, 800, 32), { nodes: 32, overrun: 'kill', backfill: false });
    for (let j = 1; j < sim.n; j++) assert.ok(sim.start[j] >= sim.start[j - 1]);
    assert.equal(sim.stats().backfilled, 0);
  });

  for (const overrun of ['kill', 'honour'] as const) {
    it(`keeps its invariants on random workloads (overrun=${overrun})`, () => {
      for (const [seed, nodes] of [
        [1, 16],
        [2, 64],
        [3, 7],
      ]) {
        const jobs = randomJobs(seed, 1500, nodes);
        let maxBusy = 0;
        const sim = simulateCluster(jobs, {
          nodes,
          overrun,
          recordDecisions: true,
          hooks: {
            onTick(s) {
              // explicit node state agrees with the free count
              let b = 0;
              for (let i = 0; i < s.nodes; i++) if (s.nodeState[i] === NODE_BUSY) b++;
              assert.equal(b, s.nodes - s.freeNodes);
              maxBusy = Math.max(maxBusy, b);
            },
          },
        });
        assert.ok(maxBusy <= nodes);
        assert.ok(sim.stats().backfilled > 0, 'expected some backfilling');
        checkInvariants(sim, overrun);
      }
    });
  }

  it('kills at the limit or honours the recorded run time', () => {
    const jobs = [job(1, 0, 1, 500, 100)];
    const kill = simulateCluster(jobs, { nodes: 1, overrun: 'kill' });
    assert.equal(kill.end[0], 100);
    assert.equal([...kill.records()][0].state, 'TIMEOUT');
    const honour = simulateCluster(jobs, { nodes: 1, overrun: 'honour' });
    assert.equal(honour.end[0], 500);
    assert.equal(honour.stats().overran, 1);
  });

  it('rejects jobs larger than the cluster with a count and runs the rest', () => {
    const jobs = [job(1, 0, 8, 10, 10), job(2, 0, 9, 10, 10), job(3, 5, 2, 10, 10)];
    const sim = simulateCluster(jobs, { nodes: 8, overrun: 'kill' });
    const st = sim.stats();
    assert.equal(st.rejected, 1);
    assert.equal(st.ran, 2);
    assert.deepEqual(
      [...sim.records()].map((r) => r.id),
      ['1', '3'],
    );
  });

  it('takes new event kinds and keeps per-node state', () => {
    const jobs = [job(1, 0, 2, 100, 100)];
    const seen: number[] = [];
    const sim = simulateCluster(jobs, {
      nodes: 4,
      overrun: 'kill',
      hooks: {
        onJobStart(s, j, t) {
          // a policy could schedule its own events, e.g. a check halfway through the job
          const kind = s.addEventKind((s2, arg, t2) => {
            seen.push(t2, arg, s2.nodeJob[s2.nodesOf(arg)[0]]);
          });
          s.schedule(t + 50, kind, j);
        },
      },
    });
    assert.deepEqual(seen, [50, 0, 0]);
    assert.equal(sim.nodesOf(0).length, 2);
  });
});
