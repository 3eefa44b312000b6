/**
 * Training curves: the SVG drawn from history.json (three panels over the epochs), the file `pcm train`
 * writes beside history.json, and the service's GET /model/training-curves.svg for the dashboard.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildApp } from '../../src/service/app.js';
import { BaselineModel, type ServingModel } from '../../src/service/forecasters.js';
import { train } from '../../src/train/trainer.js';
import {
  CURVES_FILE,
  HISTORY_FILE,
  parseTrainingHistory,
  type TrainingHistory,
  trainingCurvesSvg,
} from '../../src/train/training-curves.js';
import { dailyTimeline, storeWith, testConfig } from '../helpers/service-helpers.js';
import { tinyModel, tinyTimeline, tinyTrain } from '../helpers/train-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-curves-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Four epochs: validation MAE falls below persistence (5) at epoch 3, the lr warms up then halves. */
function history(): TrainingHistory {
  const rec = (epoch: number, lr: number, tl: number, vl: number, mae: number, improved: boolean) => ({
    epoch,
    lr,
    train_loss: tl,
    val_loss: vl,
    val_mae: mae,
    val_coverage: 0.8,
    val_mae_persistence: 5,
    samples_per_s: 1000,
    epoch_seconds: 10,
    grad_norm: 0.1,
    improved,
  });
  return {
    history: [
      rec(0, 2e-4, 0.4, 0.35, 5.3, true),
      rec(1, 4e-4, 0.3, 0.3, 5.1, true),
      rec(2, 6e-4, 0.25, 0.28, 4.8, true),
      rec(3, 3e-4, 0.22, 0.29, 4.9, false),
    ],
    untrained: { val_loss: 0.37, val_mae: 5, val_coverage: 0.85, val_mae_persistence: 5 },
    best_beats_untrained: true,
    shrink: {
      alpha: [0, 0.5, 1],
      samples: 100,
      val_mae_before: 4.8,
      val_mae_after: 4.7,
      val_mae_persistence: 5,
      val_coverage_before: 0.8,
      val_coverage_after: 0.81,
    },
  };
}

/** The values of one polyline's points as [x, y] pixel pairs, from its path `d`. */
function points(d: string): number[][] {
  return [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('training curves SVG', () => {
  it('draws loss, validation MAE next to persistence and the learning rate, one panel each', () => {
    const svg = trainingCurvesSvg(history());
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="900" height="750"'));
    for (const title of ['>Loss<', '>Learning rate<', 'Validation P50 MAE'])
      assert.ok(svg.includes(title), title);
    // best epoch (the last improved one, 1-based) and the shrinkage at the last horizon in the title
    assert.match(svg, /best epoch 3; α at h=3: 1</);
    for (const name of ['>training<', '>validation<', '>model<', '>persistence<', '>learning rate<'])
      assert.ok(svg.includes(name), name);
    // one clip path per panel, each used by its own panel
    for (const id of ['loss', 'mae', 'lr']) {
      assert.equal(svg.split(`id="${id}"`).length, 2, id);
      assert.ok(svg.includes(`clip-path="url(#${id})"`), id);
    }
    // the validation MAE line starts at epoch 0 (the untrained model) and has 5 points; training loss 4
    const paths = [...svg.matchAll(/<path d="([^"]+)"[^>]*stroke="([^"]+)"/g)];
    const lens = paths.map((m) => points(m[1]).length);
    assert.deepEqual(lens, [4, 5, 5, 2, 1, 4], 'train loss, val loss, val MAE, persistence, shrunk best, lr');
    // the MAE falls from epoch 1 to 3: the y pixel grows downward
    const mae = points(paths[2][1]);
    assert.ok(mae[1][1] < mae[3][1], 'epoch 3 is drawn lower (better) than epoch 1');
    // whole epochs on the x axis only
    assert.ok(!/>0\.5</.test(svg) && !/>1\.5</.test(svg));
    // balanced groups, parseable as one document
    assert.equal((svg.match(/<g[ >]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
    assert.equal(svg.match(/<svg /g)?.length, 4, 'the document and three panels');
  });

  it('draws a model saved without the untrained record (older history.json)', () => {
    const h = history();
    delete h.untrained;
    delete h.shrink;
    const svg = trainingCurvesSvg(h);
    assert.ok(svg.includes('best epoch 3</text>'));
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => points(m[1]).length);
    assert.deepEqual(paths, [4, 4, 4, 2, 4]);
  });

  it('refuses a history.json that is not one, naming the field', () => {
    assert.throws(() => parseTrainingHistory('{', 'm/history.json'), /m\/history.json: not JSON/);
    assert.throws(() => parseTrainingHistory('{"epochs": []}', 'h'), /h: expected \{"history": \[epoch/);
    const bad = history();
    (bad.history[2] as unknown as Record<string, unknown>).val_mae = 'x';
    assert.throws(
      () => parseTrainingHistory(JSON.stringify(bad), 'h'),
      /h: history\[2\]\.val_mae: expected a number/,
    );
  });

  it('pcm train writes it beside history.json, from the same history', async () => {
    const out = join(tmp, 'tiny');
    await train(tinyTimeline(), {
      model: tinyModel({ Hidden: 8 }),
      train: tinyTrain({ Epochs: 3, SamplesPerEpoch: 256 }),
      out,
    });
    const svg = readFileSync(join(out, CURVES_FILE), 'utf8');
    const h = parseTrainingHistory(readFileSync(join(out, HISTORY_FILE), 'utf8'), 'history.json');
    assert.equal(h.history.length, 3);
    assert.ok(h.shrink, 'the final history.json (with the shrinkage) is the one drawn');
    assert.equal(svg, trainingCurvesSvg(h));
  });
});

describe('GET /model/training-curves.svg', () => {
  const cfg = (yaml = '') => testConfig(`Cluster:\n  Name: c\nService:\n  IngestGraceSeconds: 0\n${yaml}`);
  const { store, clock } = storeWith(dailyTimeline(600));
  const baseline = (c: ReturnType<typeof cfg>) =>
    new BaselineModel('persistence', c.Service.ContextMinutes, c.Service.RefitMinutes, {});
  /** The persistence baseline dressed as a trained model in `dir` (the route reads only the directory). */
  const trainedIn = (dir: string, c: ReturnType<typeof cfg>): ServingModel => {
    const b = baseline(c);
    return {
      name: 'neural',
      kind: 'trained',
      dir,
      contextMinutes: b.contextMinutes,
      forecast: (k, tl, h) => b.forecast(k, tl, h),
      info: (k) => b.info(k),
    };
  };

  it("serves the trained model's curves as SVG", async () => {
    const dir = join(tmp, 'served');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, HISTORY_FILE), JSON.stringify(history()));
    const c = cfg();
    const { app } = buildApp({ config: c, reader: store, forecaster: trainedIn(dir, c), clock: clock.now });
    const r = await app.inject({ method: 'GET', url: '/model/training-curves.svg' });
    assert.equal(r.statusCode, 200, r.body);
    assert.match(String(r.headers['content-type']), /^image\/svg\+xml/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(r.body, trainingCurvesSvg(history()));
  });

  it('answers 404 saying why when there are none: a baseline, or a directory without history', async () => {
    const c = cfg();
    const { app } = buildApp({ config: c, reader: store, forecaster: baseline(c), clock: clock.now });
    const r = await app.inject({ method: 'GET', url: '/model/training-curves.svg' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), {
      error: 'not_found',
      message: 'the served model is the persistence baseline: it has no training curves',
    });
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const { app: app2 } = buildApp({
      config: c,
      reader: store,
      forecaster: trainedIn(empty, c),
      clock: clock.now,
    });
    const r2 = await app2.inject({ method: 'GET', url: '/model/training-curves.svg' });
    assert.equal(r2.statusCode, 404);
    assert.match(
      r2.json().message,
      /no training curves for the model in .*empty: .*history\.json: not found/,
    );
    assert.ok(!existsSync(join(empty, CURVES_FILE)), 'the service writes nothing');
  });

  it('needs the token when reads are guarded', async () => {
    const token = 'correct-horse-battery-staple';
    const c = cfg(`  ApiToken: ${token}\n  RequireAuthForReads: true\n`);
    const { app } = buildApp({ config: c, reader: store, forecaster: baseline(c), clock: clock.now });
    const url = '/model/training-curves.svg';
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 401);
    const ok = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.statusCode, 404, 'past the guard: no curves for a baseline');
  });
});
