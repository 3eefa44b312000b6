/** The power view: what the controller's warm-pool law would do now, and kW per minute from the node power model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerSchema } from '../../src/power/config.js';
import { powerView } from '../../src/service/power-view.js';

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
    const gpu = powerView([10], [10], 20, 10, c, 'gpu');
    // 10 busy * 1200 + 2 idle * 125 + 8 off * 10
    assert.equal(gpu.kw[0], 12.33);
    assert.equal(gpu.warm_pool.boot_minutes, 10);
    assert.equal(powerView([10], [10], 20, 10, c, 'cpu').kw[0], 2.83);
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

  it('warm pool covers the highest P90 within the boot lead only (boot + decision interval)', () => {
    const p50 = [40, 40, 40, 40, 40, 40, 40, 40];
    const p90 = [41, 43, 47.2, 44, 42, 45, 99, 99]; // the 99s are after the 6-minute lead (300 s boot + 60 s)
    const v = powerView(p50, p90, 100, 40, { ...cfg, WarmPoolMargin: 0 });
    assert.equal(v.warm_pool.peak_p90, 47.2);
    assert.equal(v.warm_pool.nodes, 8); // ceil(47.2) - 40
    assert.equal(v.powered[0], 48);
    // a minute later the 99 is within the lead: it must already be powered
    assert.equal(v.powered[1], 99);
  });

  it('never negative, never more than the idle nodes there are', () => {
    const v = powerView([10, 10], [5, 5], 100, 30, cfg);
    assert.equal(v.warm_pool.nodes, 2); // P90 below busy now: only the margin
    const full = powerView([98, 99], [120, 120], 100, 98, { ...cfg, WarmPoolMargin: 10 });
    assert.equal(full.warm_pool.nodes, 2);
    assert.equal(full.warm_pool.powered_now, 100);
    assert.ok(full.powered.every((p) => p === 100));
  });

  it('boot time 0: the law still covers the next decision interval, power follows P90', () => {
    const v = powerView([10, 20], [12, 25], 50, 10, { ...cfg, BootSeconds: 0, WarmPoolMargin: 0 });
    assert.equal(v.warm_pool.nodes, 2); // P90 of the next minute (12) - 10 busy
    assert.deepEqual(v.powered, [12, 25]);
    // minute 1: 20 busy * 0.25 + 5 idle * 0.125 + 25 off * 0.01
    assert.equal(v.kw[1], 5.875);
  });
});
