import { BiLSTM } from '../src/engine/layers/bilstm.js';
import type { Replica } from '../src/engine/parallel.js';
import { ParamStore } from '../src/engine/params.js';
import { Engine, type Variant } from '../src/engine/wasm.js';
import { lcg } from './lcg.js';

/** A biLSTM replica for src/engine/parallel.ts (used by its test and by bench/speed/lstm-parallel.ts). */
export interface LSTMReplicaConfig {
  T: number;
  F: number;
  H: number;
  layers: number;
  /** Largest shard this replica runs. */
  maxB: number;
  seed: number;
  variant?: Variant | 'auto';
}

/**
 * The shared batch: `x` (total, T, F) and `dout` (total, T, 2H) float32. The "loss" is Σ out·dout, so
 * backward runs with dout as the output gradient.
 */
export function createReplica(config: unknown, shared: Record<string, SharedArrayBuffer>): Replica {
  const c = config as LSTMReplicaConfig;
  const e = new Engine(c.variant ?? 'auto');
  const store = new ParamStore();
  const m = new BiLSTM(store, { inputSize: c.F, hidden: c.H, numLayers: c.layers });
  store.allocate(e);
  m.allocate(e, c.maxB, c.T);
  m.initTorchDefault(e, lcg(c.seed));
  const DH = 2 * c.H;
  const x = new Float32Array(shared.x);
  const dout = new Float32Array(shared.dout);
  const px = e.alloc(c.maxB * c.T * c.F, false);
  const pd = e.alloc(c.maxB * c.T * DH, false);
  return {
    engine: e,
    store,
    run(start: number, count: number): number {
      const nx = c.T * c.F;
      const nd = c.T * DH;
      e.f32(px, count * nx).set(x.subarray(start * nx, (start + count) * nx));
      const d = dout.subarray(start * nd, (start + count) * nd);
      e.f32(pd, count * nd).set(d);
      const out = e.f32(m.forward(e, count, c.T, px), count * nd);
      let loss = 0;
      for (let i = 0; i < out.length; i++) loss += out[i] * d[i];
      m.backward(e, pd);
      return loss;
    },
  };
}
