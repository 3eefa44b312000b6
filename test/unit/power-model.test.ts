import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerSim } from '../../src/power/cluster.js';
import { PowerSchema } from '../../src/power/config.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { Reactive } from '../../src/power/policies/reactive.js';
import type { PowerPolicy } from '../../src/power/policy.js';
import {
  breakEvenSeconds,
  DEFAULT_POWER_MODEL,
  energyJ,
  type NodePowerModel,
  powerModelFromConfig,
} from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';
import { UserError } from '../../src/util/errors.js';

const M: NodePowerModel = DEFAULT_POWER_MODEL;

function job(id: string, submit: number, nodes: number, runtime: number, limit = runtime): SimJob {
  return { id, submit, nodes, cpus: nodes, runtime, limit, user: null, partition: null };
}

describe('power model', () => {
  it('has the cited defaults and per-cluster overrides', () => {
    const cfg = PowerSchema.parse({ Clusters: { small: { IdleWatts: 100, BootSeconds: 180 } } });
    assert.deepEqual(powerModelFromConfig(cfg), M);
    const o = powerModelFromConfig(cfg, 'small');
    assert.equal(o.idleW, 100);
    assert.equal(o.bootS, 180);
    assert.equal(o.busyW, 250);
    assert.deepEqual(powerModelFromConfig(cfg, 'other'), M);
  });

  it('refuses a model where off draws as much as idle', () => {
    const cfg = PowerSchema.parse({ IdleWatts: 10, OffWatts: 10 });
    assert.throws(() => powerModelFromConfig(cfg), UserError);
  });

  it('break-even gap: shutdown + extra boot energy over the idle-off difference', () => {
    // 30 + (250 - 10) * 300 / (125 - 10)
    assert.ok(Math.abs(breakEvenSeconds(M) - (30 + (240 * 300) / 115)) < 1e-9);
    // a cycle over exactly that gap costs what staying idle costs
    const G = breakEvenSeconds(M);
    const cycle = energyJ(M, { idle: M.shutdownS, off: G - M.shutdownS - M.bootS, boot: M.bootS, busy: 0 });
    assert.ok(Math.abs(cycle - energyJ(M, { idle: G, off: 0, boot: 0, busy: 0 })) < 1e-6);
  });

  it('energy of node-seconds per state', () => {
    assert.equal(energyJ(M, { off: 1, boot: 2, idle: 3, busy: 4 }), 10 + 500 + 375 + 1000);
  });

  it('always-on accounting on a hand case: 2 nodes, one 1-node job of 600 s', async () => {
    const sim = await new PowerSim([job('a', 0, 1, 600)], {
      nodes: 2,
      model: M,
      policy: new AlwaysOn(),
      window: { start: 0, end: 600 },
    }).runAll();
    assert.deepEqual(sim.seconds, { off: 0, boot: 0, idle: 600, busy: 600 });
    assert.equal(energyJ(M, sim.seconds), 600 * 250 + 600 * 125);
    assert.equal(sim.boots, 0);
  });

  it('reactive on a hand case: idle 60 s -> shutdown 30 s -> off -> a job boots it and waits', async () => {
    // one node: job a runs 0..100; idle from 100, powered down at the tick at 160, off at 190;
    // job b arrives at 1000, boots the node 1000..1300 and runs 1300..1400
    const policy = new Reactive({ SuspendTime: 60, SuspendExcNodes: 0, IntervalSeconds: 10 });
    const sim = await new PowerSim([job('a', 0, 1, 100), job('b', 1000, 1, 100)], {
      nodes: 1,
      model: M,
      policy,
      window: { start: 0, end: 1400 },
    }).runAll();
    assert.equal(sim.alloc[1], 1000);
    assert.equal(sim.run[1], 1300);
    assert.equal(sim.end[1], 1400);
    assert.equal(sim.boots, 1);
    assert.equal(sim.shutdowns, 1);
    assert.deepEqual(sim.seconds, { busy: 200, idle: 60 + 30, off: 1000 - 190, boot: 300 });
    assert.equal(energyJ(M, sim.seconds), 200 * 250 + 90 * 125 + 810 * 10 + 300 * 250);
  });

  it('a cluster started before its first job (`from`): idle, powered down and ticking from its start', async () => {
    // one node up from 0; the only job arrives at 1000. Reactive: idle 0..60, powered down at the tick at 60,
    // off at 90; the job boots it 1000..1300. Without `from` the node is idle from the first submit (1000)
    const policy = new Reactive({ SuspendTime: 60, SuspendExcNodes: 0, IntervalSeconds: 10 });
    const sim = await new PowerSim([job('b', 1000, 1, 100)], {
      nodes: 1,
      model: M,
      policy,
      window: { start: 0, end: 1400 },
      from: 0,
    }).runAll();
    assert.equal(sim.run[0], 1300);
    assert.deepEqual(sim.seconds, { busy: 100, idle: 60 + 30, off: 1000 - 90, boot: 300 });
    const minutes: number[] = [];
    const hooked = await new PowerSim([job('b', 1000, 1, 100)], {
      nodes: 1,
      model: M,
      policy: new Reactive({ SuspendTime: 60, SuspendExcNodes: 0, IntervalSeconds: 10 }),
      window: { start: 0, end: 1400 },
      from: 0,
      minuteHook: (_s, t) => {
        minutes.push(t);
      },
    }).runAll();
    assert.equal(minutes[0], 0, 'minute rows from the start');
    assert.equal(hooked.run[0], 1300);
  });

  it('waits for a minute hook that returns a promise: the policy decides after it, figures as with a sync hook', async () => {
    const run = async (async: boolean) => {
      const order: string[] = [];
      const inner = new Reactive({ SuspendTime: 60, SuspendExcNodes: 0, IntervalSeconds: 10 });
      const policy: PowerPolicy = {
        name: inner.name,
        intervalS: inner.intervalS,
        decide: (view, act) => {
          order.push(`decide ${view.now}`);
          inner.decide(view, act);
        },
      };
      const sim = await new PowerSim([job('a', 0, 1, 100), job('b', 1000, 1, 100)], {
        nodes: 1,
        model: M,
        policy,
        window: { start: 0, end: 1400 },
        minuteHook: (_s, t) => {
          order.push(`row ${t}`);
          if (!async) return;
          return new Promise<void>((done) =>
            setImmediate(() => {
              order.push(`rowdone ${t}`);
              done();
            }),
          );
        },
      }).runAll();
      return { order, run: Array.from(sim.run), seconds: sim.seconds, boots: sim.boots };
    };
    const a = await run(true);
    const s = await run(false);
    // every decision at a minute instant comes after that minute's row has resolved
    for (let i = 0; i < a.order.length; i++) {
      const [what, t] = a.order[i].split(' ');
      if (what === 'decide' && Number(t) % 60 === 0) assert.equal(a.order[i - 1], `rowdone ${t}`);
    }
    assert.deepEqual(a.order.slice(0, 5), ['row 0', 'rowdone 0', 'decide 0', 'decide 10', 'decide 20']);
    assert.deepEqual({ ...a, order: a.order.filter((x) => !x.startsWith('rowdone')) }, s);
    assert.deepEqual(s.run, [0, 1300]);
    assert.deepEqual(s.seconds, { busy: 200, idle: 60 + 30, off: 1000 - 190, boot: 300 });
  });

  it('a zero-length job on a node that was shutting down: the node ends up idle once, not twice', async () => {
    // one node: a runs 0..100, powered down at 160, shutting until 190. b (run time 0) arrives at 170 and
    // takes the shutting node: off at 190, booted 190..490, b runs and ends at 490, the instant the boot ends
    const policy = new Reactive({ SuspendTime: 60, SuspendExcNodes: 0, IntervalSeconds: 10 });
    const counts: number[][] = [];
    const sim = await new PowerSim([job('a', 0, 1, 100), job('b', 170, 1, 0)], {
      nodes: 1,
      model: M,
      policy,
      window: { start: 0, end: 900 },
      minuteHook: (s) => {
        counts.push([s.busy, s.idle, s.booting, s.off, s.shutting]);
      },
    }).runAll();
    assert.equal(sim.alloc[1], 170);
    assert.equal(sim.run[1], 490);
    assert.equal(sim.end[1], 490);
    for (const [i, c] of counts.entries())
      assert.equal(
        c.reduce((a, b) => a + b),
        1,
        `minute ${i}: ${c}`,
      );
    // idle again from 490 (minute 540), powered down at the tick at 550, off at 580 (minute 600)
    assert.deepEqual(counts[9], [0, 1, 0, 0, 0]);
    assert.deepEqual(counts[10], [0, 0, 0, 1, 0]);
    assert.equal(sim.shutdowns, 2);
    assert.equal(sim.boots, 1);
  });
});
