import { dropoutSeed } from '../engine/layers/dropout.js';
import { SeedModel } from '../engine/net/seed.js';
import type { Replica } from '../engine/parallel.js';
import { Engine, type Variant } from '../engine/wasm.js';
import {
  coarseSteps,
  initNeural,
  type LossWeights,
  type NeuralConfig,
  quantileLoss,
  seedConfigOf,
  stepFeatures,
} from '../model/neural.js';

/**
 * The neural forecaster as a data-parallel replica (src/engine/parallel.ts): each thread builds the same
 * SeedModel (3H outputs) in its own Engine and runs forward + quantile loss + backward on its shard.
 *
 * Shared batch (filled by the trainer before each step), already coarsened:
 *   x (total, Tc, Fs) f32, y (total, H) f32 targets in model units, lengths (total) i32 coarse valid steps,
 *   meta (1) u32: the step's dropout seed.
 * Each shard's loss is a mean over its own samples weighted by count/total, so the summed gradient is
 * the whole batch's (BatchNorm statistics are per shard, as in DDP).
 */
export interface NeuralReplicaConfig {
  model: NeuralConfig;
  maxB: number;
  initSeed: number;
  loss: LossWeights;
  variant?: Variant | 'auto';
}

export function neuralReplicaShared(
  cfg: NeuralReplicaConfig,
  maxTotal: number,
): Record<string, SharedArrayBuffer> {
  const m = cfg.model;
  return {
    x: new SharedArrayBuffer(maxTotal * coarseSteps(m) * stepFeatures(m) * 4),
    y: new SharedArrayBuffer(maxTotal * m.horizon * 4),
    lengths: new SharedArrayBuffer(maxTotal * 4),
    meta: new SharedArrayBuffer(4),
  };
}

export function createReplica(
  config: unknown,
  shared: Record<string, SharedArrayBuffer>,
): Replica & { model: SeedModel } {
  const c = config as NeuralReplicaConfig;
  const e = new Engine(c.variant ?? 'auto');
  const Tc = coarseSteps(c.model);
  const Fs = stepFeatures(c.model);
  const H = c.model.horizon;
  const model = new SeedModel(e, seedConfigOf(c.model), c.maxB, Tc);
  initNeural(model, H, c.initSeed);
  const x = new Float32Array(shared.x);
  const y = new Float32Array(shared.y);
  const lengths = new Int32Array(shared.lengths);
  const meta = new Uint32Array(shared.meta);
  const px = e.alloc(c.maxB * Tc * Fs, false);
  const pd = e.alloc(c.maxB * 3 * H, false);
  return {
    engine: e,
    store: model.store,
    model,
    run(start: number, count: number, total: number): number {
      // this shard → engine memory
      e.f32(px, count * Tc * Fs).set(x.subarray(start * Tc * Fs, (start + count) * Tc * Fs));
      // forward (training mode; dropout masks differ per shard)
      const pred = model.forward(count, Tc, px, {
        lengths: lengths.subarray(start, start + count),
        training: true,
        seed: dropoutSeed(meta[0], start, 0),
      });
      // quantile loss of the shard, gradient scaled to the whole-batch mean
      const w = count / total;
      const raw = e.f32(pred, count * 3 * H);
      const v = quantileLoss(
        count,
        H,
        raw,
        y.subarray(start * H, (start + count) * H),
        c.loss,
        e.f32(pd, count * 3 * H),
        w,
      );
      model.backward(pd);
      return v.loss * w;
    },
  };
}
