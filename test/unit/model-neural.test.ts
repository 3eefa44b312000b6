import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeedModel } from '../../src/engine/net/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import { makeBatch, prepareData } from '../../src/model/dataset.js';
import {
  coarsen,
  coarseSteps,
  initNeural,
  type NeuralConfig,
  NeuralForecaster,
  quantileHead,
  quantileLoss,
  seedConfigOf,
} from '../../src/model/neural.js';
import { rng } from '../helpers/model-synthetic.js';
import { tinyTimeline } from '../helpers/train-fixture.js';

const tl = tinyTimeline(1200);
const prep = prepareData(tl, { horizon: 5 });
const F = prep.data.features.F;

function forecaster(resolution: number, nowEveryStep = false): NeuralForecaster {
  const cfg: NeuralConfig = {
    nowEveryStep,
    lookback: 24,
    resolution,
    features: F,
    hidden: 8,
    layers: 2,
    heads: 2,
    headHidden: 8,
    dropout: 0.2,
    horizon: 5,
  };
  const model = new SeedModel(new Engine(), seedConfigOf(cfg), 32, coarseSteps(cfg));
  initNeural(model, 5, 11);
  // non-zero last layer so the outputs depend on the input
  const r = rng(5);
  const w = model.e.f32(model.fc2.weight.ptr, model.fc2.weight.size);
  for (let i = 0; i < w.length; i++) w[i] = (r() - 0.5) * 2;
  return new NeuralForecaster(
    {
      config: cfg,
      featureSpec: prep.data.features.spec,
      scaler: prep.scaler,
      target: { kind: 'delta', scale: 4 },
    },
    { model },
  );
}

describe('neural forecaster', () => {
  it('coarsens a window to group means + last minutes; padding does not leak in', () => {
    // B=1, T=6, F=1, r=3, 4 valid minutes [_, _, 1, 2, 3, 4]
    const x = Float32Array.from([9, 9, 1, 2, 3, 4]);
    const out = new Float32Array(4);
    const len = new Int32Array(1);
    coarsen(1, 6, 1, 3, x, [4], out, len);
    assert.deepEqual(Array.from(out), [1, 1, 3, 4]);
    assert.equal(len[0], 2);
    // with the origin minute in every step
    const out3 = new Float32Array(6);
    coarsen(1, 6, 1, 3, x, [4], out3, len, true);
    assert.deepEqual(Array.from(out3), [1, 1, 4, 3, 4, 4]);
  });

  it('P10 <= P50 <= P90 for every sample and horizon', () => {
    const r = rng(1);
    const raw = Float32Array.from({ length: 4 * 15 }, () => (r() - 0.5) * 40);
    const [a, b, c] = [new Float32Array(20), new Float32Array(20), new Float32Array(20)];
    quantileHead(4, 5, raw, a, b, c);
    for (let i = 0; i < 20; i++) assert.ok(b[i] <= a[i] && a[i] <= c[i]);
    for (const res of [1, 4]) {
      const f = forecaster(res);
      const batch = makeBatch(
        prep.data,
        Int32Array.from({ length: 30 }, (_, i) => 30 + i * 37),
        { lookback: 24, x: prep.x },
      );
      const p = f.predict(batch);
      for (let i = 0; i < p.p50.length; i++) assert.ok(p.p10![i] <= p.p50[i] && p.p50[i] <= p.p90![i]);
    }
  });

  it('a short history gives the same forecast as the same history padded to the full window', () => {
    for (const [res, now] of [
      [1, false],
      [4, false],
      [4, true],
      [1, true],
    ] as const) {
      const f = forecaster(res, now);
      // origins 5 and 10 have 6 and 11 valid minutes (< 24): makeBatch left-pads them
      const full = makeBatch(prep.data, Int32Array.from([5, 10, 500]), { lookback: 24, x: prep.x });
      assert.deepEqual(Array.from(full.lengths), [6, 11, 24]);
      const a = f.raw(3, full.x, full.lengths);
      // the same windows with garbage in the padded rows: identical outputs
      const x = Float32Array.from(full.x);
      for (let b = 0; b < 2; b++)
        for (let t = 0; t < 24 - full.lengths[b]; t++) x.fill(123, (b * 24 + t) * F, (b * 24 + t + 1) * F);
      assert.deepEqual(f.raw(3, x, full.lengths), a);
      // one sample alone gives the same as inside the batch (eval mode)
      assert.deepEqual(f.raw(1, full.x.subarray(0, 24 * F), [6]), a.subarray(0, 15));
    }
  });

  it('starts as persistence: a fresh model predicts busy(t) for every horizon', () => {
    const cfg: NeuralConfig = {
      lookback: 24,
      resolution: 4,
      features: F,
      hidden: 8,
      layers: 1,
      heads: 2,
      headHidden: 8,
      dropout: 0,
      horizon: 5,
    };
    const model = new SeedModel(new Engine(), seedConfigOf(cfg), 8, coarseSteps(cfg));
    initNeural(model, 5, 3);
    const f = new NeuralForecaster(
      {
        config: cfg,
        featureSpec: prep.data.features.spec,
        scaler: prep.scaler,
        target: { kind: 'delta', scale: 4 },
      },
      { model },
    );
    const batch = makeBatch(prep.data, Int32Array.from([100, 200]), { lookback: 24, x: prep.x });
    const p = f.predict(batch);
    for (let i = 0; i < 10; i++) assert.equal(p.p50[i], prep.data.busy[batch.origins[Math.floor(i / 5)]]);
  });

  it('the quantile loss gradient matches finite differences', () => {
    const B = 3;
    const H = 4;
    const r = rng(9);
    const raw = Float64Array.from({ length: B * 3 * H }, () => (r() - 0.5) * 3);
    const y = Float32Array.from({ length: B * H }, () => (r() - 0.5) * 3);
    const w = { delta: 0.7, smooth: 0.3, quantile: 0.8 };
    const g = new Float32Array(B * 3 * H);
    quantileLoss(B, H, Float32Array.from(raw), y, w, g);
    // the median's gradient (the p10/p90 terms are stop-gradient w.r.t. it) and the spreads'
    const lossAt = (v: Float64Array, onlyQ: boolean) => {
      const parts = quantileLoss(B, H, Float32Array.from(v), y, w, new Float32Array(B * 3 * H));
      return onlyQ ? w.quantile * parts.pinball : parts.huber + w.smooth * parts.smooth;
    };
    const eps = 1e-3;
    for (let i = 0; i < raw.length; i++) {
      const isMedian = i % (3 * H) < H;
      const p = Float64Array.from(raw);
      const m = Float64Array.from(raw);
      p[i] += eps;
      m[i] -= eps;
      const fd = (lossAt(p, !isMedian) - lossAt(m, !isMedian)) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) < 2e-3, `raw[${i}]: analytic ${g[i]} vs finite difference ${fd}`);
    }
  });
});
