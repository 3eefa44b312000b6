import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectAnomalies, residualAnomalies, robustStats, robustZ } from '../../src/telemetry/anomaly.js';
import { median } from '../../src/util/stats.js';

const T = 1_704_067_200;

describe('anomaly detection (robust z)', () => {
  it('median and MAD ignore NaN and outliers', () => {
    assert.equal(median([3, 1, Number.NaN, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Number.isNaN(median([])));
    const s = robustStats([1, 2, 3, 4, 1000]);
    assert.equal(s.median, 3);
    assert.equal(s.mad, 1);
    assert.ok(Math.abs(s.scale - 1.4826) < 1e-12);
    const z = robustZ([3, 1000], [1, 2, 3, 4, 1000]);
    assert.equal(z[0], 0);
    assert.ok(z[1] > 600);
  });

  it('flags a sudden jump in busy nodes, not the usual wiggle', () => {
    const M = 240;
    const busy = new Float64Array(M);
    for (let i = 0; i < M; i++) busy[i] = 50 + Math.round(3 * Math.sin(i * 1.7) + 2 * Math.sin(i * 0.31)); // wiggles
    busy[M - 3] = 110; // +60 nodes in a minute, and back
    busy[M - 2] = 110;
    const r = detectAnomalies(T, busy);
    assert.deepEqual(r.checked, ['jump']);
    const times = r.flags.map((f) => (f.time - T) / 60);
    assert.deepEqual(times, [M - 3, M - 1]);
    assert.ok(r.flags[0].score > 3.5 && r.flags[1].score < -3.5);
    assert.equal(r.flags[0].kind, 'jump');
  });

  it('a flat series does not flag a one-node change (scale floor)', () => {
    const busy = new Float64Array(100).fill(8);
    busy[99] = 9;
    assert.equal(detectAnomalies(T, busy).flags.length, 0);
    busy[99] = 20;
    assert.equal(detectAnomalies(T, busy).flags.length, 1);
  });

  it('compares the level with the same minutes yesterday when given', () => {
    const M = 120;
    const today = new Float64Array(M);
    const yesterday = new Float64Array(M);
    for (let i = 0; i < M; i++) {
      yesterday[i] = 30 + (i % 10);
      today[i] = yesterday[i] + ((i * 3) % 4) - 1.5;
    }
    for (let i = M - 10; i < M; i++) today[i] = yesterday[i] + 40; // a plateau: no jump after its start
    const r = detectAnomalies(T, today, yesterday);
    assert.deepEqual(r.checked, ['jump', 'level_vs_yesterday']);
    const level = r.flags.filter((f) => f.kind === 'level_vs_yesterday');
    assert.equal(level.length, 10);
    assert.ok(level.every((f) => f.score > 3.5));
  });

  it('scores forecast residuals against past residuals', () => {
    const past = Array.from({ length: 200 }, (_, i) => ((i * 13) % 9) - 4);
    const r = residualAnomalies(T, Float64Array.from([1, -2, 25]), past);
    assert.deepEqual(
      r.flags.map((f) => [f.kind, (f.time - T) / 60, f.value]),
      [['residual', 2, 25]],
    );
  });
});
