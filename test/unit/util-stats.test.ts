import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mean, median, quantile, quantileSorted, std } from '../../src/util/stats.js';

const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('stats', () => {
  it('mean and standard deviation (population and sample), NaN without enough values', () => {
    assert.equal(mean([1, 2, 3, 6]), 3);
    assert.ok(Number.isNaN(mean([])));
    // deviations -2, -1, 0, 3: sum of squares 14
    assert.equal(std([1, 2, 3, 6]), Math.sqrt(14 / 4));
    assert.equal(std([1, 2, 3, 6], 1), Math.sqrt(14 / 3));
    assert.equal(std([5]), 0);
    assert.ok(Number.isNaN(std([5], 1)));
    assert.ok(Number.isNaN(std([])));
  });

  it('median of the finite values, the mean of the middle two for an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(median([3, 1, Number.NaN, 2, Number.POSITIVE_INFINITY]), 2);
    assert.ok(Number.isNaN(median([])));
    const x = [3, 1, 2];
    median(x);
    assert.deepEqual(x, [3, 1, 2], 'input untouched');
  });

  it('type-7 quantiles: linear between order statistics, exact at the ends', () => {
    assert.equal(quantileSorted(TEN, 0.1), 1.9);
    assert.ok(Math.abs(quantileSorted(TEN, 0.9) - 9.1) < 1e-12);
    assert.equal(quantileSorted(TEN, 0), 1);
    assert.equal(quantileSorted(TEN, 1), 10);
    assert.equal(quantileSorted([7], 0.3), 7);
    assert.equal(quantileSorted([2, 2, 2], 0.37), 2, 'equal neighbours give the value itself');
    assert.ok(Number.isNaN(quantileSorted([], 0.5)));
    const shuffled = Float64Array.from([10, 3, 7, 1, 9, 2, 8, 4, 6, 5]);
    assert.equal(quantile(shuffled, 0.95), quantileSorted(TEN, 0.95));
    assert.equal(shuffled[0], 10, 'input untouched');
  });
});
