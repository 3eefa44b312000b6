import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { oraclePolicy, StepPeak } from '../../src/power/policies/oracle.js';
import { predictivePolicy } from '../../src/power/policies/predictive.js';
import { Reactive } from '../../src/power/policies/reactive.js';
import type { DemandOutlook } from '../../src/power/policies/warm-pool.js';
import { RateLimit } from '../../src/power/powered-nodes.js';
import { breakEvenSeconds, DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import { scenario } from '../helpers/power-scenario.js';

const fixed = (peak: number): DemandOutlook => ({ peak: () => peak });

describe('always_on', () => {
  it('boots whatever is off and powers nothing down', () => {
    const { view, act, log } = scenario({ now: 0, capacity: 10, busy: 2, idle: [[5, -9999]], off: 3 });
    new AlwaysOn().decide(view, act);
    assert.deepEqual(log, { up: 3, down: [] });
  });
});

describe('reactive', () => {
  const cfg = { SuspendTime: 600, SuspendExcNodes: 0, IntervalSeconds: 10 };

  it('powers down nodes idle for SuspendTime or more, longest idle first, and nothing else', () => {
    const { view, act, log } = scenario({
      now: 1000,
      capacity: 10,
      busy: 2,
      idle: [
        [1, 500], // 500 s: too recent
        [2, 400], // exactly 600 s
        [3, 0], // 1000 s
      ],
    });
    new Reactive(cfg).decide(view, act);
    assert.deepEqual(log.down, [3, 2]);
    assert.equal(log.up, 0);
  });

  it('never boots ahead of demand (jobs boot their own nodes)', () => {
    const { view, act, log } = scenario({
      now: 1000,
      capacity: 10,
      busy: 10,
      idle: [],
      off: 5,
      queuedNodes: 40,
    });
    new Reactive(cfg).decide(view, act);
    assert.deepEqual(log, { up: 0, down: [] });
  });

  it('keeps SuspendExcNodes idle nodes powered (the most recently idle), without refilling the pool', () => {
    const idle: Array<[number, number]> = [
      [1, 0],
      [2, 100],
      [3, 200],
    ];
    const a = scenario({ now: 5000, capacity: 10, busy: 0, idle });
    new Reactive({ ...cfg, SuspendExcNodes: 2 }).decide(a.view, a.act);
    assert.deepEqual(a.log.down, [1]);
    // one recent idle node already counts toward the pool
    const b = scenario({ now: 5000, capacity: 10, busy: 0, idle: [...idle, [4, 4900]] });
    new Reactive({ ...cfg, SuspendExcNodes: 2 }).decide(b.view, b.act);
    assert.deepEqual(b.log.down, [1, 2]);
    // no idle nodes at all: nothing to do, nothing booted
    const c = scenario({ now: 5000, capacity: 10, busy: 10, idle: [], off: 0 });
    new Reactive({ ...cfg, SuspendExcNodes: 2 }).decide(c.view, c.act);
    assert.deepEqual(c.log, { up: 0, down: [] });
  });
});

describe('predictive (warm pool on a forecast)', () => {
  const M = DEFAULT_POWER_MODEL;

  it('boots ahead when the forecast peak plus margin exceeds the available nodes', () => {
    const { view, act, log } = scenario({
      now: 0,
      capacity: 20,
      busy: 4,
      idle: [[9, 0]],
      booting: 1,
      off: 14,
    });
    predictivePolicy(fixed(9.2), M, 2).decide(view, act);
    // target ceil(9.2) + 2 = 12; available 4 + 1 + 1 = 6
    assert.equal(log.up, 6);
    assert.deepEqual(log.down, []);
  });

  it('powers down only the surplus over the hold-window peak, longest idle first', () => {
    const { view, act, log } = scenario({
      now: 10_000,
      capacity: 20,
      busy: 3,
      idle: [
        [7, 9000],
        [8, 100],
        [9, 5000],
      ],
      off: 14,
    });
    predictivePolicy(fixed(3.5), M, 1).decide(view, act);
    // hold = ceil(3.5) + 1 = 5; available 6 -> one node down: the longest idle (8)
    assert.deepEqual(log.down, [8]);
    assert.equal(log.up, 0);
  });

  it('looks ahead over the boot horizon to boot and over the break-even gap to power down', () => {
    const asked: number[] = [];
    const spy: DemandOutlook = {
      peak: (_now, within) => {
        asked.push(within);
        return 0;
      },
    };
    const p = predictivePolicy(spy, M, 0, 60);
    const { view, act } = scenario({ now: 0, capacity: 4, busy: 0, idle: [], off: 4 });
    p.decide(view, act);
    assert.deepEqual(asked, [M.bootS + 60, Math.max(breakEvenSeconds(M), M.shutdownS + M.bootS + 60)]);
  });

  it('never powers down below what jobs hold, and does nothing without a forecast yet', () => {
    const a = scenario({ now: 0, capacity: 10, busy: 6, idle: [[1, -1e6]] });
    predictivePolicy(fixed(0), M, 0).decide(a.view, a.act);
    assert.deepEqual(a.log.down, [1]);
    const b = scenario({ now: 0, capacity: 10, busy: 6, idle: [[1, -1e6]], off: 3 });
    predictivePolicy(fixed(Number.NaN), M, 0).decide(b.view, b.act);
    assert.deepEqual(b.log, { up: 0, down: [] });
  });
});

describe('oracle', () => {
  it('StepPeak: maximum of a step function over [now, now + within]', () => {
    // 0 until 10, 5 on [10, 20), 2 on [20, 40), 7 on [40, ...)
    const s = new StepPeak(Float64Array.of(10, 20, 40), Float64Array.of(5, 2, 7));
    assert.equal(s.peak(0, 5), 5); // before the first change point: its value (nothing held earlier in a run)
    assert.equal(s.peak(10, 0), 5);
    assert.equal(s.peak(20, 19), 2);
    assert.equal(s.peak(20, 20), 7);
    assert.equal(s.peak(15, 100), 7);
    assert.equal(s.peak(100, 10), 7);
  });

  it('boots exactly the future peak with no margin', () => {
    const s = new StepPeak(Float64Array.of(0, 200), Float64Array.of(2, 8));
    const { view, act, log } = scenario({ now: 0, capacity: 10, busy: 2, idle: [], off: 8 });
    oraclePolicy(s, DEFAULT_POWER_MODEL).decide(view, act);
    assert.equal(log.up, 6);
  });
});

describe('rate limits', () => {
  it('queues boots beyond the per-minute budget at even spacing', () => {
    const r = new RateLimit(4);
    const at = Array.from({ length: 6 }, () => r.takeQueued(0));
    assert.deepEqual(at, [0, 0, 0, 0, 15, 30]);
  });

  it('refuses shutdowns beyond the budget until tokens refill', () => {
    const r = new RateLimit(2);
    assert.equal(r.tryTake(0), true);
    assert.equal(r.tryTake(0), true);
    assert.equal(r.tryTake(0), false);
    assert.equal(r.tryTake(29), false);
    assert.equal(r.tryTake(30), true);
  });
});
