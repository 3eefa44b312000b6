// Data-parallel biLSTM fwd+bwd (src/engine/parallel.ts): the whole batch on 1 thread vs split over 2
// worker-thread replicas (each its own Engine), including the per-step parameter broadcast and gradient sum.
// The replica is harness/lstm-replica.ts (2-layer biLSTM, loss Σ out·dout), the one its unit test runs.
//   node --import tsx bench/speed/lstm-parallel.ts [relaxed|simd|auto] [reps]

import type { LSTMReplicaConfig } from '../../harness/lstm-replica.js';
import { DataParallel } from '../../src/engine/parallel.js';
import { variantArg } from '../lib/args.js';

const variant = variantArg();
const reps = Number(process.argv[3] ?? 3);
const module = new URL('../../harness/lstm-replica.ts', import.meta.url).href;

const cases = [
  { T: 240, B: 256, F: 20, H: 128 },
  { T: 240, B: 64, F: 20, H: 128 },
  { T: 48, B: 64, F: 20, H: 64 },
];

for (const c of cases) {
  const shared = {
    x: new SharedArrayBuffer(c.B * c.T * c.F * 4),
    dout: new SharedArrayBuffer(c.B * c.T * 2 * c.H * 4),
  };
  const x = new Float32Array(shared.x);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  new Float32Array(shared.dout).fill(1e-3);
  const flop = 3 * 2 * (2 * c.B * (c.F + c.H) * 4 * c.H + 2 * c.B * (3 * c.H) * 4 * c.H) * c.T;
  for (const threads of [1, 2]) {
    const config: LSTMReplicaConfig = { ...c, layers: 2, maxB: Math.ceil(c.B / threads), seed: 1, variant };
    const dp = await DataParallel.create(threads, module, config, shared);
    await dp.step(c.B); // warm-up
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await dp.step(c.B);
      ms.push(performance.now() - t0);
    }
    await dp.close();
    ms.sort((a, b) => a - b);
    const med = ms[ms.length >> 1];
    console.log(
      `T=${c.T} B=${c.B} F=${c.F} H=${c.H} threads=${threads}: median ${med.toFixed(1)} ms  min ${ms[0].toFixed(1)} ms` +
        `  ${((c.B / med) * 1000).toFixed(1)} samples/s  ${(flop / med / 1e6).toFixed(1)} GFLOP/s (${reps} reps)`,
    );
  }
}
