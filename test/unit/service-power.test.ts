/** The power view: kW per minute from the node power model, and the warm pool over the boot horizon. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerSchema } from '../../src/power/config.js';
import { powerView, wattsFor } from '../../src/service/power-view.js';

const cfg = PowerSchema.parse({}); // Idle 125 W, Busy 250 W, Off 10 W, boot 300 s, margin 2

describe('power view', () => {
  it('has the documented defaults', () => {
    const { IdleWatts, BusyWatts, OffWatts, BootSeconds, WarmPoolMargin } = cfg;
    assert.deepEqual(
      { IdleWatts, BusyWatts, OffWatts, BootSeconds, WarmPoolMargin },
      { IdleWatts: 125, BusyWatts: 250, OffWatts: 10, BootSeconds: 300, WarmPoolMargin: 2 },
    );
  });

  it('applies the overrides of a cluster (Power.Clusters.<name>)', () => {
    const c = PowerSchema.parse({ Clusters: { gpu: { BusyWatts: 1200, BootSeconds: 600 } } });
    assert.deepEqual(wattsFor(c, 'gpu'), {
      IdleWatts: 125,
      BusyWatts: 1200,
      OffWatts: 10,
      BootSeconds: 600,
      WarmPoolMargin: 2,
    });
    assert.equal(wattsFor(c, 'cpu').BusyWatts, 250);
  });

  it('flat forecast: warm pool = margin, kW = busy*B + idle*I + off*O', () => {
    const H = 10;
    const p50 = new Array(H).fill(50);
    const p90 = new Array(H).fill(50);
    const v = powerView(p50, p90, 100, 50, cfg);
    assert.equal(v.warm_pool.nodes, 2);
    assert.equal(v.warm_pool.powered_now, 52);
    assert.equal(v.warm_pool.boot_minutes, 5);
    // 50 busy * 250 + 2 idle * 125 + 48 off * 10 = 12500 + 250 + 480 W
    for (const kw of v.kw) assert.equal(kw, 13.23);
    // every node on: 50 * 250 + 50 * 125
    for (const kw of v.kw_all_on) assert.equal(kw, 18.75);
  });

  it('warm pool covers the highest P90 within the boot horizon only', () => {
    const p50 = [40, 40, 40, 40, 40, 40, 40, 40];
    const p90 = [41, 43, 47.2, 44, 42, 99, 99, 99]; // the 99s are after the 5-minute boot horizon
    const v = powerView(p50, p90, 100, 40, { ...cfg, WarmPoolMargin: 0 });
    assert.equal(v.warm_pool.peak_p90, 47.2);
    assert.equal(v.warm_pool.nodes, 8); // ceil(47.2) - 40
    // minute 0 must already power what minute 5 needs (within the boot horizon)
    assert.equal(v.powered[0], 99);
  });

  it('never negative, never more than the idle nodes there are', () => {
    const v = powerView([10, 10], [5, 5], 100, 30, cfg);
    assert.equal(v.warm_pool.nodes, 2); // P90 below busy now: only the margin
    const full = powerView([98, 99], [120, 120], 100, 98, { ...cfg, WarmPoolMargin: 10 });
    assert.equal(full.warm_pool.nodes, 2);
    assert.equal(full.warm_pool.powered_now, 100);
    assert.ok(full.powered.every((p) => p === 100));
  });

  it('boot time 0: no pool beyond the margin, power follows P90', () => {
    const v = powerView([10, 20], [12, 25], 50, 10, { ...cfg, BootSeconds: 0, WarmPoolMargin: 0 });
    assert.equal(v.warm_pool.nodes, 0);
    assert.deepEqual(v.powered, [12, 25]);
    // minute 1: 20 busy * 0.25 + 5 idle * 0.125 + 25 off * 0.01
    assert.equal(v.kw[1], 5.875);
  });
});
