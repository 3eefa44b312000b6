import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineFactories, evaluate } from '../../src/evaluate/evaluate.js';
import { formatTable, resultToJson } from '../../src/evaluate/report.js';
import { type Batch, fitScaler, makeDataset, splitBounds } from '../../src/model/dataset.js';
import { buildFeatures, featureIndex } from '../../src/model/features.js';
import type { Forecaster } from '../../src/model/forecaster.js';
import { rng, syntheticTimeline } from '../helpers/model-synthetic.js';

const H = 30;
const r = rng(3);
// 16 days with a daily cycle, steps and noise
const noise = Float64Array.from({ length: 16 * 1440 }, () => Math.round((r() - 0.5) * 6));
const tl = syntheticTimeline({
  minutes: 16 * 1440,
  capacity: 120,
  busy: (t) =>
    Math.max(0, Math.min(120, Math.round(60 + 40 * Math.sin((2 * Math.PI * t) / 1440)) + noise[t])),
});
const features = buildFeatures(tl);
const data = makeDataset(tl, features, H);

/** A window forecaster (like the neural model): reads the last history row of batch.x, scaled by its own scaler. */
function windowPersistence(): Forecaster {
  const scaler = fitScaler(features, splitBounds(tl, {}));
  const i = featureIndex(features.spec, 'busy_nodes');
  return {
    name: 'window_persistence',
    window: { lookback: 16, scaler, featureSpec: features.spec },
    fit() {},
    predict(b: Batch) {
      const p50 = new Float32Array(b.B * b.H);
      for (let s = 0; s < b.B; s++) {
        const scaled = b.x[(s * b.T + b.T - 1) * b.F + i];
        p50.fill((scaled * scaler.std[i] + scaler.mean[i]) * b.data.capacity, s * b.H, (s + 1) * b.H);
      }
      return { p50 };
    },
  };
}

describe('evaluate', () => {
  it('writes the documented JSON shape for the four baselines', async () => {
    const res = await evaluate(data, baselineFactories(), { split: { testFraction: 0.2 } });
    const json = JSON.parse(JSON.stringify(resultToJson(res)));
    assert.deepEqual(
      json.horizons,
      Array.from({ length: H }, (_, k) => k + 1),
    );
    assert.deepEqual(Object.keys(json.models), ['persistence', 'seasonal_day', 'seasonal_week', 'ridge']);
    for (const m of Object.values(json.models) as Array<Record<string, unknown>>) {
      for (const k of ['mae', 'rmse', 'mape', 'r2', 'coverage_p10_p90', 'interval_width']) {
        const a = m[k] as Array<number | null>;
        assert.equal(a.length, H, k);
        assert.ok(a.every((v) => v === null || typeof v === 'number'));
      }
      assert.equal(typeof (m.mean as Record<string, number>).mae, 'number');
    }
    assert.equal(json.split.folds.length, 1);
    assert.equal(json.split.test_samples, res.testSamples);
    // every baseline reports coverage; ridge beats persistence on this cyclic series at h=30
    for (const name of res.order) assert.ok(res.models[name].metrics.coverage_p10_p90.every((c) => c > 0.5));
    assert.ok(res.models.ridge.metrics.rmse[H - 1] < res.models.persistence.metrics.rmse[H - 1]);
    // the sample trace covers the last week of target minutes, or the whole test period when shorter
    const testMinutes = tl.minutes - res.folds[0].testStart;
    assert.equal(res.sample!.actual.length, Math.min(7 * 1440, testMinutes));
    assert.equal(res.sample!.start, tl.start + 60 * (tl.minutes - testMinutes));
    assert.ok(res.sample!.models.ridge.p90 && res.sample!.models.ridge.p50.some(Number.isFinite));
  });

  it('runs a window forecaster through the same path (scaled x, its lookback) and matches persistence', async () => {
    const res = await evaluate(data, [baselineFactories()[0], windowPersistence], {
      split: { testFraction: 0.1 },
    });
    const a = res.models.persistence.metrics.mae;
    const b = res.models.window_persistence.metrics.mae;
    for (let h = 0; h < H; h++) assert.ok(Math.abs(a[h] - b[h]) < 1e-3, `h=${h + 1}: ${a[h]} vs ${b[h]}`);
    assert.ok(
      res.models.window_persistence.metrics.coverage_p10_p90.every(Number.isNaN),
      'no band, no coverage',
    );
  });

  it('rejects a window forecaster trained on other features', async () => {
    const bad = (): Forecaster => ({
      ...windowPersistence(),
      window: { lookback: 4, featureSpec: { ...features.spec, names: ['a', 'b'] } },
    });
    await assert.rejects(evaluate(data, [bad], {}), /trained on features \[a, b\]/);
  });

  it('builds the features of a window forecaster with its own spec (time zone) when it differs', async () => {
    const kolkata = buildFeatures(tl, { timeZone: 'Asia/Kolkata' });
    const hi = featureIndex(kolkata.spec, 'hour_sin');
    let seen: { origin: number; v: number } | null = null;
    const probe = (): Forecaster => ({
      name: 'probe',
      window: { lookback: 2, featureSpec: kolkata.spec },
      fit() {},
      predict(b: Batch) {
        seen ??= { origin: b.origins[0], v: b.x[(0 * b.T + b.T - 1) * b.F + hi] };
        return { p50: new Float32Array(b.B * b.H) };
      },
    });
    await evaluate(data, [probe], { split: { testFraction: 0.05 } });
    assert.ok(seen);
    const { origin, v } = seen as { origin: number; v: number };
    assert.equal(v, kolkata.data[origin * kolkata.F + hi]);
    assert.notEqual(v, features.data[origin * features.F + hi]);
  });

  it('backtests over successive folds, refitting each model before each fold', async () => {
    let made = 0;
    const counting = () => {
      made++;
      return baselineFactories()[1]();
    };
    const res = await evaluate(data, [counting], { split: { testFraction: 0.3 }, backtest: 3 });
    assert.equal(made, 3);
    assert.equal(res.folds.length, 3);
    for (let k = 1; k < 3; k++) assert.equal(res.folds[k].testStart, res.folds[k - 1].end);
    const m = res.models.seasonal_day;
    assert.equal(m.folds.length, 3);
    // pooled sample count = sum over folds
    assert.equal(m.metrics.n[0], res.testSamples);
    const json = JSON.parse(JSON.stringify(resultToJson(res)));
    assert.equal(json.models.seasonal_day.folds.length, 3);
  });

  it('prints a table of models by h=1/5/10/30 and the mean', async () => {
    const res = await evaluate(data, baselineFactories().slice(0, 2), {
      split: { testFraction: 0.2 },
      evalStride: 5,
    });
    const t = formatTable(res);
    const lines = t.split('\n');
    assert.match(lines[0], /^metric\s+model\s+h=1\s+h=5\s+h=10\s+h=30\s+mean$/);
    for (const label of ['MAE', 'RMSE', 'MAPE %', 'R2', 'P10-P90 cov']) {
      assert.ok(
        lines.some((l) => l.startsWith(label) && l.includes('persistence')),
        label,
      );
    }
  });
});
