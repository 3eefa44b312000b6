import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterEpoch, initialSchedule, lrFor, type ScheduleConfig } from '../../src/train/schedule.js';

const cfg: ScheduleConfig = { lr: 1e-3, warmup: 5, patience: 2, factor: 0.5, minLr: 2e-4, stopPatience: 6 };

/** Run the schedule over validation metrics; returns the lr of each epoch and when it stopped. */
function run(metrics: number[]) {
  let s = initialSchedule(cfg);
  const lrs: number[] = [];
  const improved: boolean[] = [];
  for (const m of metrics) {
    lrs.push(lrFor(cfg, s));
    const r = afterEpoch(cfg, s, m);
    s = r.state;
    improved.push(r.improved);
    if (r.stop) return { lrs, improved, stoppedAt: s.epoch, s };
  }
  return { lrs, improved, stoppedAt: -1, s };
}

describe('train schedule', () => {
  it('warms up linearly over 5 epochs to the peak lr', () => {
    const { lrs } = run([10, 9, 8, 7, 6, 5, 4]);
    const want = [1, 2, 3, 4, 5].map((k) => (1e-3 * k) / 6).concat([1e-3, 1e-3]);
    for (const [i, v] of lrs.entries())
      assert.ok(Math.abs(v - want[i]) < 1e-12, `epoch ${i}: ${v} vs ${want[i]}`);
  });

  it('halves the lr after 2 epochs without improvement (after warm-up), never below the floor', () => {
    // improves through epoch 5, then flat
    const { lrs, improved } = run([10, 9, 8, 7, 6, 5, 5, 5, 5, 5, 5]);
    assert.deepEqual(improved.slice(0, 6), [true, true, true, true, true, true]);
    // epochs 6,7 bad -> halved for epoch 8; 8,9 bad -> 2.5e-4 for epoch 10
    assert.deepEqual(lrs.slice(5, 11), [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]);
    const s = initialSchedule(cfg);
    assert.equal(lrFor(cfg, { ...s, epoch: 9, plateauLr: 1e-6 }), 2e-4, 'floor');
  });

  it('stops early after 6 epochs without improvement, and not before', () => {
    const r = run([5, 4, 3, 3.5, 3.2, 3.1, 3.05, 3.01, 3.3, 3.4, 3.2]);
    assert.equal(r.stoppedAt, 9);
    assert.equal(r.s.bestEpoch, 2);
    const none = run([5, 4, 3, 2, 1.5, 1.4, 1.3]);
    assert.equal(none.stoppedAt, -1);
  });

  it('a non-finite metric never counts as an improvement', () => {
    const r = run([5, Number.NaN, Number.POSITIVE_INFINITY]);
    assert.deepEqual(r.improved, [true, false, false]);
  });
});
