/**
 * A child process for the kill -9 checkpoint test (test/unit/faults-checkpoint.test.ts), not a test itself:
 *
 *   checkpoint-saver.ts DIR [COUNT]
 *
 * saves seed-size checkpoints (Resolution 1, Hidden 128, HeadHidden 128, lookback 240: ~1.2 M weights)
 * into DIR back to back, each with a `last`-style train state (Adam m and v, as big again), COUNT times
 * (default: until killed). Save number k has every weight, buffer and state value = k / 1024 (exact in f32),
 * so a reader can tell which save it loaded and that nothing is mixed. A restarted saver continues from the
 * number in DIR's checkpoint + 1. After each completed save it prints `saved k` on stdout.
 */
import { SeedModel } from '../../src/engine/net/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import { loadNeural, saveCheckpoint } from '../../src/model/checkpoint.js';
import { buildFeatures } from '../../src/model/features.js';
import { coarseSteps, type NeuralConfig, seedConfigOf } from '../../src/model/neural.js';
import { StandardScaler } from '../../src/model/scaler.js';
import { tinyTimeline } from './train-fixture.js';

const SAVE_SCALE = 1024;

const [dir, countArg] = process.argv.slice(2);
const count = countArg ? Number(countArg) : Number.POSITIVE_INFINITY;
const tl = tinyTimeline(300);
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
const scaler = StandardScaler.fit(fm.data, fm.F, fm.spec.names, { from: 0, to: 300 });
let first = 1;
try {
  const f = loadNeural(dir);
  first = Math.round(f.model.e.f32(f.model.store.params[0].ptr, 1)[0] * SAVE_SCALE) + 1;
} catch {}
const values = model.store.values(model.e);
const m = new Float32Array(values.length);
const v = new Float32Array(values.length);
for (let k = first; k < first + count; k++) {
  const x = k / SAVE_SCALE;
  values.fill(x);
  for (const b of Object.values(model.bn.buffers(model.e))) b.fill(x);
  m.fill(x);
  v.fill(x);
  await saveCheckpoint(
    dir,
    model,
    {
      config: cfg,
      featureSpec: fm.spec,
      scaler,
      target: { kind: 'delta', scale: 1 },
      capacity: tl.capacity,
      training: { save: k },
    },
    { tensors: { 'adam.m': m, 'adam.v': v }, json: { save: k } },
  );
  process.stdout.write(`saved ${k}\n`);
}
