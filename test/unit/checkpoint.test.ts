import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SeedModel } from '../../src/engine/net/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import {
  CHECKPOINT_VERSION,
  loadNeural,
  MANIFEST,
  type Manifest,
  saveCheckpoint,
} from '../../src/model/checkpoint.js';
import { makeBatch, prepareData } from '../../src/model/dataset.js';
import { coarseSteps, initNeural, NeuralForecaster, seedConfigOf } from '../../src/model/neural.js';
import { openForecaster } from '../../src/model/open.js';
import { SAVE_LOCK } from '../../src/model/save-lock.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { rng } from '../helpers/model-synthetic.js';
import { tinyNeuralConfig, tinyTimeline } from '../helpers/train-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-ckpt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const tl = tinyTimeline(1500);
const prep = prepareData(tl, { horizon: 5 });
const cfg = tinyNeuralConfig(prep.data.features.F);

/** A model with random (non-zero) weights everywhere, wrapped as a forecaster. */
function randomForecaster(seed: number): NeuralForecaster {
  const model = new SeedModel(new Engine(), seedConfigOf(cfg), 64, coarseSteps(cfg));
  initNeural(model, cfg.horizon, seed);
  const r = rng(seed);
  const fc2 = model.e.f32(model.fc2.weight.ptr, model.fc2.weight.size);
  for (let i = 0; i < fc2.length; i++) fc2[i] = (r() - 0.5) * 0.3;
  const bn = model.bn.buffers(model.e);
  bn['bn.running_mean'].fill(0.1);
  bn['bn.running_var'].fill(1.7);
  return new NeuralForecaster(
    {
      config: cfg,
      featureSpec: prep.data.features.spec,
      scaler: prep.scaler,
      target: { kind: 'delta', scale: 3.5 },
    },
    { model },
  );
}

async function save(f: NeuralForecaster, dir: string): Promise<Manifest> {
  return saveCheckpoint(dir, f.model, {
    config: cfg,
    featureSpec: f.window.featureSpec,
    scaler: f.window.scaler,
    target: f.target,
    capacity: tl.capacity,
    training: { note: 'test' },
  });
}

const batch = makeBatch(prep.data, Int32Array.from([3, 50, 400, 900, 1200, 1300]), {
  lookback: 20,
  x: prep.x,
});

describe('checkpoint', () => {
  it('round-trips: the reloaded model predicts bit-exactly the same', async () => {
    const f = randomForecaster(7);
    const dir = join(tmp, 'rt');
    const m = await save(f, dir);
    assert.equal(m.version, CHECKPOINT_VERSION);
    const g = loadNeural(dir);
    const a = f.predict(batch);
    const b = g.predict(batch);
    assert.deepEqual(b.p50, a.p50);
    assert.deepEqual(b.p10, a.p10);
    assert.deepEqual(b.p90, a.p90);
    assert.ok(
      a.p50.some((v, i) => v !== batch.data.busy[batch.origins[Math.floor(i / 5)]]),
      'not persistence',
    );
    // the one model opener (evaluate, power replay, service) loads it too
    const h = openForecaster({ dir });
    assert.deepEqual(h.window?.lookback, 20);
    assert.deepEqual((await h.predict(batch)).p50, a.p50);
    // size: well under 50 MB, weights in a content-named file
    const files = readdirSync(dir);
    assert.ok(files.includes(MANIFEST) && files.some((x) => /^weights-[0-9a-f]{16}\.bin$/.test(x)));
  });

  it('opening a model trained on other features asks for a retrain', async () => {
    const dir = join(tmp, 'old-features');
    await save(randomForecaster(2), dir);
    const p = join(dir, MANIFEST);
    const m = JSON.parse(readFileSync(p, 'utf8'));
    m.feature_spec.names[0] = 'a_feature_this_build_does_not_make';
    writeFileSync(p, JSON.stringify(m));
    assert.equal(loadNeural(dir).window.featureSpec.names[0], 'a_feature_this_build_does_not_make');
    assert.throws(
      () => openForecaster({ dir }),
      (e: unknown) =>
        e instanceof UserError &&
        /trained on features this build does not make; retrain/.test((e as Error).message),
    );
  });

  it('a newer format version is a clear error', async () => {
    const dir = join(tmp, 'future');
    await save(randomForecaster(1), dir);
    const p = join(dir, MANIFEST);
    const m = JSON.parse(readFileSync(p, 'utf8'));
    m.version = CHECKPOINT_VERSION + 1;
    writeFileSync(p, JSON.stringify(m));
    assert.throws(
      () => loadNeural(dir),
      (e: unknown) => e instanceof InputError && /version 2 is newer.*upgrade pcm/.test((e as Error).message),
    );
  });

  it('corrupt, truncated or missing weights are clear errors', async () => {
    const dir = join(tmp, 'corrupt');
    const m = await save(randomForecaster(2), dir);
    const wp = join(dir, m.weights.file);
    const bytes = readFileSync(wp);
    bytes[100] ^= 0xff;
    writeFileSync(wp, bytes);
    assert.throws(() => loadNeural(dir), /is corrupt \(sha256 does not match/);
    writeFileSync(wp, bytes.subarray(0, 1000));
    assert.throws(() => loadNeural(dir), /has 1000 bytes, the manifest says/);
    rmSync(wp);
    assert.throws(
      () => loadNeural(dir),
      (e: unknown) => e instanceof InputError && /is missing/.test((e as Error).message),
    );
    assert.throws(
      () => loadNeural(join(tmp, 'nope')),
      (e: unknown) => e instanceof UserError && /no such directory/.test((e as Error).message),
    );
    const other = join(tmp, 'notjson');
    await save(randomForecaster(2), other);
    writeFileSync(join(other, MANIFEST), '{"format": "something-else"}');
    assert.throws(() => loadNeural(other), /format: expected "pcm-neural-forecaster"/);
  });

  it('a manifest cannot make the loader read a file outside the model directory', async () => {
    const dir = join(tmp, 'escape');
    await save(randomForecaster(3), dir);
    const p = join(dir, MANIFEST);
    const good = JSON.parse(readFileSync(p, 'utf8'));
    writeFileSync(join(tmp, 'outside.bin'), readFileSync(join(dir, good.weights.file)));
    for (const file of [
      '../outside.bin',
      '/etc/passwd',
      '../../../../etc/passwd',
      'sub/weights-0123456789abcdef.bin',
      'weights-x.bin\0',
      'model.json',
    ]) {
      const m = { ...good, weights: { ...good.weights, file } };
      writeFileSync(p, JSON.stringify(m));
      assert.throws(
        () => loadNeural(dir),
        (e: unknown) => e instanceof InputError && /is not a blob name/.test((e as Error).message),
        file,
      );
    }
  });

  it('saving again replaces the model and removes the old weights file', async () => {
    const dir = join(tmp, 'again');
    const m1 = await save(randomForecaster(3), dir);
    const m2 = await save(randomForecaster(4), dir);
    assert.notEqual(m1.weights.file, m2.weights.file);
    assert.deepEqual(readdirSync(dir).sort(), [MANIFEST, m2.weights.file].sort());
  });
});

describe('one saver per model directory (issue 15)', () => {
  it("a save while a live process holds the directory's lock is refused; a dead saver's lock is taken over", async () => {
    const dir = join(tmp, 'locked');
    await save(randomForecaster(5), dir);
    // a live other process (the parent of this test) holds the lock: refused, nothing of ours deleted
    writeFileSync(join(dir, SAVE_LOCK), `${process.ppid}\n`);
    const other = join(dir, '.weights-0123456789abcdef.bin.1.x.tmp'); // another saver's temp file
    writeFileSync(other, 'x');
    await assert.rejects(save(randomForecaster(6), dir), (e: unknown) => {
      return (
        e instanceof UserError && e.message.includes(`process ${process.ppid} is saving into this directory`)
      );
    });
    assert.ok(readdirSync(dir).includes('.weights-0123456789abcdef.bin.1.x.tmp'));
    // a lock of a process that is gone (pid far above pid_max): taken over, cleaned up, released
    writeFileSync(join(dir, SAVE_LOCK), '4194999\n');
    const m = await save(randomForecaster(6), dir);
    assert.deepEqual(readdirSync(dir).sort(), [MANIFEST, m.weights.file].sort());
  });
});
