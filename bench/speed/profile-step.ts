// Where one training step of the seed model spends its time (one replica, one thread), and what the
// single forecast (predict, B = 1) spends. Every wasm kernel call made from TypeScript is timed by wrapping
// the engine's exports (src/engine/wasm.ts `Engine.k`); LSTM calls are keyed by layer and direction. What
// is not inside a kernel call (JS glue, views, argument checks) is the "outside kernels" row. The data
// parallel overhead (parameter broadcast + gradient sum of src/engine/parallel.ts, done in JS on
// Float32Arrays) is timed separately at the model's parameter count.
//
//   node --import tsx bench/speed/profile-step.ts [relaxed|simd|auto] [--T 240] [--B 128] [--H 128] [--reps 3]
//
// B is the per-replica batch: the seed default (T 240, B 256 over 2 threads) is B = 128 here; the small
// config (48, 64, 64) is --T 48 --B 32 --H 64.
import { loadavg } from 'node:os';
import { lcg } from '../../harness/lcg.js';
import { HuberSmoothLoss } from '../../src/engine/layers/loss.js';
import { SeedModel } from '../../src/engine/net/seed.js';
import { Adam, clipGradNorm } from '../../src/engine/optim.js';
import { Engine, type Kernels } from '../../src/engine/wasm.js';
import { numArg, variantArg } from '../lib/args.js';

const variant = variantArg();
const T = numArg('T', 240);
const B = numArg('B', 128);
const H = numArg('H', 128);
const reps = numArg('reps', 3);
const F = 20;
const N = 30;

/** Per-key accumulated ms and call counts of the wrapped kernels. */
const acc = new Map<string, { ms: number; calls: number }>();
let timing = false;

/** Key of a kernel call: LSTM calls by layer (input width) and direction, the rest by name. */
function keyOf(name: string, a: number[]): string {
  if (name === 'lstm_forward' || name === 'lstm_backward') {
    const layer = a[2] === F ? 'l0' : 'l1'; // F is argument 2, reverse argument 4
    return `${name} ${layer} ${a[4] ? 'reverse' : 'forward'}`;
  }
  return name;
}

/** Replace every exported kernel of `e` with a timed wrapper. */
function instrument(e: Engine): void {
  const k = e.k;
  const wrapped: Record<string, unknown> = { memory: k.memory };
  for (const [name, fn] of Object.entries(k)) {
    if (typeof fn !== 'function') {
      wrapped[name] = fn;
      continue;
    }
    const f = fn as (...a: number[]) => number | undefined;
    wrapped[name] = (...a: number[]) => {
      if (!timing) return f(...a);
      const t0 = performance.now();
      const r = f(...a);
      const key = keyOf(name, a);
      const s = acc.get(key) ?? { ms: 0, calls: 0 };
      s.ms += performance.now() - t0;
      s.calls += 1;
      acc.set(key, s);
      return r;
    };
  }
  (e as { k: Kernels }).k = wrapped as Kernels;
}

const e = new Engine(variant);
instrument(e);
const model = new SeedModel(e, { features: F, hidden: H, horizon: N, headHidden: 128 }, B, T);
model.initTorchDefault(lcg(1));
const loss = new HuberSmoothLoss({ horizon: N });
loss.allocate(e, B);
const adam = new Adam(e, model.store, { lr: 1e-3 });
const r = lcg(7);
const px = e.allocFrom(Array.from({ length: B * T * F }, () => 2 * r() - 1));
const pt = e.allocFrom(Array.from({ length: B * N }, () => 2 * r() - 1));
const px1 = e.allocFrom(Array.from({ length: T * F }, () => 2 * r() - 1));

const phases = ['forward', 'loss', 'backward', 'clip', 'adam'] as const;
const phaseMs = new Map<string, number>(phases.map((p) => [p, 0]));
let stepMs = 0;
function step(seed: number): void {
  const t: number[] = [performance.now()];
  model.store.zeroGrad(e);
  const pred = model.forward(B, T, px, { training: true, seed });
  t.push(performance.now());
  loss.forward(e, B, pred, pt);
  t.push(performance.now());
  model.backward(loss.dpred);
  t.push(performance.now());
  clipGradNorm(e, model.store, 1);
  t.push(performance.now());
  adam.step();
  t.push(performance.now());
  if (!timing) return;
  phases.forEach((p, i) => {
    phaseMs.set(p, (phaseMs.get(p) ?? 0) + t[i + 1] - t[i]);
  });
  stepMs += t[5] - t[0];
}

console.log(
  `profile: variant ${e.variant}, T=${T} B=${B} (one replica) H=${H}, ${reps} steps after 1 warm-up; load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
step(1);
timing = true;
const cpu0 = process.cpuUsage();
for (let s = 0; s < reps; s++) step(s + 2);
const cpu = process.cpuUsage(cpu0);
timing = false;

function table(title: string, total: number, n: number): void {
  console.log(`\n${title}: ${(total / n).toFixed(2)} ms per call (mean of ${n})`);
  console.log('| kernel (from TS) | calls | ms | % |');
  console.log('|---|---|---|---|');
  let inside = 0;
  const rows = [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [k, v] of rows) {
    inside += v.ms;
    if (v.ms / total < 0.001) continue;
    console.log(
      `| ${k} | ${(v.calls / n).toFixed(0)} | ${(v.ms / n).toFixed(2)} | ${((100 * v.ms) / total).toFixed(1)} |`,
    );
  }
  console.log(
    `| outside kernels (JS, views) | | ${((total - inside) / n).toFixed(2)} | ${((100 * (total - inside)) / total).toFixed(1)} |`,
  );
}

table('training step', stepMs, reps);
// analytic gemm FLOPs of one replica step (forward ×3 for forward + backward; layer 0 has no dx)
const E = 2 * H;
const lstmFwd = 2 * 2 * T * B * 4 * H * (F + H + (E + H)); // 2 directions × (layer 0 + layer 1)
const lstmFlop = 3 * lstmFwd - 2 * 2 * T * B * 4 * H * F;
const attnFlop = 3 * (2 * B * T * E * 4 * E + 2 * 2 * B * T * T * E);
const headFlop = 3 * 2 * B * (E * 128 + 128 * N);
const gflop = (lstmFlop + attnFlop + headFlop) / 1e9;
const cpuMs = (cpu.user + cpu.system) / 1000 / reps;
console.log(
  `analytic FLOPs per replica step: LSTM ${(lstmFlop / 1e9).toFixed(2)} + attention ${(attnFlop / 1e9).toFixed(2)} + head ${(headFlop / 1e9).toFixed(3)} = ${gflop.toFixed(2)} GFLOP; ${(gflop / (stepMs / reps / 1000)).toFixed(1)} GFLOP/s by wall time, ${(gflop / (cpuMs / 1000)).toFixed(1)} by CPU time`,
);
console.log(
  `phases (ms/step): ${phases.map((p) => `${p} ${((phaseMs.get(p) ?? 0) / reps).toFixed(1)}`).join(', ')}; process CPU ${((cpu.user + cpu.system) / 1000 / reps).toFixed(0)} ms/step`,
);

// data-parallel overhead at this parameter count (what parallel.ts does per step in JS)
{
  const n = model.store.total;
  const params = new Float32Array(new SharedArrayBuffer(n * 4));
  const gw = new Float32Array(new SharedArrayBuffer(n * 4)).fill(1e-3);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    params.set(model.store.values(e));
    const g = model.store.grads(e);
    for (let j = 0; j < g.length; j++) g[j] += gw[j];
    gw.set(g); // the worker's copy-out of its gradients
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `data-parallel copies (broadcast ${n} params + gradient copy-out + sum, main thread): median ${times[10].toFixed(2)} ms`,
  );
}

// single forecast (eval): predict at B = 1 with the full T
if (T <= model.maxT) {
  acc.clear();
  for (let i = 0; i < 5; i++) model.predict(1, T, px1);
  timing = true;
  const runs = 30;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) model.predict(1, T, px1);
  const total = performance.now() - t0;
  timing = false;
  table(`predict B=1, T=${T}`, total, runs);
}
console.log(
  `load at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
