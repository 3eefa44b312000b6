// Training speed of the seed model, ours vs PyTorch, side by side in one run.
//
// Ours: the seed model (src/engine/net/seed.ts, F = 20, horizon 30) as data-parallel replicas
// (src/engine/net/seed-replica.ts over src/engine/parallel.ts, --threads, default 2) + global-norm clipping
// (1.0) + Adam: one full training step, like PEER/bench_train.py's train_step (forward, Huber +
// smoothness loss, backward, clip, Adam). Random data of the right shapes; median of --steps steps after
// --warmup warm-ups. Single forecast: SeedModel.predict at B = 1, T = 240, H = 128, median of 50 after 5, on two
// threads (shared engine + TwinInference) and, for comparison, on one.
// PyTorch: spawns bench_train.py for the same configs (Debian's torch via /usr/bin/python3) with the thread
// settings given by --torch-env (default OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1, the peer README's best
// setting at the seed default) and reads its JSON. An inherited OPENBLAS_CORETYPE is dropped (give it in
// --torch-env to force one): OpenBLAS then uses its kernels for this CPU.
//
//   node --import tsx bench/speed/train-vs-pytorch.ts --peer PEER | --no-torch [--threads 2] [--steps 5]
//        [--warmup 2] [--configs 240x256x128,48x64x64] [--torch-env "OMP_NUM_THREADS=2 ..."]
// PEER is the folder holding the seed's PyTorch code (seed_model.py and its speed bench, bench_train.py).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lcg } from '../../harness/lcg.js';
import { TwinInference } from '../../src/engine/net/infer.js';
import { SeedModel } from '../../src/engine/net/seed.js';
import { type SeedReplicaConfig, seedReplicaShared } from '../../src/engine/net/seed-replica.js';
import { Adam, clipGradNorm } from '../../src/engine/optim.js';
import { DataParallel } from '../../src/engine/parallel.js';
import { Engine } from '../../src/engine/wasm.js';
import { strArg, usage } from '../lib/args.js';

const args = process.argv.slice(2);
const peer = args.includes('--no-torch')
  ? ''
  : (strArg('peer') ??
    usage(import.meta.url, '--peer PEER | --no-torch [--threads 2] [--steps 5] [--configs TxBxH,...]', [
      "PEER: the folder holding the seed's PyTorch code, seed_model.py and bench_train.py",
    ]));
const threads = Number(strArg('threads', '2'));
const steps = Number(strArg('steps', '5'));
const warmup = Number(strArg('warmup', '2'));
const torchEnv = strArg('torch-env', 'OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1');
const configs = strArg('configs', '240x256x128,48x64x64')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
const PEER_CONFIGS = ['240x256x128', '240x64x128', '48x256x128', '48x64x64'];
const F = 20;
const N = 30;

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Our training step at (T, B, H): ms per step (all measured steps). */
async function oursTrain(T: number, B: number, H: number): Promise<number[]> {
  const nThreads = Math.min(threads, B);
  const cfg: SeedReplicaConfig = {
    model: { features: F, hidden: H, headHidden: 128, horizon: N },
    T,
    maxB: Math.ceil(B / nThreads),
    initSeed: 1,
  };
  const shared = seedReplicaShared(cfg, B);
  const r = lcg(7);
  const x = new Float32Array(shared.x);
  for (let i = 0; i < x.length; i++) x[i] = 2 * r() - 1;
  const y = new Float32Array(shared.target);
  for (let i = 0; i < y.length; i++) y[i] = 2 * r() - 1;
  new Int32Array(shared.lengths).fill(T);
  const module = new URL(
    import.meta.url.endsWith('.ts')
      ? '../src/engine/model/seed-replica.ts'
      : '../src/engine/model/seed-replica.js',
    import.meta.url,
  ).href;
  const dp = await DataParallel.create(nThreads, module, cfg, shared);
  try {
    const e = dp.main.engine;
    const adam = new Adam(e, dp.main.store, { lr: 1e-3 });
    const meta = new Uint32Array(shared.meta);
    const times: number[] = [];
    for (let s = 0; s < warmup + steps; s++) {
      meta[0] = s + 1;
      const t0 = performance.now();
      await dp.step(B);
      clipGradNorm(e, dp.main.store, 1);
      adam.step();
      if (s >= warmup) times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await dp.close();
  }
}

/**
 * Our single forecast B = 1, T = 240, H = 128: ms per call, on one thread (plain engine) and on two threads
 * (shared engine + TwinInference, src/engine/net/infer.ts). Both models get the same weights and input.
 */
async function oursInfer(): Promise<{ one: number[]; two: number[] }> {
  const T = 240;
  const time = (m: SeedModel, x: number): number[] => {
    const times: number[] = [];
    for (let i = 0; i < 55; i++) {
      const t0 = performance.now();
      m.predict(1, T, x);
      if (i >= 5) times.push(performance.now() - t0);
    }
    return times;
  };
  const build = (shared: boolean): { m: SeedModel; x: number } => {
    const e = new Engine('auto', { shared });
    const m = new SeedModel(e, { features: F, hidden: 128, horizon: N }, 1, T);
    m.initTorchDefault(lcg(3));
    const r = lcg(5);
    const x = e.alloc(T * F, false);
    const v = e.f32(x, T * F);
    for (let i = 0; i < v.length; i++) v[i] = 2 * r() - 1;
    return { m, x };
  };
  const a = build(false);
  const b = build(true);
  const twin = await TwinInference.attach(b.m, { maxLoad: Number.POSITIVE_INFINITY }); // two threads even if busy
  try {
    return { one: time(a.m, a.x), two: time(b.m, b.x) };
  } finally {
    await twin.detach();
  }
}

interface TorchTrain {
  T: number;
  B: number;
  H: number;
  step_ms_median: number;
  samples_per_s: number;
}

/** Run the peer's bench for our configs; null when torch is not available. */
function torch(): { train: TorchTrain[]; infer: Array<{ batch: number; ms_median: number }> } | null {
  if (args.includes('--no-torch')) return null;
  const py = '/usr/bin/python3';
  const script = join(peer, 'bench_train.py');
  if (!existsSync(script)) {
    console.log(`pytorch: ${script} not found (--peer DIR); skipping`);
    return null;
  }
  const idx = configs.map((c) => PEER_CONFIGS.indexOf(c.join('x')));
  if (idx.some((i) => i < 0)) throw new Error(`bench_train.py knows only ${PEER_CONFIGS.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'pcm-bench-'));
  const out = join(dir, 'torch.json');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // PyTorch at its best: OpenBLAS picks its kernels for this CPU (Cooperlake, AVX-512) unless --torch-env
  // says otherwise. An inherited OPENBLAS_CORETYPE=Haswell (set on the dev VMs) made the B = 1 forecast
  // ~2× and the (48, 64, 64) step ~1.4× slower (docs/benchmarks.md).
  if (env.OPENBLAS_CORETYPE) console.log(`pytorch: not passing OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE}`);
  delete env.OPENBLAS_CORETYPE;
  for (const kv of torchEnv.split(/\s+/).filter(Boolean)) {
    const [k, v] = kv.split('=');
    env[k] = v;
  }
  const res = spawnSync(
    py,
    [
      script,
      '--configs',
      idx.join(','),
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--no-gemm',
      '--infer-runs',
      '50',
      '--json',
      out,
    ],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  try {
    if (res.status !== 0) {
      console.log(
        `pytorch: bench_train.py exited with ${res.status ?? res.signal} (is python3-torch installed?)`,
      );
      return null;
    }
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ours: ${threads} threads`,
);
const ours: Array<{ T: number; B: number; H: number; ms: number; min: number }> = [];
for (const [T, B, H] of configs) {
  const ts = await oursTrain(T, B, H);
  ours.push({ T, B, H, ms: median(ts), min: Math.min(...ts) });
  console.log(
    `ours  train T=${T} B=${B} H=${H}: ${median(ts).toFixed(1)} ms/step (min ${Math.min(...ts).toFixed(1)}) ${((B * 1000) / median(ts)).toFixed(1)} samples/s`,
  );
}
const infAll = await oursInfer();
const inf = infAll.two;
console.log(
  `ours  infer T=240 H=128 batch=1: two threads median ${median(inf).toFixed(2)} ms (min ${Math.min(...inf).toFixed(2)}); one thread median ${median(infAll.one).toFixed(2)} ms (min ${Math.min(...infAll.one).toFixed(2)})`,
);
console.log(`pytorch (${torchEnv}):`);
const t = torch();
console.log('\n| T, B, H | ours ms/step | ours samples/s | PyTorch ms/step | PyTorch samples/s | ratio |');
console.log('|---|---|---|---|---|---|');
for (const o of ours) {
  const p = t?.train.find((r) => r.T === o.T && r.B === o.B && r.H === o.H);
  const sps = (o.B * 1000) / o.ms;
  console.log(
    `| ${o.T}, ${o.B}, ${o.H} | ${o.ms.toFixed(0)} | ${sps.toFixed(1)} | ${p ? p.step_ms_median.toFixed(0) : '-'} | ${p ? p.samples_per_s.toFixed(1) : '-'} | ${p ? (sps / p.samples_per_s).toFixed(2) : '-'}× |`,
  );
}
const p1 = t?.infer.find((r) => r.batch === 1);
console.log(
  `| forecast B=1, T=240, H=128 (two threads; one: ${median(infAll.one).toFixed(2)} ms) | ${median(inf).toFixed(2)} ms | | ${p1 ? p1.ms_median.toFixed(2) : '-'} ms | | ${p1 ? (p1.ms_median / median(inf)).toFixed(2) : '-'}× |`,
);
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
