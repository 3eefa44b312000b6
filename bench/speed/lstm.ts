// Time the 2-layer biLSTM stack (src/engine/layers/bilstm.ts) on one thread: forward+backward at training
// shapes and forward only at the single-forecast shape. Prints wall-clock median and min, CPU-time median,
// and GFLOP/s (at the min wall time) with the model issue's count: 2·B·(in+H)·4H per step per direction × T × 2 directions × 2 layers
// (in = F for layer 0, 2H for layer 1), × 3 for forward+backward.
// `parts` times one layer-direction (forward vs reverse, forward vs backward) and the layout conversions.
//   node --import tsx bench/speed/lstm.ts [simd|relaxed|auto] [stack|parts|all]

import { lcg } from '../../harness/lcg.js';
import { BiLSTM } from '../../src/engine/layers/bilstm.js';
import { LSTMDirection } from '../../src/engine/layers/lstm.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine } from '../../src/engine/wasm.js';
import { variantArg } from '../lib/args.js';
import { timeRuns } from '../lib/timing.js';

interface Case {
  name: string;
  T: number;
  B: number;
  F: number;
  H: number;
  train: boolean;
}

const cases: Case[] = [
  { name: 'train T=240 B=128 F=20 H=128', T: 240, B: 128, F: 20, H: 128, train: true },
  { name: 'train T=240 B=64  F=20 H=128', T: 240, B: 64, F: 20, H: 128, train: true },
  { name: 'train T=240 B=64  F=12 H=128', T: 240, B: 64, F: 12, H: 128, train: true },
  { name: 'train T=48  B=32  F=20 H=64 ', T: 48, B: 32, F: 20, H: 64, train: true },
  { name: 'infer T=240 B=1   F=20 H=128', T: 240, B: 1, F: 20, H: 128, train: false },
];

const prefer = variantArg();
const what = process.argv[3] ?? 'stack';

function fill(e: Engine, p: number, n: number, rand: () => number, scale: number): void {
  const v = e.f32(p, n);
  for (let i = 0; i < n; i++) v[i] = (2 * rand() - 1) * scale;
}

function fmt(t: { med: number; min: number; cpu: number }): string {
  const f = (v: number) => v.toFixed(2).padStart(8);
  return `wall median ${f(t.med)} ms  min ${f(t.min)} ms  cpu median ${f(t.cpu)} ms`;
}

function flops(c: Case): number {
  const perStep = (inp: number) => 2 * c.B * (inp + c.H) * 4 * c.H;
  const fwd = (perStep(c.F) + perStep(2 * c.H)) * c.T * 2;
  return c.train ? 3 * fwd : fwd;
}

function stack(): void {
  for (const c of cases) {
    const e = new Engine(prefer); // a fresh instance (and memory) per case
    const store = new ParamStore();
    const m = new BiLSTM(store, { inputSize: c.F, hidden: c.H, numLayers: 2, bidirectional: true });
    store.allocate(e);
    m.allocate(e, c.B, c.T);
    const rand = lcg(1);
    m.initTorchDefault(e, rand);
    const n = c.B * c.T;
    const x = e.alloc(n * c.F, false);
    const dOut = e.alloc(n * 2 * c.H, false);
    fill(e, x, n * c.F, rand, 1);
    fill(e, dOut, n * 2 * c.H, rand, 1e-3);
    const reps = c.train ? (c.T * c.B >= 240 * 128 ? 3 : c.T >= 240 ? 5 : 30) : 50;
    const t = timeRuns(() => {
      m.forward(e, c.B, c.T, x);
      if (c.train) m.backward(e, dOut);
    }, reps);
    const gf = flops(c) / (t.min / 1000) / 1e9;
    console.log(
      `${e.variant.padEnd(8)} ${c.name} ${c.train ? 'fwd+bwd' : 'fwd    '}  ${fmt(t)}  ${gf.toFixed(1).padStart(5)} GFLOP/s` +
        `  (${reps} reps, arena ${(e.used / 2 ** 20).toFixed(0)} MiB)`,
    );
  }
}

function parts(): void {
  const e = new Engine(prefer);
  const rand = lcg(2);
  // one layer-direction of layer 1 at the training shape: forward vs reverse, forward vs backward
  const T = 240;
  const B = 128;
  const F = 256;
  const H = 128;
  for (const reverse of [false, true]) {
    const mark = e.mark();
    const store = new ParamStore();
    const cell = new LSTMDirection(store, { inputSize: F, hidden: H, reverse, suffix: 'l1' });
    store.allocate(e);
    cell.allocate(e, B, T);
    fill(e, store.base, store.total, rand, 1 / Math.sqrt(H));
    const x = e.alloc(T * B * F, false);
    const hs = e.alloc(T * B * H, false);
    const dhs = e.alloc(T * B * H, false);
    const dx = e.alloc(T * B * F, false);
    fill(e, x, T * B * F, rand, 1);
    fill(e, dhs, T * B * H, rand, 1e-3);
    const fwd = () => cell.forward(e, T, B, x, F, hs, H, 0);
    const tf = timeRuns(fwd, 3);
    const tb = timeRuns(() => {
      fwd(); // backward consumes the forward cache: time forward+backward, subtract forward
      cell.backward(e, T, B, x, F, hs, H, dhs, H, dx, F, 0);
    }, 3);
    const name = `one layer-direction T=${T} B=${B} F=${F} H=${H} ${reverse ? 'reverse' : 'forward'}`;
    console.log(`${e.variant.padEnd(8)} ${name}  fwd ${fmt(tf)}  bwd ≈ ${(tb.med - tf.med).toFixed(2)} ms`);
    e.release(mark);
  }
  // the stack's layout conversions at the same shape (B, T, C) <-> (T, B, C)
  for (const C of [20, 256]) {
    const mark = e.mark();
    const a = e.alloc(T * B * C, false);
    const b = e.alloc(T * B * C, false);
    fill(e, a, T * B * C, rand, 1);
    const t = timeRuns(() => e.k.lstm_swap01(B, T, C, a, b), 10);
    console.log(`${e.variant.padEnd(8)} swap (B,T,C)->(T,B,C) B=${B} T=${T} C=${C}  ${fmt(t)}`);
    e.release(mark);
  }
}

if (what === 'stack' || what === 'all') stack();
if (what === 'parts' || what === 'all') parts();
