import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Persistence } from '../../src/model/baselines/persistence.js';
import { Ridge } from '../../src/model/baselines/ridge.js';
import type { Batch } from '../../src/model/dataset.js';
import type { Forecaster } from '../../src/model/forecaster.js';
import { LiveFeatures } from '../../src/model/live-features.js';
import { PowerSim } from '../../src/power/cluster.js';
import { OnlineForecast } from '../../src/power/online-forecast.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { oraclePolicy } from '../../src/power/policies/oracle.js';
import { predictivePolicy } from '../../src/power/policies/predictive.js';
import { Reactive } from '../../src/power/policies/reactive.js';
import type { PowerPolicy } from '../../src/power/policy.js';
import { PW_ON } from '../../src/power/powered-nodes.js';
import { demandSteps, powerReplay } from '../../src/power/replay.js';
import { DEFAULT_POWER_MODEL, energyJ } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';
import { TIMELINE_COLUMNS } from '../../src/timeline/columns.js';
import { LiveTimeline } from '../../src/timeline/live-timeline.js';
import { Rng } from '../../src/util/rng.js';

const M = DEFAULT_POWER_MODEL;
const T0 = 1_700_000_000 - (1_700_000_000 % 86400);

/** A small random workload: bursts of 1..maxNodes-node jobs over `days`, run times ~ exp(mean). */
function workload(seed: number, days: number, maxNodes: number, meanRun = 3600): SimJob[] {
  const rng = new Rng(seed);
  const jobs: SimJob[] = [];
  let t = T0;
  while (t < T0 + days * 86400) {
    t += Math.round(rng.exponential(1 / 900));
    const burst = 1 + rng.int(3);
    for (let b = 0; b < burst; b++) {
      const runtime = Math.round(rng.exponential(1 / meanRun));
      const nodes = 1 + rng.int(maxNodes);
      jobs.push({
        id: String(jobs.length),
        submit: t + b * 30,
        nodes,
        cpus: nodes,
        runtime,
        limit: Math.max(60, Math.round(runtime * (1 + rng.uniform()))),
        user: null,
        partition: null,
      });
    }
  }
  return jobs.sort((a, b) => a.submit - b.submit);
}

/** Run a policy and check the per-minute invariants; returns the finished sim. */
async function checked(jobs: SimJob[], nodes: number, policy: PowerPolicy): Promise<PowerSim> {
  const sim = new PowerSim(jobs, {
    nodes,
    model: M,
    policy,
    minuteHook: (s, t) => {
      const busy = s.busy;
      const powered = s.powered;
      assert.ok(busy <= powered && powered <= nodes, `t=${t}: busy ${busy}, powered ${powered}, N ${nodes}`);
      // a job that runs holds only powered-on nodes
      for (let node = 0; node < nodes; node++) {
        const j = s.nodeJob[node];
        if (j >= 0 && s.run[j] <= t) assert.equal(s.pw[node], PW_ON, `t=${t}: job ${j} runs on node ${node}`);
      }
    },
  });
  await sim.runAll();
  for (let j = 0; j < sim.n; j++) {
    assert.ok(sim.run[j] >= sim.alloc[j] && sim.alloc[j] >= sim.submit[j], `job ${j} timing`);
    assert.equal(sim.end[j], sim.run[j] + sim.runtime[j]);
  }
  return sim;
}

describe('power replay: the scheduler', () => {
  for (const seed of [1, 2, 3]) {
    it(`invariants, zero boot wait for always_on, oracle best at zero wait (random workload ${seed})`, async () => {
      const N = 16;
      const jobs = workload(seed, 4, 8);
      const ao = await checked(jobs, N, new AlwaysOn());
      for (let j = 0; j < ao.n; j++) assert.equal(ao.run[j], ao.alloc[j]);
      assert.equal(ao.boots, 0);
      const e0 = energyJ(M, ao.seconds);
      const oracle = await checked(jobs, N, oraclePolicy(demandSteps(ao), M));
      // perfect foresight: same schedule as always-on, so no job waits longer
      for (let j = 0; j < oracle.n; j++) {
        assert.equal(oracle.run[j], ao.run[j], `oracle delayed job ${j}`);
      }
      const eo = energyJ(M, oracle.seconds);
      assert.ok(eo < e0, 'the oracle saves energy');
      // every other policy that also adds no wait saves at most as much
      for (const policy of [
        new Reactive({ SuspendTime: 3600, SuspendExcNodes: 0, IntervalSeconds: 10 }),
        new Reactive({ SuspendTime: 60, SuspendExcNodes: 4, IntervalSeconds: 10 }),
        predictivePolicy({ peak: () => N }, M, 0),
        predictivePolicy({ peak: () => 4 }, M, 2),
      ]) {
        const s = await checked(jobs, N, policy);
        const e = energyJ(M, s.seconds);
        let added = 0;
        for (let j = 0; j < s.n; j++) added += s.run[j] - s.submit[j] - (ao.run[j] - ao.submit[j]);
        if (added <= 0)
          assert.ok(eo <= e + 1e-6, `${policy.name} saves more than the oracle at no added wait`);
      }
    });
  }
});

describe('power replay: live rows and forecasts', () => {
  it('live rows: each minute row is the PowerSim state at that instant (nodes held from allocation)', async () => {
    const N = 16;
    const jobs = workload(7, 9, 6);
    const live = new LiveTimeline(Math.ceil(jobs[0].submit / 60) * 60, N, N);
    const sim = await new PowerSim(jobs, {
      nodes: N,
      model: M,
      policy: new Reactive({ SuspendTime: 300, SuspendExcNodes: 0, IntervalSeconds: 10 }),
      minuteHook: (s, t) => live.write(s, t),
    }).runAll();
    const tl = live.view();
    // busy nodes at each row = nodes of jobs allocated at or before t and ending after t (booting ones too);
    // ending within 30 min counts from the run (after the boot), as the scheduler plans
    let booting = 0;
    for (let m = 0; m < tl.minutes; m += 7) {
      const t = tl.start + 60 * m;
      let busy = 0;
      let ending = 0;
      for (let j = 0; j < sim.n; j++) {
        if (!(sim.alloc[j] <= t && sim.end[j] > t)) continue;
        busy += sim.need[j];
        if (sim.run[j] + sim.limit[j] <= t + 1800) ending += sim.need[j];
        if (sim.run[j] > t) booting++;
      }
      assert.equal(tl.columns.busy_nodes[m], busy, `row ${m}`);
      assert.equal(tl.columns.ending_30m_nodes[m], ending, `row ${m}`);
    }
    assert.ok(booting > 0, 'some rows see jobs waiting for boots');
  });

  it("rows appended ahead of a scheduler's (a history, a queue snapshot's row) leave the scheduler's rows as they were", async () => {
    const N = 16;
    const jobs = workload(7, 9, 6);
    const start = Math.ceil(jobs[0].submit / 60) * 60;
    const rowsOf = (tl: LiveTimeline) =>
      new PowerSim(jobs, {
        nodes: N,
        model: M,
        policy: new AlwaysOn(),
        minuteHook: (s, t) => tl.write(s, t),
      }).runAll();
    const own = new LiveTimeline(start, N, N);
    await rowsOf(own);
    // the same run behind 90 rows of a history (here: the first 90 rows of the run itself, shifted earlier)
    const prior = own.view(0, 90);
    const live = new LiveTimeline(start - 90 * 60, N, N);
    for (let i = 0; i < 90; i++) live.append(prior, i, start - 90 * 60 + 60 * i);
    await rowsOf(live);
    assert.equal(live.minutes, own.minutes + 90);
    const a = live.view(90);
    const b = own.view();
    for (const c of TIMELINE_COLUMNS) assert.deepEqual(a.columns[c], b.columns[c], c);
    assert.deepEqual(live.view(0, 90).columns.busy_nodes, prior.columns.busy_nodes);
    assert.throws(
      () => live.append(prior, 0, live.lastTime + 60),
      /a row appended after rows written from a scheduler/,
    );
  });

  it('no peeking: the forecaster is only ever shown rows up to now', async () => {
    const N = 16;
    const jobs = workload(5, 5, 6);
    let sim: PowerSim | null = null;
    let calls = 0;
    /** A forecaster that throws if asked about an origin after now or shown any row after its origin. */
    class Strict implements Forecaster {
      readonly name = 'strict';
      inner = new Persistence();
      fit(): void {}
      predict(batch: Batch) {
        const d = batch.data;
        for (const o of batch.origins) {
          const tOrigin = d.timeline.start + 60 * o;
          if (sim && tOrigin > sim.now) throw new Error(`asked about ${tOrigin} at ${sim.now}`);
          if (d.busy.length > o + 1 || d.features.minutes > o + 1)
            throw new Error('shown rows after the origin');
          if (d.timeline.start + 60 * (d.timeline.minutes - 1) > (sim?.now ?? 0))
            throw new Error('future rows');
        }
        calls++;
        return { p50: new Float32Array(batch.B * batch.H).fill(d.busy[batch.origins[0]]) };
      }
    }
    const live = new LiveTimeline(Math.ceil(jobs[0].submit / 60) * 60, N, N);
    const feats = new LiveFeatures(live, { historyLead: 30 });
    const fc = new OnlineForecast(new Strict(), live, feats, 30);
    sim = new PowerSim(jobs, {
      nodes: N,
      model: M,
      policy: predictivePolicy(fc, M, 1),
      minuteHook: (s, t) => {
        live.write(s, t);
        feats.update();
        return fc.update();
      },
    });
    await sim.runAll();
    assert.equal(calls, live.minutes);
  });

  it('powerReplay: figures for every policy, curves, and the oracle at zero boot wait', async () => {
    const jobs = workload(3, 6, 6);
    let trainedRows = -1;
    const res = await powerReplay({
      jobs,
      nodes: 16,
      totalCpus: 16,
      model: M,
      reactive: {
        SuspendTime: 600,
        SuspendRate: 60,
        ResumeRate: 300,
        SuspendExcNodes: 0,
        IntervalSeconds: 10,
      },
      predictive: { margin: 1, peakQuantile: 0.9, intervalS: 60 },
      policies: ['always_on', 'reactive', 'predictive', 'oracle'],
      forecaster: {
        make: () => {
          const r = new Ridge();
          const fit = r.fit.bind(r);
          r.fit = (td) => {
            trainedRows = td.data.timeline.minutes;
            return fit(td);
          };
          return r;
        },
        fit: true,
      },
      trainFraction: 0.3,
      jitterSeeds: 2,
      sweep: { reactive: [60, 600], predictive: [0, 2] },
    });
    for (const name of ['always_on', 'reactive', 'predictive', 'oracle'] as const) {
      const p = res.policies[name]!;
      for (const k of [
        'energy_kwh',
        'saved_pct',
        'node_hours_off',
        'boots',
        'mean_boot_wait_s',
        'mean_added_wait_s',
        'p95_added_wait_s',
        'jobs_delayed_300s_pct',
      ] as const) {
        assert.ok(Number.isFinite(p[k]), `${name}.${k}`);
      }
      assert.equal(p.mean_added_wait_pairs_s.length, 2);
    }
    assert.equal(res.policies.always_on!.saved_pct, 0);
    assert.equal(res.policies.oracle!.mean_boot_wait_s, 0);
    assert.equal(res.policies.oracle!.mean_added_wait_s, 0);
    assert.equal(res.policies.reactive!.knob?.value, 600);
    assert.deepEqual(
      res.curves.reactive.map((p) => p.knob),
      [60, 600],
    );
    assert.deepEqual(
      res.curves.predictive.map((p) => p.knob),
      [0, 2],
    );
    // the forecaster saw the training prefix only
    assert.equal(trainedRows, res.window.train_minutes);
    assert.ok(res.window.start === Math.ceil(jobs[0].submit / 60) * 60 + 60 * res.window.train_minutes);
    assert.ok(res.all_idle_off_saved_pct >= res.policies.oracle!.saved_pct);
    assert.ok(res.target);
  });
});
