/**
 * A child process for the kill -9 tests (not a test file itself):
 *   train OUT [resume]      trains the tiny model (train-fixture.ts) into OUT, 2 threads
 *   save OUT                saves checkpoints of a seed-size model in a loop, all weights = the iteration
 */
import { SeedModel } from '../../src/engine/model/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { buildFeatures } from '../../src/model/features.js';
import { coarseSteps, type NeuralConfig, seedConfigOf } from '../../src/model/neural.js';
import { StandardScaler } from '../../src/model/scaler.js';
import { train } from '../../src/train/trainer.js';
import { tinyModel, tinyTimeline, tinyTrain } from './train-fixture.js';

const [mode, out, flag] = process.argv.slice(2);
if (mode === 'train') {
  const res = await train(tinyTimeline(), {
    model: tinyModel(),
    train: tinyTrain({ Epochs: 8, Threads: 2 }),
    out,
    resume: flag === 'resume',
  });
  process.stdout.write(`${JSON.stringify(res.history)}\n`);
} else if (mode === 'save') {
  const tl = tinyTimeline(200);
  const fm = buildFeatures(tl);
  const cfg: NeuralConfig = {
    lookback: 240,
    resolution: 1,
    features: fm.F,
    hidden: 128,
    layers: 2,
    heads: 4,
    headHidden: 128,
    dropout: 0.2,
    horizon: 30,
  };
  const model = new SeedModel(new Engine(), seedConfigOf(cfg), 1, coarseSteps(cfg));
  const scaler = StandardScaler.fit(fm.data, fm.F, fm.spec.names, { from: 0, to: 200 });
  for (let i = 1; ; i++) {
    model.store.values(model.e).fill(i);
    for (const v of Object.values(model.bn.buffers(model.e))) v.fill(i);
    await saveCheckpoint(out, model, {
      config: cfg,
      featureSpec: fm.spec,
      scaler,
      target: { kind: 'delta', scale: 1 },
      capacity: tl.capacity,
    });
    if (i === 1) process.stdout.write('saved\n');
  }
}
