import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerSim } from '../../src/power/cluster.js';
import type { ClusterView, PowerActions, PowerPolicy } from '../../src/power/policy.js';
import type { AllocationOrder } from '../../src/power/powered-nodes.js';
import { pickRuns } from '../../src/power/slurm-order.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';

function job(id: string, submit: number, nodes: number, runtime: number): SimJob {
  return { id, submit, nodes, cpus: nodes, runtime, limit: runtime, user: null, partition: null };
}

const picks = (members: string, need: number) => {
  const out: number[] = [];
  pickRuns(
    Uint8Array.from(members, (c) => (c === '1' ? 1 : 0)),
    need,
    out,
  );
  return out;
};

describe('Slurm allocation order (src/power/slurm-order.ts)', () => {
  it('the smallest run of consecutive nodes that fits, lowest ids first, lowest run on a tie', () => {
    // runs [0-2] [4-5] [7-15] (node04 and node07 of the real test busy): 2 nodes -> the run of two
    assert.deepEqual(picks('1110110111111111', 2), [4, 5]);
    assert.deepEqual(picks('1111111111111111', 1), [0]);
    assert.deepEqual(picks('11011', 2), [0, 1]);
    assert.deepEqual(picks('1110110111111111', 3), [0, 1, 2]);
  });

  it('no run big enough: the largest whole, then the best fit for the rest', () => {
    // runs [0-1] [3-5] [7]: 5 nodes -> [3-5] whole, then the 2 left fit [0-1] exactly
    assert.deepEqual(picks('11011101', 5), [3, 4, 5, 0, 1]);
    // more than there are: all of them, largest run first
    assert.deepEqual(picks('101', 3), [0, 2]);
  });

  it('in the replay: a booting run that fits is taken before powered idle nodes, as on the real Slurm', async () => {
    // 6 nodes: 0-2 powered down at 10 (off at 40), 0-1 booted at 50 (slurm: the lowest off; up at 350);
    // job b (2 nodes) at 100: slurm takes booting [0-1] (the run that fits) and waits; recent takes idle ones
    const scripted: PowerPolicy = {
      name: 'scripted',
      intervalS: 10,
      decide(view: ClusterView, act: PowerActions) {
        if (view.now === 10) for (const n of [0, 1, 2]) assert.ok(act.powerDown(n));
        if (view.now === 50) assert.equal(act.powerUp(2), 2);
      },
    };
    const run = async (order: AllocationOrder) => {
      const sim = await new PowerSim([job('a', 0, 1, 1), job('b', 100, 2, 100)], {
        nodes: 6,
        model: DEFAULT_POWER_MODEL,
        policy: scripted,
        order,
      }).runAll();
      return { start: sim.run[1], boots: sim.boots };
    };
    const boot = DEFAULT_POWER_MODEL.bootS;
    assert.deepEqual(await run('slurm'), { start: 50 + boot, boots: 2 });
    assert.deepEqual(await run('recent'), { start: 100, boots: 2 });
  });
});
