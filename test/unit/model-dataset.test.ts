import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backtestBounds,
  batches,
  makeBatch,
  makeDataset,
  originsIn,
  prepareData,
  splitBounds,
  splitOrigins,
} from '../../src/model/dataset.js';
import { buildFeatures, featureIndex } from '../../src/model/features.js';
import { StandardScaler } from '../../src/model/scaler.js';
import { InputError } from '../../src/util/errors.js';
import { syntheticTimeline } from '../helpers/model-synthetic.js';

const H = 30;

describe('dataset: time-ordered splits', () => {
  const tl = syntheticTimeline({ minutes: 10_000, busy: (t) => t % 97 });

  it('puts the last test fraction last and validation right before it', () => {
    const b = splitBounds(tl, { testFraction: 0.2, validFraction: 0.1 });
    assert.deepEqual(b, { validStart: 7000, testStart: 8000, end: 10_000 });
    const from = splitBounds(tl, { testFrom: tl.start + 60 * 9000 + 1, validFraction: 0 });
    assert.deepEqual(from, { validStart: 9001, testStart: 9001, end: 10_000 });
    assert.throws(
      () => splitBounds(tl, { testFrom: tl.start - 60 }),
      (e: unknown) => e instanceof InputError && /--from/.test(e.message),
    );
    assert.throws(() => splitBounds(tl, { testFraction: 1.5 }), /--test-fraction/);
  });

  it('never lets a target fall in two splits, keeps time order, and honours the gap', () => {
    const b = splitBounds(tl, { testFraction: 0.2, validFraction: 0.1 });
    for (const gap of [0, 240 + H]) {
      const s = splitOrigins(b, H, { gap });
      const lastTrainTarget = s.train[s.train.length - 1] + H;
      assert.equal(lastTrainTarget, b.validStart - 1);
      assert.equal(s.valid[0] + 1, b.validStart + gap);
      assert.equal(s.valid[s.valid.length - 1] + H, b.testStart - 1);
      assert.equal(s.test[0] + 1, b.testStart + gap);
      assert.equal(s.test[s.test.length - 1] + H, b.end - 1);
      for (const o of [s.train, s.valid, s.test])
        for (let i = 1; i < o.length; i++) assert.ok(o[i] > o[i - 1]);
    }
  });

  it('samples training origins with a stride and a minimum history', () => {
    assert.deepEqual(Array.from(originsIn(0, 50, 10, { stride: 7 })), [0, 7, 14, 21, 28, 35]);
    assert.deepEqual(Array.from(originsIn(0, 50, 10, { stride: 7, minHistory: 5 })), [4, 11, 18, 25, 32, 39]);
    assert.equal(originsIn(100, 120, 30).length, 0);
    assert.throws(() => originsIn(0, 50, 10, { stride: 0 }), /stride/);
  });

  it('cuts a rolling-origin backtest into successive folds, each trained on all data before it', () => {
    const b = splitBounds(tl, { testFraction: 0.3, validFraction: 0.1 });
    const folds = backtestBounds(b, 3, 1000);
    assert.equal(folds.length, 3);
    assert.equal(folds[0].testStart, b.testStart);
    assert.equal(folds[2].end, b.end);
    for (let k = 1; k < 3; k++) assert.equal(folds[k].testStart, folds[k - 1].end);
    for (const f of folds) assert.equal(f.testStart - f.validStart, 1000);
    assert.throws(() => backtestBounds(b, 0, 10), /--backtest/);
  });
});

describe('dataset: batches', () => {
  const n = 600;
  const tl = syntheticTimeline({ minutes: n, capacity: 100, busy: (t) => t % 100 });
  const fm = buildFeatures(tl);
  const data = makeDataset(tl, fm, H);
  const bi = featureIndex(fm.spec, 'busy_nodes');

  it('lays out x as (B, T, F) row-major with left zero padding and valid lengths', () => {
    const T = 8;
    const origins = Int32Array.from([3, 7, 100]);
    const b = makeBatch(data, origins, { lookback: T });
    assert.equal(b.B, 3);
    assert.equal(b.T, T);
    assert.equal(b.F, fm.F);
    assert.equal(b.x.length, 3 * T * fm.F);
    assert.deepEqual(Array.from(b.lengths), [4, 8, 8]);
    const x = (s: number, t: number, f: number) => b.x[(s * T + t) * b.F + f];
    // sample 0 (origin 3): 4 zero rows then rows 0..3
    for (let t = 0; t < 4; t++) for (let f = 0; f < b.F; f++) assert.equal(x(0, t, f), 0);
    assert.deepEqual(
      [4, 5, 6, 7].map((t) => Math.round(x(0, t, bi) * 100)),
      [0, 1, 2, 3],
    );
    // sample 2 (origin 100): rows 93..100, busy = t % 100
    assert.deepEqual(
      Array.from({ length: T }, (_, t) => Math.round(x(2, t, bi) * 100)),
      [93, 94, 95, 96, 97, 98, 99, 0],
    );
  });

  it('targets are busy nodes at t+1..t+H, NaN past the end', () => {
    const b = makeBatch(data, Int32Array.from([10, n - 2]), { lookback: 4 });
    assert.deepEqual(Array.from(b.y.subarray(0, 3)), [11, 12, 13]);
    assert.equal(b.y[H - 1], 40);
    assert.equal(b.y[H], n - 1 - 500);
    assert.ok(Number.isNaN(b.y[H + 1]));
  });

  it('skips x for series forecasters and batches in order', () => {
    const b = makeBatch(data, Int32Array.from([5]), { withX: false });
    assert.equal(b.T, 0);
    assert.equal(b.x.length, 0);
    const all = [...batches(data, originsIn(0, n, H), 100, { lookback: 4 })];
    assert.equal(
      all.reduce((s, x) => s + x.B, 0),
      n - H,
    );
    assert.equal(all[0].origins[0], 0);
    assert.equal(all[all.length - 1].origins[all[all.length - 1].B - 1], n - 1 - H);
  });
});

describe('dataset: prepareData', () => {
  it('builds features, a time-ordered split and a scaler fitted on the training rows only', () => {
    const tl = syntheticTimeline({ minutes: 5000, busy: (t) => (t < 3500 ? t % 40 : 90) });
    const p = prepareData(tl, {
      horizon: H,
      split: { testFraction: 0.2, validFraction: 0.1 },
      trainStride: 10,
    });
    assert.equal(p.data.features.spec.historyLead, H);
    assert.equal(p.split.bounds.validStart, 3500);
    assert.equal(p.split.train[1] - p.split.train[0], 10);
    const ref = StandardScaler.fit(p.data.features.data, p.data.features.F, p.data.features.spec.names, {
      from: 0,
      to: 3500,
    });
    assert.deepEqual(p.scaler.toJSON(), ref.toJSON());
    const b = makeBatch(p.data, p.split.test.subarray(0, 2), { lookback: 3, x: p.x });
    const i = featureIndex(p.data.features.spec, 'busy_nodes');
    const last = b.x[(0 * b.T + 2) * b.F + i];
    const t = p.split.test[0];
    assert.ok(Math.abs(last - (tl.columns.busy_nodes[t] / 100 - ref.mean[i]) / ref.std[i]) < 1e-5);
  });
});
