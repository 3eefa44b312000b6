// Single forecast latency of the seed model (SeedModel.predict, B = 1, T = 240, H = 128, F = 20, horizon 30):
// one thread (plain engine), one thread on a shared engine, and two threads (TwinInference: a KernelTwin runs
// the reverse biLSTM directions and half of the attention heads). Median and min of --runs calls after 10
// warm-ups, repeated --rounds times (interleaved, so load changes hit all three alike).
//
//   node --import tsx bench/speed/forecast.ts [relaxed|simd|auto] [--runs 50] [--rounds 3] [--spin 1] [--T 240] [--H 128]
import { loadavg } from 'node:os';
import { lcg } from '../../harness/lcg.js';
import { TwinInference } from '../../src/engine/net/infer.js';
import { SeedModel } from '../../src/engine/net/seed.js';
import { Engine } from '../../src/engine/wasm.js';
import { numArg, strArg, variantArg } from '../lib/args.js';

const variant = variantArg();
const runs = numArg('runs', 50);
const rounds = numArg('rounds', 3);
const spinMs = Number(strArg('spin', '1'));
const T = numArg('T', 240);
const H = numArg('H', 128);
const F = 20;

function setup(shared: boolean): { m: SeedModel; x: number } {
  const e = new Engine(variant, { shared });
  const m = new SeedModel(e, { features: F, hidden: H, horizon: 30 }, 1, T);
  m.initTorchDefault(lcg(3));
  const r = lcg(5);
  const x = e.allocFrom(Array.from({ length: T * F }, () => 2 * r() - 1));
  return { m, x };
}

function time(m: SeedModel, x: number): { median: number; min: number } {
  for (let i = 0; i < 10; i++) m.predict(1, T, x);
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    m.predict(1, T, x);
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[ts.length >> 1], min: ts[0] };
}

const plain = setup(false);
const shared = setup(true);
const twinned = setup(true);
const twin = await TwinInference.attach(twinned.m, { spinMs, maxLoad: Number.POSITIVE_INFINITY }); // always two threads
const a = plain.m.e.f32(plain.m.predict(1, T, plain.x), 30);
const b = twinned.m.e.f32(twinned.m.predict(1, T, twinned.x), 30);
let diff = 0;
for (let i = 0; i < 30; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
console.log(
  `forecast B=1 T=${T} H=${H} F=${F}, variant ${plain.m.e.variant}, ${runs} calls x ${rounds} rounds; max |two threads - one thread| = ${diff}`,
);
for (let r = 0; r < rounds; r++) {
  const load = loadavg()[0].toFixed(2);
  const p = time(plain.m, plain.x);
  const s = time(shared.m, shared.x);
  const t = time(twinned.m, twinned.x);
  console.log(
    `round ${r + 1} (load ${load}): one thread ${p.median.toFixed(2)} ms (min ${p.min.toFixed(2)}) | shared engine, one thread ${s.median.toFixed(2)} (min ${s.min.toFixed(2)}) | two threads ${t.median.toFixed(2)} (min ${t.min.toFixed(2)})`,
  );
}
await twin.detach();

// Load-robust estimate of the two-thread latency from one thread's timings (min over runs): each of the
// three phases (biLSTM layer 0, layer 1, attention heads) takes the longer of its two calls, the rest of
// predict (head, layout copies) runs on the calling thread. Sync cost not included.
{
  const { m, x } = shared;
  const phases: number[][] = [];
  let phase = 0;
  const timed = (calls: { name: string; args: number[] }[]): void => {
    phases[phase] ??= calls.map(() => Number.POSITIVE_INFINITY);
    calls.forEach((c, j) => {
      const t0 = performance.now();
      m.e.k[c.name](...c.args);
      phases[phase][j] = Math.min(phases[phase][j], performance.now() - t0);
    });
    phase++;
  };
  m.lstm.run = timed;
  m.attn.run = timed;
  let total = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs * rounds; i++) {
    phase = 0;
    const t0 = performance.now();
    m.predict(1, T, x);
    total = Math.min(total, performance.now() - t0);
  }
  m.lstm.run = undefined;
  m.attn.run = undefined;
  const inCalls = phases.reduce((a, p) => a + p.reduce((b, v) => b + v, 0), 0);
  const critical = phases.reduce((a, p) => a + Math.max(...p), 0) + (total - inCalls);
  console.log(
    `one-thread mins: predict ${total.toFixed(2)} ms; phases ${phases.map((p) => p.map((v) => v.toFixed(2)).join(' + ')).join(' | ')} ms; rest ${(total - inCalls).toFixed(2)} ms => two-thread critical path ${critical.toFixed(2)} ms (no sync cost; load ${loadavg()[0].toFixed(2)})`,
  );
}
