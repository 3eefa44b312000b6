import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dropoutSeed } from '../engine/layers/dropout.js';
import type { SeedModel } from '../engine/net/seed.js';
import { Adam, AdamW, clipGradNorm } from '../engine/optim.js';
import { DataParallel, type Replica } from '../engine/parallel.js';
import { type CheckpointMeta, MANIFEST, saveCheckpoint } from '../model/checkpoint.js';
import { type PreparedData, prepareData } from '../model/dataset.js';
import type { FeatureOptions } from '../model/features.js';
import {
  type LossWeights,
  type NeuralConfig,
  NeuralForecaster,
  type TargetTransform,
} from '../model/neural.js';
import type { Timeline } from '../timeline/columns.js';
import { UserError } from '../util/errors.js';
import { mulberry32 } from '../util/rng.js';
import { fillWindows, neuralConfigFrom, targetScale } from './batches.js';
import type { ModelSection, TrainSection } from './config.js';
import { type NeuralReplicaConfig, neuralReplicaShared } from './replica.js';
import { openResume, type Progress, restore, resumePoint } from './resume.js';
import { afterEpoch, initialSchedule, lrFor, type ScheduleConfig } from './schedule.js';
import { type TrainingHistory, writeTrainingHistory } from './training-curves.js';
import {
  type EpochRecord,
  fitShrinkage,
  type ShrinkReport,
  type UntrainedRecord,
  validate,
  validateUntrained,
} from './validation.js';

/**
 * The trainer behind `pcm train`: timeline → features, time-ordered split, train-only scaler
 * (src/model/dataset.ts) → windows sampled per epoch → data-parallel steps (src/engine/parallel.ts) with
 * Adam, global-norm clipping, warm-up + reduce-on-plateau (src/train/schedule.ts) → validation each epoch →
 * `out/` (best, written whenever validation improves), `out/last/` (every epoch, with the resume state),
 * `out/history.json` with its curves (`out/training-curves.svg`). Everything random derives from `Train.Seed`, the epoch and the step, so a run resumed
 * from `last` continues exactly as the uninterrupted run would (same thread count).
 * One job per part: `train` sets the run up, `runEpochs` is the epoch loop, validation.ts measures each
 * epoch and fits the shrinkage at the end, resume.ts saves and restores where the run stands.
 */
export interface TrainOptions {
  model: ModelSection;
  train: TrainSection;
  features?: FeatureOptions;
  /** Model directory to write. */
  out: string;
  resume?: boolean;
  /** Describes the input in the saved metadata. */
  source?: string[];
  /** Progress: called after each step and each epoch. */
  onStep?: (p: StepProgress) => void;
  onEpoch?: (h: EpochRecord) => void;
  /** Stop after this many epochs in THIS process (tests: simulate a kill at an epoch boundary). */
  stopAfterEpochs?: number;
}

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  lr: number;
  samplesPerSecond: number;
}

export interface TrainResult {
  history: EpochRecord[];
  /** Validation of the untrained model (null: resumed from a run saved before it was recorded). */
  untrained: UntrainedRecord | null;
  /** Whether the best epoch beat the untrained model on Train.SelectBy (false: training did not help). */
  beatsUntrained: boolean | null;
  /** The shrinkage stored in the best model (null: not fitted, e.g. stopped by stopAfterEpochs). */
  shrink: ShrinkReport | null;
  bestEpoch: number;
  /** The best validation metric (Train.SelectBy). */
  bestValMetric: number;
  stoppedBy: 'epochs' | 'early-stop' | 'time' | 'stop-after';
  seconds: number;
  trainOrigins: number;
  validOrigins: number;
}

/** The training origins of one epoch: a seeded shuffle of all of them, the first `n`. */
function epochOrigins(all: Int32Array, n: number, seed: number, epoch: number): Int32Array {
  const a = Int32Array.from(all);
  const rand = mulberry32(dropoutSeed(seed, epoch, 11));
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.subarray(0, k);
}

function replicaModule(): string {
  const self = import.meta.url;
  return new URL(self.endsWith('.ts') ? './replica.ts' : './replica.js', self).href;
}

/** What the epoch loop works with; `progress` is where the run stands and changes as it goes. */
interface Run {
  opts: TrainOptions;
  cfg: NeuralConfig;
  target: TargetTransform;
  loss: LossWeights;
  sched: ScheduleConfig;
  prep: PreparedData;
  trainAll: Int32Array;
  validOrigins: Int32Array;
  dp: DataParallel;
  main: Replica & { model: SeedModel };
  adam: Adam;
  forecaster: NeuralForecaster;
  shared: ReturnType<typeof neuralReplicaShared>;
  threads: number;
  /** performance.now() when this process started training. */
  t0: number;
  progress: Progress;
}

/** Whether the best epoch beat the untrained model on Train.SelectBy (null: not known). */
function beatsUntrained(r: Run): boolean | null {
  const { history, schedule, untrained } = r.progress;
  const best = history.find((h) => h.epoch === schedule.bestEpoch);
  if (!untrained || !best) return null;
  return r.opts.train.SelectBy === 'mae'
    ? best.val_mae < untrained.val_mae
    : best.val_loss < untrained.val_loss;
}

function historyJson(r: Run): TrainingHistory {
  const { history, untrained } = r.progress;
  return { history, ...(untrained ? { untrained } : {}), best_beats_untrained: beatsUntrained(r) };
}

function secondsSoFar(r: Run): number {
  return r.progress.secondsBefore + (performance.now() - r.t0) / 1000;
}

/** The metadata saved with a checkpoint of this run now. */
function checkpointMeta(r: Run, tl: Timeline): CheckpointMeta {
  const tc = r.opts.train;
  const { schedule, history } = r.progress;
  return {
    config: r.cfg,
    featureSpec: r.prep.data.features.spec,
    scaler: r.prep.scaler,
    target: r.target,
    capacity: tl.capacity,
    training: {
      source: r.opts.source ?? [],
      timeline: { start: tl.start, minutes: tl.minutes, capacity: tl.capacity },
      split: r.prep.split.bounds,
      train: { ...tc },
      epochs_run: schedule.epoch,
      best_epoch: schedule.bestEpoch,
      select_by: tc.SelectBy,
      best_val_metric: schedule.best,
      best_val_mae: history.find((h) => h.epoch === schedule.bestEpoch)?.val_mae ?? null,
      seconds: secondsSoFar(r),
    },
  };
}

/**
 * The epoch loop: per epoch, seeded windows → data-parallel steps (clip, Adam) → validation → schedule;
 * the best checkpoint when validation improves, history.json and `last/` (the resume point) every epoch.
 * Stops at Train.Epochs, by early stopping, out of time, or after `stopAfterEpochs` in this process.
 */
async function runEpochs(r: Run, tl: Timeline): Promise<TrainResult['stoppedBy']> {
  const { opts, cfg, target, sched, prep, trainAll, dp, main, adam, progress } = r;
  const tc = opts.train;
  const e = main.engine;
  const B = tc.BatchSize;
  const sx = new Float32Array(r.shared.x);
  const sy = new Float32Array(r.shared.y);
  const sl = new Int32Array(r.shared.lengths);
  const smeta = new Uint32Array(r.shared.meta);
  const stepsPerEpoch = Math.max(1, Math.floor(Math.min(tc.SamplesPerEpoch, trainAll.length) / B));
  const deadline = tc.MaxMinutes > 0 ? r.t0 + tc.MaxMinutes * 60_000 : Number.POSITIVE_INFINITY;
  let epochsHere = 0;
  while (progress.schedule.epoch < tc.Epochs) {
    // resumed from the checkpoint of the epoch that met the early-stopping rule: it stays stopped
    if (progress.schedule.sinceBest >= sched.stopPatience) return 'early-stop';
    if (opts.stopAfterEpochs !== undefined && epochsHere >= opts.stopAfterEpochs) return 'stop-after';
    const epoch = progress.schedule.epoch;
    const lr = lrFor(sched, progress.schedule);
    adam.lr = lr;
    const origins = epochOrigins(trainAll, stepsPerEpoch * B, tc.Seed, epoch);
    const te = performance.now();
    let lossSum = 0;
    let normSum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      // batch → shared buffers (coarsened windows, model-unit targets)
      fillWindows(prep, cfg, target, origins.subarray(s * B, (s + 1) * B), sx, sy, sl);
      smeta[0] = dropoutSeed(tc.Seed, progress.step, 7);
      // forward + backward on every replica, one gradient sum
      const l = await dp.step(B);
      // clip, update
      const norm = tc.ClipNorm > 0 ? clipGradNorm(e, main.store, tc.ClipNorm) : 0;
      if (!Number.isFinite(l) || !Number.isFinite(norm))
        throw new UserError(
          `train: the loss became ${l} at epoch ${epoch + 1}, step ${s + 1}; lower Train.LearningRate`,
        );
      adam.step();
      progress.step++;
      lossSum += l;
      normSum += norm;
      const sec = (performance.now() - te) / 1000;
      opts.onStep?.({
        epoch,
        epochs: tc.Epochs,
        step: s + 1,
        stepsPerEpoch,
        loss: lossSum / (s + 1),
        lr,
        samplesPerSecond: ((s + 1) * B) / sec,
      });
      // out of time: stop mid-epoch, but not before a first epoch is validated and saved (a model always exists)
      if (performance.now() > deadline && progress.history.length > 0) return 'time';
    }
    const epochSeconds = (performance.now() - te) / 1000;
    // validation (eval mode, replica 0's BatchNorm running stats)
    const v = validate(r.forecaster, prep, r.validOrigins, r.loss);
    const after = afterEpoch(sched, progress.schedule, tc.SelectBy === 'mae' ? v.mae : v.loss);
    progress.schedule = after.state;
    epochsHere++;
    const rec: EpochRecord = {
      epoch,
      lr,
      train_loss: lossSum / stepsPerEpoch,
      val_loss: v.loss,
      val_mae: v.mae,
      val_coverage: v.coverage,
      val_mae_persistence: v.persistenceMae,
      samples_per_s: (stepsPerEpoch * B) / epochSeconds,
      epoch_seconds: epochSeconds,
      grad_norm: normSum / stepsPerEpoch,
      improved: after.improved,
    };
    progress.history.push(rec);
    if (after.improved) await saveCheckpoint(opts.out, main.model, checkpointMeta(r, tl));
    const last = resumePoint(
      progress,
      adam,
      { model: cfg, target, threads: r.threads, seed: tc.Seed },
      secondsSoFar(r),
    );
    // history.json before last/: a kill in between re-runs this epoch on resume and rewrites it
    writeTrainingHistory(opts.out, historyJson(r));
    await last.save(join(opts.out, 'last'), main.model, checkpointMeta(r, tl));
    opts.onEpoch?.(rec);
    if (after.stop) return 'early-stop';
    if (performance.now() > deadline) return 'time';
  }
  return 'epochs';
}

/** Train (or resume) a neural forecaster on a timeline; writes the model directory `opts.out`. */
export async function train(tl: Timeline, opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const tc = opts.train;
  // data: features, split, scaler (train rows only)
  const prep = prepareData(tl, {
    features: opts.features,
    horizon: opts.model.Horizon,
    split: { testFraction: tc.TestFraction, validFraction: tc.ValidFraction },
    trainStride: tc.TrainStride,
  });
  const validAll = prep.split.valid;
  const vStride = Math.max(1, Math.ceil(validAll.length / tc.ValidSamples));
  const validOrigins = validAll.filter((_, i) => i % vStride === 0);
  const trainAll = prep.split.train;
  if (trainAll.length < tc.BatchSize)
    throw new UserError(
      `train: only ${trainAll.length} training windows (need at least Train.BatchSize = ${tc.BatchSize}); use a longer timeline`,
    );
  if (validOrigins.length === 0)
    throw new UserError('train: no validation windows (the validation split is shorter than the horizon)');

  const cfg = neuralConfigFrom(opts.model, prep.data.features.F);
  const resume = opts.resume
    ? openResume(join(opts.out, 'last'), cfg, tc.Seed, Math.min(tc.Threads, Math.floor(tc.BatchSize / 2)))
    : null;
  const target: TargetTransform = resume
    ? resume.target
    : { kind: 'delta', scale: targetScale(prep.data, trainAll) };
  const loss: LossWeights = {
    delta: tc.HuberDeltaNodes !== undefined ? tc.HuberDeltaNodes / target.scale : tc.HuberDelta,
    smooth: tc.Smoothness,
    quantile: tc.QuantileWeight,
  };
  const sched: ScheduleConfig = {
    lr: tc.LearningRate,
    warmup: tc.WarmupEpochs,
    patience: tc.PlateauPatience,
    factor: tc.PlateauFactor,
    minLr: tc.MinLearningRate,
    stopPatience: tc.EarlyStopPatience,
  };

  // replicas: one per thread, each holding a shard of the batch
  const B = tc.BatchSize;
  const threads = Math.min(tc.Threads, Math.floor(B / 2));
  const rcfg: NeuralReplicaConfig = { model: cfg, maxB: Math.ceil(B / threads), initSeed: tc.Seed, loss };
  const shared = neuralReplicaShared(rcfg, B);
  const dp = await DataParallel.create(threads, replicaModule(), rcfg, shared);
  try {
    const main = dp.main as typeof dp.main & { model: SeedModel };
    const adam =
      tc.WeightDecay > 0
        ? new AdamW(main.engine, main.store, { lr: tc.LearningRate, weightDecay: tc.WeightDecay })
        : new Adam(main.engine, main.store, { lr: tc.LearningRate });
    const forecaster = new NeuralForecaster(
      { config: cfg, featureSpec: prep.data.features.spec, scaler: prep.scaler, target },
      { model: main.model },
    );
    // where the run stands: restored from last/, or fresh, with the untrained model validated once
    // ("epoch 0", kept across resumes)
    const progress: Progress = resume
      ? restore(resume, main.model, adam)
      : {
          schedule: initialSchedule(sched),
          step: 0,
          history: [],
          untrained: validateUntrained(forecaster, prep, validOrigins, loss),
          secondsBefore: 0,
        };
    const run: Run = {
      opts,
      cfg,
      target,
      loss,
      sched,
      prep,
      trainAll,
      validOrigins,
      dp,
      main,
      adam,
      forecaster,
      shared,
      threads,
      t0,
      progress,
    };
    const stoppedBy = await runEpochs(run, tl);
    // once at the end, on the best checkpoint: per-horizon shrinkage toward persistence (not after a
    // simulated kill: the resumed run fits it)
    let shrink: ShrinkReport | null = null;
    if (stoppedBy !== 'stop-after' && existsSync(join(opts.out, MANIFEST))) {
      shrink = fitShrinkage(opts.out, prep, validOrigins);
      writeTrainingHistory(opts.out, { ...historyJson(run), shrink });
    }
    return {
      history: progress.history,
      untrained: progress.untrained,
      beatsUntrained: beatsUntrained(run),
      shrink,
      bestEpoch: progress.schedule.bestEpoch,
      bestValMetric: progress.schedule.best,
      stoppedBy,
      seconds: secondsSoFar(run),
      trainOrigins: trainAll.length,
      validOrigins: validOrigins.length,
    };
  } finally {
    await dp.close();
  }
}
