// Accuracy of our neural forecaster next to the PyTorch peer (the seed's model, PEER/seed_model.py)
// trained on the SAME windows for the SAME wall-clock budget, evaluated on the same test origins with the
// evaluator's metrics (src/evaluate/metrics.ts), persistence and ridge alongside.
//
//   node --import tsx bench/studies/peer-accuracy.ts --timeline X.csv --minutes M --peer PEER [--time-zone TZ]
//        [--holidays CC] [--model DIR] [--test-stride 10] [--threads 2] [--seed 1]
//        [--python /usr/bin/python3] [--torch-env "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2"]
//        [--peer-epoch 2048] [--peer-valid 512] [--ours-epoch 16384] [--keep DIR] [--json OUT]
//
// 1. Ours: `pcm train`'s trainer with the defaults (Model/Train sections) for M minutes on --threads threads,
//    or the model directory --model DIR (trained elsewhere, e.g. `pcm train --max-minutes M`).
// 2. The same data preparation as the trainer (src/model/dataset.ts prepareData: features, time-ordered
//    split 70/10/20, scaler fitted on the training rows): the scaled features (rows, F) and busy nodes as
//    .f32, the training origins (all of them, as the trainer samples from), --peer-valid evenly spaced
//    validation origins and the test origins (every --test-stride-th test minute) as .i32, with
//    header.json, in a temp dir (--keep DIR to keep it).
// 3. bench/studies/peer_train.py trains the seed model on them for M minutes (its own loss, Adam, schedule; see
//    that file) and writes its test predictions. Run after ours, never at the same time (2 cores).
// 4. Both, persistence and ridge through the evaluator on those test origins: MAE, RMSE, R² (the peer has
//    no quantiles, so no coverage).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, type ForecasterFactory } from '../../src/evaluate/evaluate.js';
import { resultToJson } from '../../src/evaluate/report.js';
import { type Batch, prepareData } from '../../src/model/dataset.js';
import type { Forecaster } from '../../src/model/forecaster.js';
import { openForecaster } from '../../src/model/open.js';
import { readTimelineCsv } from '../../src/timeline/csv.js';
import { ModelSchema, TrainSchema } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { strArg, usage } from '../lib/args.js';

function fail(msg: string): never {
  process.stderr.write(`peer-accuracy: ${msg}\n`);
  process.exit(1);
}

const SYNOPSIS = '--timeline X.csv --minutes M --peer PEER [options in the header of this file]';
const NOTES = [
  'X.csv: a minute timeline written by `pcm timeline` (docs/benchmarks.md gives the command per log)',
  "PEER: the folder holding the seed's PyTorch model, seed_model.py (SeedForecaster, seed_loss, train_step)",
];
const timelinePath = strArg('timeline') ?? usage(import.meta.url, SYNOPSIS, NOTES);
const minutes = Number(strArg('minutes') ?? usage(import.meta.url, SYNOPSIS, NOTES));
if (!(minutes > 0)) fail(`--minutes: expected a positive number, got ${strArg('minutes')}`);
const timeZone = strArg('time-zone', 'UTC')!;
const holidayCountry = strArg('holidays', '')!;
const testStride = Number(strArg('test-stride', '10'));
const threads = Number(strArg('threads', '2'));
const seed = Number(strArg('seed', '1'));
const peerDir = strArg('peer') ?? usage(import.meta.url, SYNOPSIS, NOTES);
const python = strArg('python', '/usr/bin/python3')!;
const torchEnv = strArg('torch-env', 'OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2')!;
const peerEpoch = Number(strArg('peer-epoch', '2048'));
const peerValid = Number(strArg('peer-valid', '512'));
const modelDir = strArg('model');
const keep = strArg('keep');
const jsonOut = strArg('json');

const loads = (): string =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
const log = (s: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${loads()}] ${s}\n`);
};

const tl = await readTimelineCsv(timelinePath);
const modelSection = ModelSchema.parse({});
const trainSection = TrainSchema.parse({
  MaxMinutes: minutes,
  Threads: threads,
  Seed: seed,
  SamplesPerEpoch: Number(strArg('ours-epoch', '16384')),
});
const features = { timeZone, holidayCountry };
const split = { testFraction: trainSection.TestFraction, validFraction: trainSection.ValidFraction };
const work = keep ?? mkdtempSync(join(tmpdir(), 'pcm-peer-'));
mkdirSync(work, { recursive: true });

// 1. ours
let oursDir = modelDir;
let oursSeconds = Number.NaN;
if (!oursDir) {
  oursDir = join(work, 'ours');
  log(`training ours for ${minutes} min on ${threads} threads → ${oursDir}`);
  const r = await train(tl, {
    model: modelSection,
    train: trainSection,
    features,
    out: oursDir,
    source: [timelinePath],
  });
  oursSeconds = r.seconds;
  if (r.history.length === 0)
    fail(`ours finished no epoch in ${minutes} min: give more --minutes or a smaller --ours-epoch`);
  log(
    `ours: ${r.history.length} epochs in ${r.seconds.toFixed(0)} s (${r.stoppedBy}), best epoch ${r.bestEpoch + 1}`,
  );
}
const ours = openForecaster({ dir: oursDir });

// 2. the trainer's data preparation, exported
const horizon = modelSection.Horizon;
const prep = prepareData(tl, { features, horizon, split, evalStride: testStride });
const { F } = prep.data.features;
const vAll = prep.split.valid;
const vStride = Math.max(1, Math.ceil(vAll.length / peerValid));
const valid = vAll.filter((_, i) => i % vStride === 0);
const test = prep.split.test;
const dataDir = join(work, 'peer');
mkdirSync(dataDir, { recursive: true });
const le = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength); // x86/arm: little-endian
writeFileSync(join(dataDir, 'x.f32'), le(prep.x));
writeFileSync(join(dataDir, 'busy.f32'), le(Float32Array.from(prep.data.busy)));
writeFileSync(join(dataDir, 'train.i32'), le(prep.split.train));
writeFileSync(join(dataDir, 'valid.i32'), le(valid));
writeFileSync(join(dataDir, 'test.i32'), le(test));
const header = {
  rows: prep.data.features.minutes,
  F,
  names: prep.data.features.spec.names,
  lookback: modelSection.LookbackMinutes,
  horizon,
  capacity: prep.data.capacity,
  split: prep.split.bounds,
  counts: { train: prep.split.train.length, valid: valid.length, test: test.length },
};
writeFileSync(join(dataDir, 'header.json'), `${JSON.stringify(header, null, 1)}\n`);
log(
  `exported ${header.rows} rows x ${F} features, ${header.counts.train} train / ${valid.length} valid / ${test.length} test origins → ${dataDir}`,
);

// 3. the peer, for the same minutes
const script = fileURLToPath(new URL('./peer_train.py', import.meta.url));
const env: Record<string, string> = { ...process.env } as Record<string, string>;
for (const kv of torchEnv.split(/\s+/).filter(Boolean)) {
  const [k, v] = kv.split('=');
  env[k] = v;
}
log(`training the PyTorch peer for ${minutes} min (${torchEnv})`);
const py = spawnSync(
  python,
  [
    script,
    '--seed-model',
    join(peerDir, 'seed_model.py'),
    '--data',
    dataDir,
    '--minutes',
    String(minutes),
    '--epoch-samples',
    String(peerEpoch),
    '--seed',
    String(seed),
  ],
  { env, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (py.status !== 0) fail(`${python} ${script} exited with ${py.status ?? py.signal}`);
const peerResult = JSON.parse(readFileSync(join(dataDir, 'result.json'), 'utf8'));
const H = horizon;
const predAll = new Float32Array(readFileSync(join(dataDir, 'pred.f32')).buffer.slice(0));
if (predAll.length !== test.length * H)
  fail(`pred.f32 has ${predAll.length} values, expected ${test.length * H}`);
const rowOf = new Map<number, number>();
for (const [i, t] of test.entries()) rowOf.set(t, i);

/** The peer's saved test predictions, served by origin. */
const peer: Forecaster = {
  name: 'pytorch_peer',
  fit() {},
  predict(batch: Batch) {
    const p50 = new Float32Array(batch.B * H);
    for (let b = 0; b < batch.B; b++) {
      const row = rowOf.get(batch.origins[b]);
      if (row === undefined) throw new Error(`peer: no prediction for origin ${batch.origins[b]}`);
      p50.set(predAll.subarray(row * H, (row + 1) * H), b * H);
    }
    return { p50 };
  },
};

// 4. evaluate everything on the same test origins
log('evaluating on the same test origins');
const factories: ForecasterFactory[] = [
  () => openForecaster({ baseline: 'persistence' }),
  () => openForecaster({ baseline: 'ridge' }),
  () => ours,
  () => peer,
];
const res = await evaluate(prep.data, factories, { split, evalStride: testStride });
if (res.testSamples !== test.length)
  fail(`evaluator used ${res.testSamples} test origins, the peer ${test.length}`);

const at = (name: string, k: 'mae' | 'rmse' | 'r2', h: number) => res.models[name].metrics[k][h - 1];
const pers = { mae: at('persistence', 'mae', H), rmse: at('persistence', 'rmse', H) };
const lines = [
  `test origins: ${test.length} (every ${testStride}th test minute); budget ${minutes} min each; load now ${loads()}`,
  `ours: ${oursDir}${Number.isFinite(oursSeconds) ? ` (trained ${oursSeconds.toFixed(0)} s here)` : ''}`,
  `peer: ${peerResult.samples} samples in ${peerResult.train_seconds.toFixed(0)} s (${peerResult.samples_per_s.toFixed(1)}/s), ${peerResult.epochs_validated} epochs of ${peerEpoch} validated, ${peerResult.params} params, torch ${peerResult.torch}`,
  '',
  `| model | MAE h=${H} | RMSE h=${H} | R² h=${H} | MAE / persistence | RMSE / persistence | MAE mean h=1..${H} | RMSE mean |`,
  '|---|---|---|---|---|---|---|---|',
];
for (const name of res.order) {
  const m = res.models[name];
  lines.push(
    `| ${name} | ${at(name, 'mae', H).toFixed(2)} | ${at(name, 'rmse', H).toFixed(2)} | ${at(name, 'r2', H).toFixed(3)} | ${(at(name, 'mae', H) / pers.mae).toFixed(3)} | ${(at(name, 'rmse', H) / pers.rmse).toFixed(3)} | ${m.mean.mae.toFixed(2)} | ${m.mean.rmse.toFixed(2)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (jsonOut)
  writeFileSync(
    jsonOut,
    `${JSON.stringify(resultToJson(res, { timeline: timelinePath, minutes, test_stride: testStride, peer: peerResult, ours: oursDir }), null, 1)}\n`,
  );
if (!keep) rmSync(work, { recursive: true, force: true });
