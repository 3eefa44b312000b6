import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dropoutSeed } from '../engine/layers/dropout.js';
import type { SeedModel } from '../engine/model/seed.js';
import { Adam, AdamW, clipGradNorm } from '../engine/optim.js';
import { DataParallel } from '../engine/parallel.js';
import {
  type CheckpointMeta,
  loadNeural,
  loadWeightsInto,
  MANIFEST,
  readManifest,
  readTrainState,
  saveCheckpoint,
  writeShrink,
} from '../model/checkpoint.js';
import { type Dataset, makeBatch, type PreparedData, prepareData } from '../model/dataset.js';
import type { FeatureOptions } from '../model/features.js';
import {
  coarsen,
  fitShrink,
  type LossWeights,
  type NeuralConfig,
  NeuralForecaster,
  neuralConfigProblem,
  quantileHead,
  quantileLoss,
  sameNeuralConfig,
  type TargetTransform,
} from '../model/neural.js';
import type { Timeline } from '../timeline/columns.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { ModelSection, TrainSection } from './config.js';
import { type NeuralReplicaConfig, neuralReplicaShared } from './replica.js';
import { afterEpoch, initialSchedule, lrFor, type ScheduleConfig, type ScheduleState } from './schedule.js';

/**
 * The trainer behind `pcm train`: timeline → features, time-ordered split, train-only scaler
 * (src/model/dataset.ts) → windows sampled per epoch → data-parallel steps (src/engine/parallel.ts) with
 * Adam, global-norm clipping, warm-up + reduce-on-plateau (src/train/schedule.ts) → validation each epoch →
 * `out/` (best, written whenever validation improves), `out/last/` (every epoch, with the resume state),
 * `out/history.json`. Everything random derives from `Train.Seed`, the epoch and the step, so a run resumed
 * from `last` continues exactly as the uninterrupted run would (same thread count).
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

export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss: number;
  /** Mean absolute error of p50 over all horizons on the validation samples, nodes. */
  val_mae: number;
  /** Share of validation targets inside P10..P90. */
  val_coverage: number;
  /** Persistence's MAE on the same validation samples (the bar to beat), nodes. */
  val_mae_persistence: number;
  samples_per_s: number;
  epoch_seconds: number;
  grad_norm: number;
  improved: boolean;
}

/** Validation of the untrained model ("epoch 0": p50 = persistence by construction), the bar every epoch must beat. */
export interface UntrainedRecord {
  val_loss: number;
  val_mae: number;
  val_coverage: number;
  val_mae_persistence: number;
}

/** The per-horizon shrinkage toward persistence fitted on validation after training (see fitShrink). */
export interface ShrinkReport {
  /** α_h, h = 1..H. */
  alpha: number[];
  /** Validation origins it was fitted on. */
  samples: number;
  /** Validation P50 MAE over all horizons (nodes), before (α = 1) and after, and persistence's. */
  val_mae_before: number;
  val_mae_after: number;
  val_mae_persistence: number;
  /** Share of validation targets inside P10..P90, before and after (the band moves with the median). */
  val_coverage_before: number;
  val_coverage_after: number;
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

/** What `last/` carries besides weights and Adam moments. */
interface ResumeJson {
  schedule: ScheduleState;
  step: number;
  adamT: number;
  history: EpochRecord[];
  untrained?: UntrainedRecord;
  model: NeuralConfig;
  target: TargetTransform;
  threads: number;
  seed: number;
  seconds: number;
}

export function neuralConfigFrom(m: ModelSection, features: number): NeuralConfig {
  const cfg: NeuralConfig = {
    lookback: m.LookbackMinutes,
    resolution: m.ResolutionMinutes,
    features,
    hidden: m.Hidden,
    layers: m.Layers,
    heads: m.Heads,
    headHidden: m.HeadHidden,
    dropout: m.Dropout,
    horizon: m.Horizon,
    nowEveryStep: m.NowEveryStep,
    lastStepSkip: m.LastStepSkip,
  };
  const p = neuralConfigProblem(cfg);
  if (p) throw new UserError(`Model: ${p}`);
  return cfg;
}

/** RMS of the H-minute change busy(t+H) − busy(t) over the training origins (nodes, at least 1). */
export function targetScale(data: Dataset, origins: Int32Array): number {
  const H = data.horizon;
  let s = 0;
  for (const t of origins) {
    const d = data.busy[t + H] - data.busy[t];
    s += d * d;
  }
  return Math.max(1, Math.sqrt(s / Math.max(1, origins.length)));
}

/** A deterministic generator (mulberry32) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The training origins of one epoch: a seeded shuffle of all of them, the first `n`. */
export function epochOrigins(all: Int32Array, n: number, seed: number, epoch: number): Int32Array {
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

/**
 * Fill coarsened windows and model-unit targets of `origins` into x (B, Tc, Fs), y (B, H), lengths (B).
 */
export function fillWindows(
  p: PreparedData,
  cfg: NeuralConfig,
  target: TargetTransform,
  origins: Int32Array,
  x: Float32Array,
  y: Float32Array,
  lengths: Int32Array,
): void {
  const batch = makeBatch(p.data, origins, { lookback: cfg.lookback, x: p.x });
  coarsen(batch.B, batch.T, batch.F, cfg.resolution, batch.x, batch.lengths, x, lengths, cfg.nowEveryStep);
  const H = cfg.horizon;
  const busy = p.data.busy;
  for (let b = 0; b < batch.B; b++) {
    const now = busy[origins[b]];
    for (let h = 0; h < H; h++) y[b * H + h] = (batch.y[b * H + h] - now) / target.scale;
  }
}

/** Validation loss, p50 MAE (nodes) and P10–P90 coverage of a model over origins. */
export function validate(
  f: NeuralForecaster,
  p: PreparedData,
  origins: Int32Array,
  w: LossWeights,
  chunk = 512,
): { loss: number; mae: number; coverage: number; persistenceMae: number } {
  const { cfg, target } = f;
  const H = cfg.horizon;
  let loss = 0;
  let abs = 0;
  let inside = 0;
  let absPersist = 0;
  let n = 0;
  for (let i = 0; i < origins.length; i += chunk) {
    const o = origins.subarray(i, Math.min(i + chunk, origins.length));
    const batch = makeBatch(p.data, o, { lookback: cfg.lookback, x: p.x });
    const B = batch.B;
    const raw = f.raw(B, batch.x, batch.lengths);
    const y = new Float32Array(B * H);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) y[b * H + h] = (batch.y[b * H + h] - p.data.busy[o[b]]) / target.scale;
    loss += quantileLoss(B, H, raw, y, w, new Float32Array(B * 3 * H)).loss * B;
    const d50 = new Float32Array(B * H);
    const d10 = new Float32Array(B * H);
    const d90 = new Float32Array(B * H);
    quantileHead(B, H, raw, d50, d10, d90);
    for (let k = 0; k < B * H; k++) {
      abs += Math.abs(d50[k] - y[k]) * target.scale;
      absPersist += Math.abs(y[k]) * target.scale;
      if (y[k] >= d10[k] && y[k] <= d90[k]) inside++;
    }
    n += B;
  }
  return {
    loss: loss / Math.max(1, n),
    mae: abs / Math.max(1, n * H),
    coverage: inside / Math.max(1, n * H),
    persistenceMae: absPersist / Math.max(1, n * H),
  };
}

/**
 * Fit the per-horizon shrinkage toward persistence of a trained model on validation origins (deterministic:
 * eval-mode forward, fixed grid) and report MAE and P10–P90 coverage before and after.
 */
export function shrinkOnValidation(
  f: NeuralForecaster,
  p: PreparedData,
  origins: Int32Array,
  chunk = 512,
): ShrinkReport {
  const { cfg, target } = f;
  const H = cfg.horizon;
  const N = origins.length;
  const s = target.scale;
  const cap = p.data.capacity;
  // per sample: busy now, predicted changes (nodes), actual busy (N, H)
  const now = new Float64Array(N);
  const c50 = new Float64Array(N * H);
  const c10 = new Float64Array(N * H);
  const c90 = new Float64Array(N * H);
  const y = new Float64Array(N * H);
  for (let i = 0; i < N; i += chunk) {
    const o = origins.subarray(i, Math.min(i + chunk, N));
    const batch = makeBatch(p.data, o, { lookback: cfg.lookback, x: p.x });
    const B = batch.B;
    const raw = f.raw(B, batch.x, batch.lengths);
    const d50 = new Float32Array(B * H);
    const d10 = new Float32Array(B * H);
    const d90 = new Float32Array(B * H);
    quantileHead(B, H, raw, d50, d10, d90);
    for (let b = 0; b < B; b++) {
      now[i + b] = p.data.busy[o[b]];
      for (let h = 0; h < H; h++) {
        const k = b * H + h;
        const j = (i + b) * H + h;
        c50[j] = d50[k] * s;
        c10[j] = d10[k] * s;
        c90[j] = d90[k] * s;
        y[j] = batch.y[k];
      }
    }
  }
  const alpha = fitShrink(N, H, now, c50, y, cap);
  const clip = (v: number) => Math.min(Math.max(v, 0), cap);
  // MAE and coverage of the predictions with shrinkage a (the band shifted by (α − 1)·Δ50, as in predict)
  const score = (a: number[] | null) => {
    let abs = 0;
    let inside = 0;
    let absPersist = 0;
    for (let b = 0; b < N; b++)
      for (let h = 0; h < H; h++) {
        const j = b * H + h;
        const shift = a ? (a[h] - 1) * c50[j] : 0;
        abs += Math.abs(clip(now[b] + c50[j] + shift) - y[j]);
        absPersist += Math.abs(now[b] - y[j]);
        const lo = clip(now[b] + c10[j] + shift);
        const hi = clip(now[b] + c90[j] + shift);
        if (y[j] >= lo && y[j] <= hi) inside++;
      }
    const n = Math.max(1, N * H);
    return { mae: abs / n, coverage: inside / n, persistence: absPersist / n };
  };
  const before = score(null);
  const after = score(alpha);
  return {
    alpha,
    samples: N,
    val_mae_before: before.mae,
    val_mae_after: after.mae,
    val_mae_persistence: before.persistence,
    val_coverage_before: before.coverage,
    val_coverage_after: after.coverage,
  };
}

function replicaModule(): string {
  const self = import.meta.url;
  return new URL(self.endsWith('.ts') ? './replica.ts' : './replica.js', self).href;
}

/** Train (or resume) a neural forecaster on a timeline; writes the model directory `opts.out`. */
export async function train(tl: Timeline, opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const tc = opts.train;
  const horizon = opts.model.Horizon;
  // data: features, split, scaler (train rows only)
  const prep0 = prepareData(tl, {
    features: opts.features,
    horizon,
    split: { testFraction: tc.TestFraction, validFraction: tc.ValidFraction },
    trainStride: tc.TrainStride,
  });
  const validAll = prep0.split.valid;
  const vStride = Math.max(1, Math.ceil(validAll.length / tc.ValidSamples));
  const validOrigins = validAll.filter((_, i) => i % vStride === 0);
  const trainAll = prep0.split.train;
  if (trainAll.length < tc.BatchSize)
    throw new UserError(
      `train: only ${trainAll.length} training windows (need at least Train.BatchSize = ${tc.BatchSize}); use a longer timeline`,
    );
  if (validOrigins.length === 0)
    throw new UserError('train: no validation windows (the validation split is shorter than the horizon)');

  const cfg = neuralConfigFrom(opts.model, prep0.data.features.F);
  let target: TargetTransform = { kind: 'delta', scale: targetScale(prep0.data, trainAll) };
  const lastDir = join(opts.out, 'last');
  let resume: ResumeJson | null = null;
  let resumeManifest: ReturnType<typeof readManifest> | null = null;
  let resumeState: ReturnType<typeof readTrainState> = null;
  if (opts.resume) {
    if (!existsSync(join(lastDir, 'model.json')))
      throw new UserError(`--resume: no checkpoint in ${lastDir} to resume from; start without --resume`);
    resumeManifest = readManifest(lastDir);
    const st = readTrainState(lastDir, resumeManifest);
    resumeState = st;
    if (!st) throw new UserError(`--resume: ${lastDir} has no training state`);
    resume = st.json as ResumeJson;
    if (!sameNeuralConfig(resume.model, cfg))
      throw new UserError(
        `--resume: ${lastDir} was trained with a different Model config; start without --resume`,
      );
    if (resume.seed !== tc.Seed)
      throw new UserError(`--resume: ${lastDir} used Train.Seed ${resume.seed}, not ${tc.Seed}`);
    // BatchNorm statistics are per thread's shard: another thread count would silently train another model
    const threadsNow = Math.min(tc.Threads, Math.floor(tc.BatchSize / 2));
    if (resume.threads !== threadsNow)
      throw new UserError(
        `--resume: ${lastDir} was trained with ${resume.threads} thread(s), this run would use ${threadsNow}: set Train.Threads: ${resume.threads}`,
      );
    target = resume.target;
  }
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
    const e = main.engine;
    const adam =
      tc.WeightDecay > 0
        ? new AdamW(e, main.store, { lr: tc.LearningRate, weightDecay: tc.WeightDecay })
        : new Adam(e, main.store, { lr: tc.LearningRate });
    const forecaster = new NeuralForecaster(
      { config: cfg, featureSpec: prep0.data.features.spec, scaler: prep0.scaler, target },
      { model: main.model },
    );
    let state = initialSchedule(sched);
    let step = 0;
    let history: EpochRecord[] = [];
    let secondsBefore = 0;
    if (resume && resumeManifest && resumeState) {
      loadWeightsInto(main.model, lastDir, resumeManifest);
      const st = resumeState;
      adam.loadState({ t: resume.adamT, m: st.tensors['adam.m'], v: st.tensors['adam.v'] });
      state = resume.schedule;
      step = resume.step;
      history = resume.history;
      secondsBefore = resume.seconds;
    }
    const meta = (): CheckpointMeta => ({
      config: cfg,
      featureSpec: prep0.data.features.spec,
      scaler: prep0.scaler,
      target,
      capacity: tl.capacity,
      training: {
        source: opts.source ?? [],
        timeline: { start: tl.start, minutes: tl.minutes, capacity: tl.capacity },
        split: prep0.split.bounds,
        train: { ...tc },
        epochs_run: state.epoch,
        best_epoch: state.bestEpoch,
        select_by: tc.SelectBy,
        best_val_metric: state.best,
        best_val_mae: history.find((h) => h.epoch === state.bestEpoch)?.val_mae ?? null,
        seconds: secondsBefore + (performance.now() - t0) / 1000,
      },
    });

    // "epoch 0": the untrained model, validated once at the start of a fresh run (kept across resumes)
    let untrained: UntrainedRecord | null = resume ? (resume.untrained ?? null) : null;
    if (!resume) {
      const v0 = validate(forecaster, prep0, validOrigins, loss);
      untrained = {
        val_loss: v0.loss,
        val_mae: v0.mae,
        val_coverage: v0.coverage,
        val_mae_persistence: v0.persistenceMae,
      };
    }
    const beats = (): boolean | null => {
      const best = history.find((h) => h.epoch === state.bestEpoch);
      if (!untrained || !best) return null;
      return tc.SelectBy === 'mae' ? best.val_mae < untrained.val_mae : best.val_loss < untrained.val_loss;
    };
    const historyJson = () => ({
      history,
      ...(untrained ? { untrained } : {}),
      best_beats_untrained: beats(),
    });

    const sx = new Float32Array(shared.x);
    const sy = new Float32Array(shared.y);
    const sl = new Int32Array(shared.lengths);
    const smeta = new Uint32Array(shared.meta);
    const stepsPerEpoch = Math.max(1, Math.floor(Math.min(tc.SamplesPerEpoch, trainAll.length) / B));
    const deadline = tc.MaxMinutes > 0 ? t0 + tc.MaxMinutes * 60_000 : Number.POSITIVE_INFINITY;
    let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
    let epochsHere = 0;

    epochs: while (state.epoch < tc.Epochs) {
      // resumed from the checkpoint of the epoch that met the early-stopping rule: it stays stopped
      if (state.sinceBest >= sched.stopPatience) {
        stoppedBy = 'early-stop';
        break;
      }
      if (opts.stopAfterEpochs !== undefined && epochsHere >= opts.stopAfterEpochs) {
        stoppedBy = 'stop-after';
        break;
      }
      const epoch = state.epoch;
      const lr = lrFor(sched, state);
      adam.lr = lr;
      const origins = epochOrigins(trainAll, stepsPerEpoch * B, tc.Seed, epoch);
      const te = performance.now();
      let lossSum = 0;
      let normSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        // batch → shared buffers (coarsened windows, model-unit targets)
        fillWindows(prep0, cfg, target, origins.subarray(s * B, (s + 1) * B), sx, sy, sl);
        smeta[0] = dropoutSeed(tc.Seed, step, 7);
        // forward + backward on every replica, one gradient sum
        const l = await dp.step(B);
        // clip, update
        const norm = tc.ClipNorm > 0 ? clipGradNorm(e, main.store, tc.ClipNorm) : 0;
        if (!Number.isFinite(l) || !Number.isFinite(norm))
          throw new UserError(
            `train: the loss became ${l} at epoch ${epoch + 1}, step ${s + 1}; lower Train.LearningRate`,
          );
        adam.step();
        step++;
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
        if (performance.now() > deadline && history.length > 0) {
          stoppedBy = 'time';
          break epochs;
        }
      }
      const epochSeconds = (performance.now() - te) / 1000;
      // validation (eval mode, replica 0's BatchNorm running stats)
      const v = validate(forecaster, prep0, validOrigins, loss);
      const r = afterEpoch(sched, state, tc.SelectBy === 'mae' ? v.mae : v.loss);
      state = r.state;
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
        improved: r.improved,
      };
      history.push(rec);
      if (r.improved) await saveCheckpoint(opts.out, main.model, meta());
      const a = adam.state();
      const resumeJson: ResumeJson = {
        schedule: state,
        step,
        adamT: a.t,
        history,
        ...(untrained ? { untrained } : {}),
        model: cfg,
        target,
        threads,
        seed: tc.Seed,
        seconds: secondsBefore + (performance.now() - t0) / 1000,
      };
      // history.json before last/: a kill in between re-runs this epoch on resume and rewrites it
      writeFileAtomicSync(join(opts.out, 'history.json'), `${JSON.stringify(historyJson(), null, 1)}\n`);
      await saveCheckpoint(lastDir, main.model, meta(), {
        tensors: { 'adam.m': a.m, 'adam.v': a.v },
        json: resumeJson,
      });
      opts.onEpoch?.(rec);
      if (r.stop) {
        stoppedBy = 'early-stop';
        break;
      }
      if (performance.now() > deadline) {
        stoppedBy = 'time';
        break;
      }
    }
    // once at the end, on the best checkpoint: per-horizon shrinkage toward persistence (not after a
    // simulated kill: the resumed run fits it)
    let shrink: ShrinkReport | null = null;
    if (stoppedBy !== 'stop-after' && existsSync(join(opts.out, MANIFEST))) {
      shrink = shrinkOnValidation(loadNeural(opts.out), prep0, validOrigins);
      writeShrink(opts.out, shrink.alpha, { ...shrink });
      writeFileAtomicSync(
        join(opts.out, 'history.json'),
        `${JSON.stringify({ ...historyJson(), shrink }, null, 1)}\n`,
      );
    }
    return {
      history,
      untrained,
      beatsUntrained: beats(),
      shrink,
      bestEpoch: state.bestEpoch,
      bestValMetric: state.best,
      stoppedBy,
      seconds: secondsBefore + (performance.now() - t0) / 1000,
      trainOrigins: trainAll.length,
      validOrigins: validOrigins.length,
    };
  } finally {
    await dp.close();
  }
}
