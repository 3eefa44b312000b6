// GFLOP/s of the wasm sgemm at the model's shapes, both builds.  node --import tsx bench/speed/gemm.ts
import { Engine } from '../../src/engine/wasm.js';

const shapes: Array<[string, number, number, number]> = [
  ['LSTM recurrent B=256 (256x512x128)', 256, 512, 128],
  ['LSTM input proj T*B=61440 (61440x512x256)', 61440, 512, 256],
  ['square 512', 512, 512, 512],
];
for (const variant of ['simd', 'relaxed'] as const) {
  const e = new Engine(variant);
  for (const [name, M, N, K] of shapes) {
    const a = e.alloc(M * K);
    const b = e.alloc(K * N);
    const c = e.alloc(M * N);
    e.f32(a, M * K).fill(0.5);
    e.f32(b, K * N).fill(0.25);
    const flop = 2 * M * N * K;
    const reps = Math.max(1, Math.round(2e9 / flop));
    e.k.sgemm(M, N, K, a, K, 1, b, N, c, N, 0);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) e.k.sgemm(M, N, K, a, K, 1, b, N, c, N, 0);
    const dt = (performance.now() - t0) / 1000;
    console.log(`${variant.padEnd(8)} ${name.padEnd(45)} ${((flop * reps) / dt / 1e9).toFixed(1)} GFLOP/s`);
  }
}
