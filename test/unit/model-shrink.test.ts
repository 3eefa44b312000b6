import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SeedModel } from '../../src/engine/net/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import {
  loadNeural,
  MANIFEST,
  type Manifest,
  readManifest,
  saveCheckpoint,
  writeShrink,
} from '../../src/model/checkpoint.js';
import { makeBatch, prepareData } from '../../src/model/dataset.js';
import {
  coarseSteps,
  fitShrink,
  initNeural,
  NeuralForecaster,
  quantileHead,
  SHRINK_GRID,
  seedConfigOf,
  type TargetTransform,
} from '../../src/model/neural.js';
import { writeTimelineCsv } from '../../src/timeline/csv.js';
import { train } from '../../src/train/trainer.js';
import { InputError } from '../../src/util/errors.js';
import { rng } from '../helpers/model-synthetic.js';
import { tinyModel, tinyNeuralConfig, tinyTimeline, tinyTrain } from '../helpers/train-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-shrink-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const H = 5;
const tl = tinyTimeline(1500);
const prep = prepareData(tl, { horizon: H });
const cfg = tinyNeuralConfig(prep.data.features.F, { layers: 1, heads: 2, dropout: 0, horizon: H });
const SCALE = 3.5;

/** A model with random (non-zero) last-layer weights, so its forecast is not persistence. */
function randomModel(seed: number): SeedModel {
  const model = new SeedModel(new Engine(), seedConfigOf(cfg), 64, coarseSteps(cfg));
  initNeural(model, H, seed);
  const r = rng(seed);
  const fc2 = model.e.f32(model.fc2.weight.ptr, model.fc2.weight.size);
  for (let i = 0; i < fc2.length; i++) fc2[i] = (r() - 0.5) * 0.6;
  return model;
}

function forecaster(model: SeedModel, target: TargetTransform): NeuralForecaster {
  return new NeuralForecaster(
    { config: cfg, featureSpec: prep.data.features.spec, scaler: prep.scaler, target },
    { model },
  );
}

const origins = Int32Array.from([3, 50, 400, 700, 900, 1200, 1300, 1400]);
const batch = makeBatch(prep.data, origins, { lookback: cfg.lookback, x: prep.x });
const cap = prep.data.capacity;
/** The forecast with its band (a NeuralForecaster always has one). */
function predictAll(f: NeuralForecaster): { p50: Float32Array; p10: Float32Array; p90: Float32Array } {
  const r = f.predict(batch);
  assert.ok(r.p10 && r.p90);
  return { p50: r.p50 as Float32Array, p10: r.p10 as Float32Array, p90: r.p90 as Float32Array };
}
const clip = (v: number) => Math.min(Math.max(v, 0), cap);

describe('shrinkage toward persistence', () => {
  it('α = 1 gives exactly the unshrunk forecast: busy(t) + Δ·scale from the raw outputs', () => {
    const model = randomModel(5);
    const plain = predictAll(forecaster(model, { kind: 'delta', scale: SCALE }));
    const ones = predictAll(forecaster(model, { kind: 'delta', scale: SCALE, shrink: new Array(H).fill(1) }));
    assert.deepEqual(ones.p50, plain.p50);
    assert.deepEqual(ones.p10, plain.p10);
    assert.deepEqual(ones.p90, plain.p90);
    // and that is the documented transform of the raw outputs
    const f = forecaster(model, { kind: 'delta', scale: SCALE });
    const raw = f.raw(batch.B, batch.x, batch.lengths);
    const d50 = new Float32Array(batch.B * H);
    const d10 = new Float32Array(batch.B * H);
    const d90 = new Float32Array(batch.B * H);
    quantileHead(batch.B, H, raw, d50, d10, d90);
    for (let b = 0; b < batch.B; b++)
      for (let h = 0; h < H; h++) {
        const i = b * H + h;
        const now = batch.data.busy[origins[b]];
        assert.equal(plain.p50[i], Math.fround(clip(now + d50[i] * SCALE)));
        assert.equal(plain.p10[i], Math.fround(clip(now + d10[i] * SCALE)));
      }
    assert.ok(
      plain.p50.some((v, i) => v !== batch.data.busy[origins[Math.floor(i / H)]]),
      'the model is not persistence',
    );
  });

  it('α = 0 is persistence for P50; the band keeps its width, moved with the median', () => {
    const model = randomModel(6);
    const plain = predictAll(forecaster(model, { kind: 'delta', scale: SCALE }));
    const zero = predictAll(forecaster(model, { kind: 'delta', scale: SCALE, shrink: new Array(H).fill(0) }));
    for (let b = 0; b < batch.B; b++)
      for (let h = 0; h < H; h++) {
        const i = b * H + h;
        const now = batch.data.busy[origins[b]];
        assert.equal(zero.p50[i], now);
        assert.ok(zero.p10[i] <= zero.p50[i] && zero.p50[i] <= zero.p90[i]);
        // width unchanged where neither band is clipped at 0 or capacity
        const clipped = [plain.p10[i], plain.p90[i], zero.p10[i], zero.p90[i]].some(
          (v) => v <= 0 || v >= cap,
        );
        if (!clipped) assert.ok(Math.abs(zero.p90[i] - zero.p10[i] - (plain.p90[i] - plain.p10[i])) < 1e-3);
      }
  });

  it('the fit picks the per-horizon MAE minimiser of the grid', () => {
    // h = 0: the truth moves half the predicted change; h = 1: all of it; h = 2: none (pure noise)
    const B = 200;
    const r = rng(11);
    const now = new Float64Array(B);
    const d = new Float64Array(B * 3);
    const y = new Float64Array(B * 3);
    for (let b = 0; b < B; b++) {
      now[b] = 50 + Math.floor(r() * 20);
      for (let h = 0; h < 3; h++) d[b * 3 + h] = (r() - 0.5) * 20;
      y[b * 3] = now[b] + 0.5 * d[b * 3];
      y[b * 3 + 1] = now[b] + d[b * 3 + 1];
      y[b * 3 + 2] = now[b];
    }
    const alpha = fitShrink(B, 3, now, d, y, 100);
    assert.deepEqual(alpha, [0.5, 1, 0]);
    // brute force on a mixed case: the chosen α has the lowest MAE of the grid
    for (let b = 0; b < B; b++) y[b * 3 + 2] = now[b] + 0.3 * d[b * 3 + 2] + (r() - 0.5) * 6;
    const a2 = fitShrink(B, 3, now, d, y, 100)[2];
    const mae = (a: number) => {
      let s = 0;
      for (let b = 0; b < B; b++)
        s += Math.abs(Math.min(Math.max(now[b] + a * d[b * 3 + 2], 0), 100) - y[b * 3 + 2]);
      return s / B;
    };
    for (const a of SHRINK_GRID) assert.ok(mae(a2) <= mae(a), `α ${a2} (MAE ${mae(a2)}) vs ${a} (${mae(a)})`);
  });

  it('a checkpoint without the field loads and predicts as before; a stored α is applied and checked', async () => {
    const model = randomModel(7);
    const f = forecaster(model, { kind: 'delta', scale: SCALE });
    const dir = join(tmp, 'old');
    const m: Manifest = await saveCheckpoint(dir, model, {
      config: cfg,
      featureSpec: prep.data.features.spec,
      scaler: prep.scaler,
      target: { kind: 'delta', scale: SCALE },
      capacity: tl.capacity,
    });
    assert.equal(m.target.shrink, undefined);
    assert.equal(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')).target.shrink, undefined);
    const g = loadNeural(dir);
    assert.equal(g.shrink, null);
    const a = f.predict(batch);
    assert.deepEqual(g.predict(batch).p50, a.p50);
    assert.deepEqual(g.predict(batch).p90, a.p90);
    // stored α: loaded and applied (α = 0 at every h: P50 = persistence)
    writeShrink(dir, new Array(H).fill(0), { note: 'test' });
    assert.deepEqual(readManifest(dir).target.shrink, new Array(H).fill(0));
    const z = loadNeural(dir).predict(batch);
    for (let i = 0; i < z.p50.length; i++)
      assert.equal(z.p50[i], batch.data.busy[origins[Math.floor(i / H)]]);
    // a bad stored α is a clear error
    const bad = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    bad.target.shrink = [1, 1, 2, 1, 1];
    writeFileSync(join(dir, MANIFEST), JSON.stringify(bad));
    assert.throws(
      () => readManifest(dir),
      (e: Error) => e instanceof InputError && /target\.shrink/.test(e.message),
    );
  });

  it("train writes α (and the untrained model's validation) into the best model", async () => {
    const out = join(tmp, 'trained');
    const res = await train(tinyTimeline(), { model: tinyModel(), train: tinyTrain({ Epochs: 2 }), out });
    const m = readManifest(out);
    const alpha = m.target.shrink;
    assert.ok(Array.isArray(alpha) && alpha.length === 5);
    assert.ok(alpha.every((a) => SHRINK_GRID.includes(a)));
    assert.deepEqual(res.shrink?.alpha, alpha);
    assert.ok(res.shrink && res.shrink.val_mae_after <= res.shrink.val_mae_before + 1e-9);
    assert.deepEqual(loadNeural(out).shrink, Float64Array.from(alpha));
    // "epoch 0": the untrained model is persistence for P50
    assert.ok(res.untrained);
    assert.ok(Math.abs(res.untrained.val_mae - res.untrained.val_mae_persistence) < 1e-9);
    assert.equal(typeof res.beatsUntrained, 'boolean');
    const hist = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    assert.equal(hist.history.length, 2);
    assert.deepEqual(hist.untrained, res.untrained);
    assert.equal(hist.best_beats_untrained, res.beatsUntrained);
    assert.deepEqual(hist.shrink.alpha, alpha);
  });

  it('pcm evaluate applies the stored α; --no-shrink evaluates the raw network (α = 1)', async () => {
    const out = join(tmp, 'eval-model');
    const timeline = tinyTimeline();
    await train(timeline, { model: tinyModel(), train: tinyTrain({ Epochs: 2, LearningRate: 1e-2 }), out });
    writeShrink(out, new Array(5).fill(0), { note: 'test: persistence' });
    const csv = join(tmp, 'eval-timeline.csv');
    writeTimelineCsv(csv, timeline);
    const root = join(import.meta.dirname, '..', '..');
    const run = (...extra: string[]) => {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'evaluate',
          '--timeline',
          csv,
          '--model',
          out,
          '--horizon',
          '5',
        ].concat(['--json', '-'], extra),
        { cwd: root, encoding: 'utf8', env: { ...process.env, PCM_NO_PROGRESS: '1' } },
      );
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { model_shrink: boolean; models: Record<string, { mae: number[] }> };
    };
    const shrunk = run();
    assert.equal(shrunk.model_shrink, true);
    assert.deepEqual(shrunk.models.neural.mae, shrunk.models.persistence.mae);
    const raw = run('--no-shrink');
    assert.equal(raw.model_shrink, false);
    assert.notDeepEqual(raw.models.neural.mae, raw.models.persistence.mae);
  });
});
