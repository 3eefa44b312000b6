import { dropoutSeed } from '../layers/dropout.js';
import { HuberSmoothLoss } from '../layers/loss.js';
import type { Replica } from '../parallel.js';
import { Engine, type Variant } from '../wasm.js';
import { SEED_DEFAULTS, SeedModel, type SeedModelConfig } from './seed.js';

/**
 * The seed model as a data-parallel replica for src/engine/parallel.ts (`DataParallel.create(threads,
 * <this module's URL>, config, shared)`): each thread builds one SeedModel in its own Engine and runs the
 * training forward + loss + backward on its shard of the batch.
 *
 * Shared batch (SharedArrayBuffers the caller fills before each step):
 *   x (total, T, F) f32, target (total, horizon) f32, lengths (total) i32 (valid steps, left-padded),
 *   meta (1) u32: the step's dropout seed.
 * Gradients are those of the WHOLE batch's loss: each shard's loss (a mean over its own samples) is
 * weighted by count/total, so the replicas' gradient sum equals the single-thread gradient except for
 * BatchNorm, whose batch statistics are per shard (as in PyTorch DDP without SyncBatchNorm). The running
 * stats of replica 0 (the calling thread) are the ones to keep.
 */
export interface SeedReplicaConfig {
  model: Partial<SeedModelConfig>;
  T: number;
  /** Largest shard this replica runs. */
  maxB: number;
  /** Parameters are initialised from this seed (the same in every replica; replica 0's are broadcast). */
  initSeed: number;
  delta?: number;
  lambda?: number;
  variant?: Variant | 'auto';
}

/** SharedArrayBuffers for a batch of up to maxTotal samples. */
export function seedReplicaShared(
  cfg: SeedReplicaConfig,
  maxTotal: number,
): Record<string, SharedArrayBuffer> {
  const m = { ...SEED_DEFAULTS, ...cfg.model };
  return {
    x: new SharedArrayBuffer(maxTotal * cfg.T * m.features * 4),
    target: new SharedArrayBuffer(maxTotal * m.horizon * 4),
    lengths: new SharedArrayBuffer(maxTotal * 4),
    meta: new SharedArrayBuffer(4),
  };
}

export function createReplica(
  config: unknown,
  shared: Record<string, SharedArrayBuffer>,
): Replica & { model: SeedModel } {
  const c = config as SeedReplicaConfig;
  const e = new Engine(c.variant ?? 'auto');
  const model = new SeedModel(e, c.model, c.maxB, c.T);
  let s = c.initSeed >>> 0;
  model.initTorchDefault(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
  const { features: F, horizon: N } = model.cfg;
  const T = c.T;
  const loss = new HuberSmoothLoss({ horizon: N, delta: c.delta, lambda: c.lambda });
  loss.allocate(e, c.maxB);
  const x = new Float32Array(shared.x);
  const target = new Float32Array(shared.target);
  const lengths = new Int32Array(shared.lengths);
  const meta = new Uint32Array(shared.meta);
  const px = e.alloc(c.maxB * T * F, false);
  const pt = e.alloc(c.maxB * N, false);
  return {
    engine: e,
    store: model.store,
    model,
    run(start: number, count: number, total: number): number {
      // this shard → engine memory
      e.f32(px, count * T * F).set(x.subarray(start * T * F, (start + count) * T * F));
      e.f32(pt, count * N).set(target.subarray(start * N, (start + count) * N));
      // forward (training; dropout masks differ per shard), loss, backward of the whole-batch mean
      const pred = model.forward(count, T, px, {
        lengths: lengths.subarray(start, start + count),
        training: true,
        seed: dropoutSeed(meta[0], start, 0),
      });
      const w = count / total;
      const v = loss.forward(e, count, pred, pt);
      e.k.scale(count * N, w, loss.dpred);
      model.backward(loss.dpred);
      return v.loss * w;
    },
  };
}
