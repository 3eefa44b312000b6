import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageOverHorizons, computeMetrics, MetricsAccumulator } from '../../src/evaluate/metrics.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('metrics', () => {
  // H = 2, B = 4: horizon 1 actuals [1, 2, 0, 4], horizon 2 actuals [2, 2, 2, 2]
  const actual = Float32Array.from([1, 2, 2, 2, 0, 2, 4, 2]);
  const p50 = Float32Array.from([2, 2, 2, 3, 1, 1, 4, 2]);
  const p10 = Float32Array.from([0, 0, 2, 3, 0, 0, 3, 0]);
  const p90 = Float32Array.from([3, 4, 3, 4, 0.5, 4, 5, 4]);
  const m = computeMetrics(2, actual, p50, p10, p90);

  it('MAE and RMSE per horizon', () => {
    // horizon 1 errors: -1, 0, -1, 0 ; horizon 2 errors: 0, -1, 1, 0
    assert.deepEqual(m.n, [4, 4]);
    close(m.mae[0], 0.5);
    close(m.mae[1], 0.5);
    close(m.rmse[0], Math.sqrt(0.5));
    close(m.rmse[1], Math.sqrt(0.5));
  });

  it('MAPE in percent over non-zero actuals only', () => {
    // horizon 1: |-1/1|, |0/2|, (actual 0 skipped), |0/4| -> 100/3 %
    close(m.mape[0], 100 / 3);
    // horizon 2: 0, 1/2, 1/2, 0 -> 25 %
    close(m.mape[1], 25);
  });

  it('R^2 around the mean actual of each horizon; undefined for constant actuals', () => {
    // horizon 1: mean 1.75, SST = 0.5625 + 0.0625 + 3.0625 + 5.0625 = 8.75, SSE = 2
    close(m.r2[0], 1 - 2 / 8.75);
    assert.ok(Number.isNaN(m.r2[1]));
  });

  it('P10-P90 coverage and mean width', () => {
    // horizon 1 intervals [0,3] [2,3] [0,0.5] [3,5] hold 1, 2, 0, 4 -> 4/4 ; widths 3, 1, 0.5, 2
    close(m.coverage_p10_p90[0], 1);
    close(m.interval_width[0], 6.5 / 4);
    // horizon 2 intervals [0,4] [3,4] [0,4] [0,4] hold 2, 2 (no), 2, 2 -> 3/4
    close(m.coverage_p10_p90[1], 0.75);
    close(m.interval_width[1], 13 / 4);
  });

  it('averages over horizons, skipping undefined values', () => {
    const a = averageOverHorizons(m);
    close(a.mae, 0.5);
    close(a.r2, 1 - 2 / 8.75);
    close(a.coverage_p10_p90, 0.875);
  });

  it('accumulates batches, skips NaN targets, and reports NaN without a band or samples', () => {
    const acc = new MetricsAccumulator(2);
    acc.add(actual.subarray(0, 4), p50.subarray(0, 4));
    acc.add(actual.subarray(4), p50.subarray(4));
    acc.add(Float32Array.from([Number.NaN, Number.NaN]), Float32Array.from([1, 1]));
    const r = acc.result();
    assert.deepEqual(r.n, [4, 4]);
    close(r.mae[0], m.mae[0]);
    assert.ok(Number.isNaN(r.coverage_p10_p90[0]));
    const empty = new MetricsAccumulator(1).result();
    assert.ok(Number.isNaN(empty.mae[0]) && Number.isNaN(empty.r2[0]));
  });
});
