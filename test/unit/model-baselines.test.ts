import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../src/evaluate/metrics.js';
import { ResidualBand } from '../../src/model/baselines/band.js';
import { BASELINE_NAMES, baselineName, makeBaseline } from '../../src/model/baselines/index.js';
import { Persistence } from '../../src/model/baselines/persistence.js';
import { Ridge } from '../../src/model/baselines/ridge.js';
import { ridgeFromMoments } from '../../src/model/baselines/ridge-moments.js';
import { SeasonalNaive } from '../../src/model/baselines/seasonal-naive.js';
import { makeBatch, makeDataset, splitBounds, splitOrigins } from '../../src/model/dataset.js';
import { buildFeatures } from '../../src/model/features.js';
import { rng, syntheticTimeline } from '../helpers/model-synthetic.js';

const H = 30;

function setup(minutes: number, busy: (t: number) => number, capacity = 100) {
  const tl = syntheticTimeline({ minutes, capacity, busy });
  const data = makeDataset(tl, buildFeatures(tl), H);
  const split = splitOrigins(splitBounds(tl, { testFraction: 0.2, validFraction: 0.2 }), H);
  return { tl, data, split };
}

describe('baselines: persistence and seasonal naive', () => {
  it('persistence repeats the value at the origin for every horizon', async () => {
    const { data, split } = setup(500, (t) => (t * 13) % 89);
    const f = new Persistence();
    await f.fit({ data, train: split.train, valid: split.valid });
    const b = makeBatch(data, Int32Array.from([40, 41]), { withX: false });
    const p = f.predict(b);
    assert.deepEqual(Array.from(p.p50.subarray(0, H)), new Array(H).fill((40 * 13) % 89));
    assert.deepEqual(Array.from(p.p50.subarray(H)), new Array(H).fill((41 * 13) % 89));
    assert.ok(p.p10 && p.p90, 'persistence reports a band');
  });

  it('seasonal day is exact on a series with a daily period (after the first day)', async () => {
    const daily = (t: number) =>
      Math.round(50 + 40 * Math.sin((2 * Math.PI * (t % 1440)) / 1440) + ((t * 7) % 5));
    const { data, split } = setup(4 * 1440, daily);
    const f = new SeasonalNaive(1440);
    assert.equal(f.name, 'seasonal_day');
    await f.fit({ data, train: split.train, valid: split.valid });
    const b = makeBatch(data, split.test, { withX: false });
    const m = computeMetrics(H, b.y, f.predict(b).p50);
    assert.ok(m.mae.every((v) => v === 0));
    // before a day of history exists it falls back to persistence
    const early = makeBatch(data, Int32Array.from([100]), { withX: false });
    assert.ok(f.predict(early).p50.every((v) => v === daily(100)));
  });

  it('seasonal week is exact on a series with a weekly period', async () => {
    const weekly = (t: number) => (t % 10080) % 97;
    const { data, split } = setup(13_000, weekly);
    const f = new SeasonalNaive(10080);
    assert.equal(f.name, 'seasonal_week');
    await f.fit({ data, train: split.train, valid: split.valid });
    const test = split.test.filter((t) => t + 1 >= 10080);
    const b = makeBatch(data, test, { withX: false });
    assert.ok(computeMetrics(H, b.y, f.predict(b).p50).mae.every((v) => v === 0));
  });
});

describe('baselines: residual band', () => {
  it('takes type-7 quantiles of the residuals per horizon', () => {
    // residuals (N=10, H=2): horizon 0 = 1..10, horizon 1 = -(1..10)
    const res = new Float32Array(20);
    for (let i = 0; i < 10; i++) {
      res[i * 2] = i + 1;
      res[i * 2 + 1] = -(i + 1);
    }
    const band = ResidualBand.fromResiduals(res, 2)!;
    assert.ok(Math.abs(band.q10[0] - 1.9) < 1e-6 && Math.abs(band.q90[0] - 9.1) < 1e-6);
    assert.ok(Math.abs(band.q10[1] + 9.1) < 1e-6 && Math.abs(band.q90[1] + 1.9) < 1e-6);
    // applied around p50 and clipped to [0, capacity]
    const { p10, p90 } = band.apply(Float32Array.from([5, 5, 99, 1]), 2, 100);
    assert.deepEqual(
      Array.from(p10, (v) => Math.round(v * 10) / 10),
      [6.9, 0, 100, 0],
    );
    assert.deepEqual(
      Array.from(p90, (v) => Math.round(v * 10) / 10),
      [14.1, 3.1, 100, 0],
    );
    assert.equal(ResidualBand.fromResiduals(new Float32Array(0), 2), null);
  });
});

describe('baselines: registry', () => {
  it('makes each baseline by name, fresh, in report order', () => {
    assert.deepEqual(BASELINE_NAMES, ['persistence', 'seasonal_day', 'seasonal_week', 'ridge']);
    for (const name of BASELINE_NAMES) {
      const f = makeBaseline(name);
      assert.equal(f.name, name);
      assert.notEqual(makeBaseline(name), f);
    }
    assert.equal((makeBaseline('ridge', { maxTrainRows: 123 }) as Ridge).maxTrainRows, 123);
  });

  it('names the option and the expected names for an unknown one', () => {
    assert.equal(baselineName('ridge', '--forecaster'), 'ridge');
    assert.throws(
      () => baselineName('lstm', '--forecaster'),
      /--forecaster: expected one of persistence, seasonal_day, seasonal_week, ridge, got 'lstm'/,
    );
    assert.throws(() => baselineName('toString', '--forecaster'), /expected one of/);
  });
});

describe('baselines: ridge', () => {
  it('recovers a known linear relation from moments (and zeroes a constant column)', () => {
    const r = rng(1);
    const D = 4;
    const S = new Float64Array(D * D);
    const s = new Float64Array(D);
    const szy = new Float64Array(D);
    let sy = 0;
    const N = 5000;
    for (let i = 0; i < N; i++) {
      const z = [r(), r() * 10, r() - 0.5, 3];
      const y = 2 * z[0] - 0.3 * z[1] + 5 * z[2] + 7;
      for (let a = 0; a < D; a++) {
        s[a] += z[a];
        szy[a] += z[a] * y;
        for (let b = 0; b < D; b++) S[a * D + b] += z[a] * z[b];
      }
      sy += y;
    }
    const { w, b } = ridgeFromMoments({ S, s, szy, sy, n: N }, D, 1e-9);
    assert.ok(
      Math.abs(w[0] - 2) < 1e-5 && Math.abs(w[1] + 0.3) < 1e-6 && Math.abs(w[2] - 5) < 1e-5,
      `w = ${w}`,
    );
    assert.equal(w[3], 0);
    assert.ok(Math.abs(b - 7) < 1e-5);
  });

  it('forecasts a sinusoid (an exact linear recurrence in its lags) almost perfectly, beating persistence', async () => {
    const wave = (t: number) => 50 + 40 * Math.sin((2 * Math.PI * t) / 1000);
    const { data, split } = setup(8000, wave);
    const ridge = new Ridge();
    await ridge.fit({ data, train: split.train, valid: split.valid });
    assert.equal(ridge.models.length, H);
    const b = makeBatch(data, split.test, { withX: false });
    const m = computeMetrics(H, b.y, ridge.predict(b).p50);
    const pers = new Persistence();
    await pers.fit({ data, train: split.train, valid: split.valid });
    const mp = computeMetrics(H, b.y, pers.predict(b).p50);
    assert.ok(Math.max(...m.mae) < 0.05, `ridge MAE ${Math.max(...m.mae)}`);
    assert.ok(mp.mae[H - 1] > 3, `persistence MAE ${mp.mae[H - 1]}`);
    for (const l of ridge.lambda) assert.ok(ridge.lambdas.includes(l));
  });

  it('gives a calibrated P10-P90 band on noisy data (coverage near 80 %)', async () => {
    const r = rng(7);
    const noise = Float64Array.from({ length: 20_000 }, () => (r() - 0.5) * 20);
    const { data, split } = setup(20_000, (t) => 50 + 30 * Math.sin((2 * Math.PI * t) / 700) + noise[t]);
    const ridge = new Ridge();
    await ridge.fit({ data, train: split.train, valid: split.valid });
    const b = makeBatch(data, split.test, { withX: false });
    const p = ridge.predict(b);
    const m = computeMetrics(H, b.y, p.p50, p.p10, p.p90);
    for (const c of m.coverage_p10_p90) assert.ok(c > 0.74 && c < 0.86, `coverage ${c}`);
  });
});
