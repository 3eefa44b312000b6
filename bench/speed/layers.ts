// Time the non-LSTM layers of the seed model (src/engine/layers/*), one thread, at the seed default for one
// data-parallel replica (B=128 of the seed's batch 256, T=240, H=128 → E=256, 4 heads, F=20), plus the whole
// model (with the LSTM stack) for one replica's training step and the single forecast.
// Prints median and min wall ms over the repetitions and the process's median CPU ms; GFLOP/s with the
// analytic gemm counts (forward + backward):
//   attention: projections 24·N·E² (N = B·T; forward 8·N·E², backward twice that) + core 12·B·T²·E
//   (forward Q·Kᵀ and P·V: 4·B·T²·E, backward four gemms: 8·B·T²·E).
//   node --import tsx bench/speed/layers.ts [simd|relaxed|auto] [reps] [--no-parallel]

import { lcg } from '../../harness/lcg.js';
import { SelfAttention } from '../../src/engine/layers/attention.js';
import { BatchNorm1d } from '../../src/engine/layers/batchnorm.js';
import { Dropout } from '../../src/engine/layers/dropout.js';
import { Linear } from '../../src/engine/layers/linear.js';
import { HuberSmoothLoss } from '../../src/engine/layers/loss.js';
import { MeanPool } from '../../src/engine/layers/meanpool.js';
import { SeedModel } from '../../src/engine/net/seed.js';
import { type SeedReplicaConfig, seedReplicaShared } from '../../src/engine/net/seed-replica.js';
import { Adam, clipGradNorm } from '../../src/engine/optim.js';
import { DataParallel } from '../../src/engine/parallel.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine } from '../../src/engine/wasm.js';
import { variantArg } from '../lib/args.js';
import { timeRuns } from '../lib/timing.js';

const prefer = variantArg();
const reps = Number(process.argv[3] ?? 0) || 5;
const B = 128;
const T = 240;
const E = 256;
const NH = 4;
const F = 20;

function fill(e: Engine, n: number, scale: number, rand: () => number): number {
  const p = e.alloc(n, false);
  const v = e.f32(p, n);
  for (let i = 0; i < n; i++) v[i] = (2 * rand() - 1) * scale;
  return p;
}

/** Median / min wall ms and median CPU ms of `n` runs after a warm-up (bench/lib/timing.ts). */
const time = (run: () => void, n = reps) => timeRuns(run, n);

function report(name: string, t: { med: number; min: number; cpu?: number }, flop = 0): void {
  const cpu = t.cpu === undefined ? '' : `  cpu ${t.cpu.toFixed(1).padStart(7)} ms`;
  const g = flop ? `  ${(flop / (t.min / 1e3) / 1e9).toFixed(1).padStart(5)} GFLOP/s (at min)` : '';
  console.log(`${name.padEnd(58)} ${t.med.toFixed(1).padStart(8)} ms (min ${t.min.toFixed(1)})${cpu}${g}`);
}

const rand = lcg(1);
const e = new Engine(prefer);
console.log(`# variant ${e.variant}, reps ${reps}, B=${B} T=${T} E=${E} heads=${NH}`);

// ---- attention
{
  const store = new ParamStore();
  const m = new SelfAttention(store, { embedDim: E, numHeads: NH, dropout: 0.2 });
  store.allocate(e);
  m.allocate(e, B, T);
  m.initTorchDefault(e, rand);
  const x = fill(e, B * T * E, 1, rand);
  const dy = fill(e, B * T * E, 1e-3, rand);
  const N = B * T;
  const proj = 8 * N * E * E;
  const core = 4 * B * T * T * E;
  for (const training of [false, true]) {
    const tag = training ? 'dropout 0.2' : 'no dropout';
    report(
      `attention forward (${tag})`,
      time(() => m.forward(e, B, T, x, { training, seed: 1 })),
      proj + core,
    );
    const tb = time(() => {
      m.forward(e, B, T, x, { training, seed: 1 });
      m.backward(e, dy, { dx: true });
    });
    report(`attention forward+backward (${tag})`, tb, 3 * (proj + core));
  }
  const x1 = fill(e, T * E, 1, rand);
  report(
    'attention forward, B=1 (eval)',
    time(() => m.forward(e, 1, T, x1), 20),
  );
  report(
    'attention forwardPooled (fused mean), B=1',
    time(() => m.forwardPooled(e, 1, T, x1), 20),
  );
  // variable lengths: uniform 1..T, about half the pairwise work
  const lengths = e.alloc(B, false);
  const L = e.i32(lengths, B);
  for (let b = 0; b < B; b++) L[b] = 1 + Math.floor(rand() * T);
  report(
    'attention forward+backward (lengths U(1,T), no dropout)',
    time(() => {
      m.forward(e, B, T, x, { lengths });
      m.backward(e, dy, { dx: true });
    }),
  );
}

// ---- the rest of the head at the seed default
{
  const store = new ParamStore();
  const bn = new BatchNorm1d(store, { channels: E, prefix: 'bn.' });
  const fc1 = new Linear(store, { inFeatures: E, outFeatures: 128, prefix: 'fc1.' });
  const fc2 = new Linear(store, { inFeatures: 128, outFeatures: 30, prefix: 'fc2.' });
  store.allocate(e);
  bn.allocate(e, B);
  fc1.allocate(e, B);
  fc2.allocate(e, B);
  fc1.initTorchDefault(e, rand);
  fc2.initTorchDefault(e, rand);
  bn.initTorchDefault(e);
  const pool = new MeanPool(E);
  pool.allocate(e, B, T);
  const drop = new Dropout(0.2);
  drop.allocate(e, B * T * E);
  const a = fill(e, B * T * E, 1, rand);
  const dz = fill(e, B * E, 1, rand);
  report(
    'dropout (B,T,E) forward+backward',
    time(() => {
      drop.forward(e, B * T * E, a, true, 7);
      drop.backward(e, a);
    }),
  );
  report(
    'meanpool (B,T,E) forward+backward',
    time(() => {
      pool.forward(e, B, T, a);
      pool.backward(e, dz);
    }),
  );
  const z = fill(e, B * E, 1, rand);
  report(
    'batchnorm (B,E) train forward+backward',
    time(() => {
      bn.forward(e, B, z, true);
      bn.backward(e, dz);
    }),
  );
  const d2 = fill(e, B * 30, 1, rand);
  report(
    'fc1 + relu + fc2 forward+backward',
    time(() => {
      const u = fc1.forward(e, B, z);
      e.k.relu_forward(B * 128, u, u);
      fc2.forward(e, B, u);
      const d = fc2.backward(e, d2, { dx: true });
      e.k.relu_backward(B * 128, u, d, d);
      fc1.backward(e, d, { dx: true });
    }),
  );
  const loss = new HuberSmoothLoss({ horizon: 30 });
  loss.allocate(e, B);
  const tgt = fill(e, B * 30, 1, rand);
  report(
    'Huber + smoothness loss (B,30)',
    time(() => loss.forward(e, B, fc2.out, tgt)),
  );
}

// ---- whole model, one replica, and the single forecast
{
  const m = new SeedModel(e, { features: F }, B, T);
  m.initTorchDefault(rand);
  console.log(`# seed model: ${m.paramCount} parameters, arena ${(e.used / 2 ** 20).toFixed(0)} MiB so far`);
  const x = fill(e, B * T * F, 1, rand);
  const tgt = fill(e, B * 30, 1, rand);
  const loss = new HuberSmoothLoss({ horizon: 30 });
  loss.allocate(e, B);
  const opt = new Adam(e, m.store);
  report(
    'optimizer: clip_grad_norm + Adam step (849k params)',
    time(() => {
      clipGradNorm(e, m.store, 1);
      opt.step();
    }),
  );
  let step = 0;
  const tStep = time(
    () => {
      const pred = m.forward(B, T, x, { training: true, seed: step++ });
      loss.forward(e, B, pred, tgt);
      m.store.zeroGrad(e);
      m.backward(loss.dpred);
      clipGradNorm(e, m.store, 1);
      opt.step();
    },
    Math.min(reps, 3),
  );
  report(`seed model train step, one replica (B=${B}, T=${T})`, tStep);
  console.log(`#   → ${((B / tStep.med) * 1e3).toFixed(1)} samples/s per replica (median)`);
  // where the step goes: the LSTM stack alone (forward + backward, training, same shapes)
  const h = m.lstm.forward(e, B, T, x);
  const dh = fill(e, B * T * 2 * 128, 1e-3, rand);
  report(
    `  of which biLSTM forward+backward (B=${B}, T=${T})`,
    time(
      () => {
        m.lstm.forward(e, B, T, x);
        m.lstm.backward(e, dh);
      },
      Math.min(reps, 3),
    ),
  );
  report(
    `  of which attention forward+backward (B=${B}, T=${T})`,
    time(
      () => {
        m.attn.forward(e, B, T, h, { training: true, seed: 1 });
        m.attn.backward(e, dh, { dx: true });
      },
      Math.min(reps, 3),
    ),
  );
  report(
    'seed model forecast, forward (eval, B=1, T=240)',
    time(() => m.forward(1, T, x), 20),
  );
  report(
    'seed model forecast, predict (fused, B=1, T=240)',
    time(() => m.predict(1, T, x), 20),
  );
}

// ---- data-parallel training step of the whole model (src/engine/parallel.ts + model/seed-replica.ts):
// forward + loss + backward on each replica's shard, one gradient sum, then clip + Adam in this thread
if (!process.argv.includes('--no-parallel')) {
  const module = new URL('../src/engine/model/seed-replica.ts', import.meta.url).href;
  const cases = [
    { T: 240, B: 256, H: 128 },
    { T: 48, B: 64, H: 64 },
  ];
  for (const c of cases) {
    for (const threads of [1, 2]) {
      const cfg: SeedReplicaConfig = {
        model: { features: F, hidden: c.H },
        T: c.T,
        maxB: Math.ceil(c.B / threads),
        initSeed: 1,
        variant: prefer,
      };
      const shared = seedReplicaShared(cfg, c.B);
      const xs = new Float32Array(shared.x);
      for (let i = 0; i < xs.length; i++) xs[i] = Math.sin(i);
      new Float32Array(shared.target).fill(0.5);
      new Int32Array(shared.lengths).fill(c.T);
      const meta = new Uint32Array(shared.meta);
      const dp = await DataParallel.create(threads, module, cfg, shared);
      const me = dp.main.engine;
      const opt = new Adam(me, dp.main.store);
      const step = async () => {
        meta[0]++;
        await dp.step(c.B);
        clipGradNorm(me, dp.main.store, 1);
        opt.step();
      };
      await step(); // warm-up
      const ts: number[] = [];
      for (let r = 0; r < Math.min(reps, 3); r++) {
        const t0 = performance.now();
        await step();
        ts.push(performance.now() - t0);
      }
      await dp.close();
      ts.sort((a, b) => a - b);
      const t = { med: ts[ts.length >> 1], min: ts[0] };
      report(`seed model train step T=${c.T} B=${c.B} H=${c.H}, ${threads} thread(s)`, t);
      console.log(`#   → ${((c.B / t.med) * 1e3).toFixed(1)} samples/s (median)`);
    }
  }
}
