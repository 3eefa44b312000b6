import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerSim } from '../../src/power/cluster.js';
import { PowerSchema } from '../../src/power/config.js';
import { predictivePolicy } from '../../src/power/policies/predictive.js';
import { chainsFromConfig, UserChains } from '../../src/power/policies/user-chains.js';
import type { ClusterView, JobEvent, PowerActions, PowerPolicy } from '../../src/power/policy.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';
import { Rng } from '../../src/util/rng.js';
import { scenario } from '../helpers/power-scenario.js';

const M = DEFAULT_POWER_MODEL;
const T0 = 1_700_000_000 - (1_700_000_000 % 86400);
const chains = { windowS: 600, maxNodes: 4, onEnd: true };
const ev = (kind: JobEvent['kind'], t: number, user: number, nodes: number): JobEvent => ({
  kind,
  t,
  user,
  nodes,
});

/** A constructed cluster state (idle nodes busy..busy+idle-1, all idle since `since`) and an action log. */
function chainScenario(now: number, capacity: number, busy: number, idle: number, off: number, since = 0) {
  const idleSince = Array.from({ length: idle }, (_, i): [number, number] => [busy + i, since]);
  return scenario({ now, capacity, busy, idle: idleSince, off });
}

describe('user chains (online per-user model)', () => {
  it('sums the latest job size of users active within the window, small jobs only', () => {
    const c = new UserChains({ windowS: 600, maxNodes: 4, onEnd: false });
    c.observe(ev('submit', 0, 1, 2));
    c.observe(ev('submit', 100, 2, 3));
    c.observe(ev('submit', 200, 3, 16)); // too large to cover
    c.observe(ev('submit', 300, -1, 1)); // unknown user: no chain
    assert.equal(c.nodes(300), 5);
    // user 1 leaves the window at 600 s after their submission
    assert.equal(c.nodes(601), 3);
    // a new submission replaces the user's size and restarts the window
    c.observe(ev('submit', 650, 1, 1));
    assert.equal(c.nodes(650), 4);
    assert.equal(c.nodes(1300), 0);
  });

  it('a job end keeps its user active only with onEnd', () => {
    for (const onEnd of [false, true]) {
      const c = new UserChains({ windowS: 600, maxNodes: 4, onEnd });
      c.observe(ev('submit', 0, 7, 2));
      c.observe(ev('end', 3000, 7, 2));
      assert.equal(c.nodes(3100), onEnd ? 2 : 0);
    }
  });

  it('refuses events out of time order and is off with a zero window', () => {
    const c = new UserChains({ windowS: 600, maxNodes: 4, onEnd: true });
    c.observe(ev('submit', 100, 1, 1));
    assert.throws(() => c.observe(ev('submit', 99, 1, 1)), /after one at 100/);
    const off = new UserChains({ windowS: 0, maxNodes: 4, onEnd: true });
    off.observe(ev('submit', 0, 1, 1));
    assert.equal(off.nodes(0), 0);
  });

  it('the config defaults turn it on; UserWindowSeconds 0 turns it off', () => {
    const p = PowerSchema.parse({}).Predictive;
    assert.deepEqual(chainsFromConfig(p), { windowS: 600, maxNodes: 4, onEnd: true });
    assert.equal(chainsFromConfig({ ...p, UserWindowSeconds: 0 }), null);
  });
});

describe('predictive with user chains', () => {
  it('boots idle nodes for an active user on top of the forecast', () => {
    const pol = predictivePolicy({ peak: () => 4 }, M, 0, 60, 0, 0, chains);
    pol.observe(ev('submit', 0, 1, 3));
    // forecast 4 = busy 4: without chains nothing to do; the active user asks 3 idle nodes
    const { view, act, log } = chainScenario(60, 20, 4, 0, 16);
    pol.decide(view, act);
    assert.deepEqual(log, { up: 3, down: [] });
    // once the user is inactive, the surplus is powered down again
    const s2 = chainScenario(60 + 700, 20, 4, 3, 13, 100);
    pol.decide(s2.view, s2.act);
    assert.equal(s2.log.down.length, 3);
  });

  it("keeps an active user's freed nodes powered instead of powering them down", () => {
    const pol = predictivePolicy({ peak: () => 0 }, M, 0, 60, 0, 0, chains);
    pol.observe(ev('submit', 0, 1, 2));
    pol.observe(ev('end', 5000, 1, 2));
    const { view, act, log } = chainScenario(5040, 10, 0, 2, 8, 5000);
    pol.decide(view, act);
    assert.deepEqual(log, { up: 0, down: [] });
    // without chains the same state powers both down
    const plain = predictivePolicy({ peak: () => 0 }, M, 0);
    const s2 = chainScenario(5040, 10, 0, 2, 8, 5000);
    plain.decide(s2.view, s2.act);
    assert.equal(s2.log.down.length, 2);
  });
});

/** Bursty random jobs of a few users. */
function userWorkload(seed: number, days: number): SimJob[] {
  const rng = new Rng(seed);
  const jobs: SimJob[] = [];
  let t = T0;
  while (t < T0 + days * 86400) {
    t += Math.round(rng.exponential(1 / 1200));
    const user = `u${rng.int(5)}`;
    const nodes = 1 + rng.int(4);
    const chain = 1 + rng.int(4);
    for (let b = 0; b < chain; b++) {
      const runtime = Math.round(rng.exponential(1 / 1800));
      jobs.push({
        id: String(jobs.length),
        submit: t + b * Math.round(rng.exponential(1 / 200)),
        nodes,
        cpus: nodes,
        runtime,
        limit: Math.max(60, Math.round(runtime * (1 + rng.uniform()))),
        user,
        partition: null,
      });
    }
  }
  return jobs.sort((a, b) => a.submit - b.submit);
}

/** Wraps a policy: checks what it is told against the clock, and records its decisions. */
class Recorder implements PowerPolicy {
  readonly name: string;
  readonly intervalS: number;
  readonly seen: JobEvent[] = [];
  readonly decisions: string[] = [];
  constructor(
    readonly inner: PowerPolicy,
    readonly jobs: readonly SimJob[],
  ) {
    this.name = inner.name;
    this.intervalS = inner.intervalS;
  }
  observe(e: JobEvent): void {
    this.seen.push(e);
    this.inner.observe?.(e);
  }
  decide(view: ClusterView, act: PowerActions): void {
    // causality: everything the policy has been told happened at or before now...
    for (const e of this.seen) assert.ok(e.t <= view.now, `event at ${e.t} told before ${view.now}`);
    // ...and it has been told of exactly the jobs submitted by now, none later
    const told = this.seen.filter((e) => e.kind === 'submit').length;
    const submitted = this.jobs.filter((j) => j.submit <= view.now).length;
    assert.equal(told, submitted, `at ${view.now}: told ${told} submissions, ${submitted} happened`);
    const log: string[] = [];
    this.inner.decide(view, {
      powerUp: (n) => {
        const k = act.powerUp(n);
        log.push(`up ${k}`);
        return k;
      },
      powerDown: (node) => {
        const ok = act.powerDown(node);
        log.push(`down ${node} ${ok}`);
        return ok;
      },
    });
    this.decisions.push(
      `${view.now}: ${view.busy}/${view.idle}/${view.booting}/${view.off} ${log.join(',')}`,
    );
  }
}

describe('user chains in the replay: causality', () => {
  for (const seed of [1, 2]) {
    it(`decisions at t never read jobs submitted after t (random users ${seed})`, async () => {
      const jobs = userWorkload(seed, 3);
      const N = 16;
      const make = (js: SimJob[]) =>
        new Recorder(predictivePolicy({ peak: () => 3 }, M, 1, 60, 0, 0, chains), js);
      const full = make(jobs);
      const sim = new PowerSim(jobs, { nodes: N, model: M, policy: full });
      await sim.runAll();
      assert.ok(full.seen.some((e) => e.kind === 'end'));
      // the same jobs with everything after `cut` removed: identical decisions up to `cut`
      const cut = T0 + 1.5 * 86400;
      const head = jobs.filter((j) => j.submit <= cut);
      const part = make(head);
      // (the energy window makes the shorter run go on until the cut even when its jobs end sooner)
      const window = { start: T0, end: cut + 60 };
      await new PowerSim(head, { nodes: N, model: M, policy: part, window }).runAll();
      const upTo = (r: Recorder) => r.decisions.filter((d) => Number(d.split(':')[0]) <= cut);
      assert.ok(upTo(full).length > 1000);
      assert.deepEqual(upTo(part), upTo(full));
    });
  }
});
