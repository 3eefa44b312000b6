import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedModel } from '../engine/net/seed.js';
import type { Adam } from '../engine/optim.js';
import {
  type CheckpointMeta,
  loadWeightsInto,
  type Manifest,
  readManifest,
  readTrainState,
  saveCheckpoint,
  type TrainStateBlob,
} from '../model/checkpoint.js';
import { type NeuralConfig, sameNeuralConfig, type TargetTransform } from '../model/neural.js';
import { UserError } from '../util/errors.js';
import type { ScheduleState } from './schedule.js';
import type { EpochRecord, UntrainedRecord } from './validation.js';

/**
 * `pcm train --resume`: after every epoch `out/last/` holds the weights, Adam's moments and where the run
 * stands (schedule, step, history); a resumed run loads them and continues exactly as the uninterrupted
 * run would (everything random derives from Train.Seed, the epoch and the step).
 */

/** Where a run stands: what the epoch loop carries from epoch to epoch and `last/` saves. */
export interface Progress {
  schedule: ScheduleState;
  /** Optimizer steps taken. */
  step: number;
  history: EpochRecord[];
  /** Validation of the untrained model (null: resumed from a run saved before it was recorded). */
  untrained: UntrainedRecord | null;
  /** Seconds trained by the earlier processes of this run. */
  secondsBefore: number;
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

/** A checkpoint to resume from, checked against this run's model config and seed. */
export interface ResumePoint {
  dir: string;
  manifest: Manifest;
  state: TrainStateBlob;
  json: ResumeJson;
  /** The target transform the run started with (kept, not refitted). */
  target: TargetTransform;
}

/** Open `dir` (`out/last`) to resume from; UserError when there is none or it is another run's (model, seed, threads). */
export function openResume(dir: string, cfg: NeuralConfig, seed: number, threads: number): ResumePoint {
  if (!existsSync(join(dir, 'model.json')))
    throw new UserError(`--resume: no checkpoint in ${dir} to resume from; start without --resume`);
  const manifest = readManifest(dir);
  const state = readTrainState(dir, manifest);
  if (!state) throw new UserError(`--resume: ${dir} has no training state`);
  const json = state.json as ResumeJson;
  if (!sameNeuralConfig(json.model, cfg))
    throw new UserError(`--resume: ${dir} was trained with a different Model config; start without --resume`);
  if (json.seed !== seed) throw new UserError(`--resume: ${dir} used Train.Seed ${json.seed}, not ${seed}`);
  // BatchNorm statistics are per thread's shard: another thread count would silently train another model
  if (json.threads !== threads)
    throw new UserError(
      `--resume: ${dir} was trained with ${json.threads} thread(s), this run would use ${threads}: set Train.Threads: ${json.threads}`,
    );
  return { dir, manifest, state, json, target: json.target };
}

/** Load the weights and Adam's state of `r` into the model and the optimizer; the progress to go on from. */
export function restore(r: ResumePoint, model: SeedModel, adam: Adam): Progress {
  loadWeightsInto(model, r.dir, r.manifest);
  adam.loadState({ t: r.json.adamT, m: r.state.tensors['adam.m'], v: r.state.tensors['adam.v'] });
  return {
    schedule: r.json.schedule,
    step: r.json.step,
    history: r.json.history,
    untrained: r.json.untrained ?? null,
    secondsBefore: r.json.seconds,
  };
}

/** What a resumed run must match, saved with each resume point. */
export interface RunIdentity {
  model: NeuralConfig;
  target: TargetTransform;
  threads: number;
  seed: number;
}

/**
 * The resume point of the epoch just finished, taken now (Adam's state, `seconds` so far); `save` writes
 * it to `dir` with the weights.
 */
export function resumePoint(
  p: Progress,
  adam: Adam,
  run: RunIdentity,
  seconds: number,
): { save: (dir: string, model: SeedModel, meta: CheckpointMeta) => Promise<unknown> } {
  const a = adam.state();
  const json: ResumeJson = {
    schedule: p.schedule,
    step: p.step,
    adamT: a.t,
    history: p.history,
    ...(p.untrained ? { untrained: p.untrained } : {}),
    model: run.model,
    target: run.target,
    threads: run.threads,
    seed: run.seed,
    seconds,
  };
  return {
    save: (dir, model, meta) =>
      saveCheckpoint(dir, model, meta, { tensors: { 'adam.m': a.m, 'adam.v': a.v }, json }),
  };
}
