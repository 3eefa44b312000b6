/**
 * The variable-length contract of the seed model, checked the same way for every configuration: a batch of
 * left-padded windows (lengths `len`, padded steps full of garbage) predicts and back-propagates exactly as
 * each history alone at B = 1 — predictions, input gradients (zero on the padding) and the parameter
 * gradients summed over the samples.
 */
import assert from 'node:assert/strict';
import { type SeedForwardOptions, SeedModel, type SeedModelConfig } from '../../src/engine/net/seed.js';
import type { Engine, Ptr } from '../../src/engine/wasm.js';
import { dot, lcg, uniform } from './gradcheck.js';
import { relErr } from './torch-fixture.js';

/** max|got − ref| ≤ tol · max|ref| over the tensor (default 1e-5: the PyTorch fixtures' tolerance). */
export function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = 1e-5): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

/**
 * The scalar objective Σ forward(x) · R of a seed model (for finite differences), and its analytic gradients
 * for the parameters and for x (B, T, F), from one forward + backward.
 */
export function seedObjective(
  e: Engine,
  m: SeedModel,
  B: number,
  T: number,
  F: number,
  x: Ptr,
  R: Float32Array,
  fwd: SeedForwardOptions,
): { objective: () => number; gp: Float32Array; gx: Float32Array } {
  const objective = (): number => dot(e.f32(m.forward(B, T, x, fwd), R.length), R);
  objective();
  m.store.zeroGrad(e);
  const gx = Float32Array.from(e.f32(m.backward(e.allocFrom(R), { dx: true }), B * T * F));
  const gp = Float32Array.from(m.store.grads(e));
  return { objective, gp, gx };
}

export function checkLeftPadding(
  e: Engine,
  cfg: Partial<SeedModelConfig>,
  T: number,
  len: number[],
  seed: number,
  opts: { predict?: boolean } = {},
): void {
  const B = len.length;
  const F = cfg.features!;
  const N = cfg.horizon!;
  const mark = e.mark();
  const rand = lcg(seed);
  const m = new SeedModel(e, cfg, B, T);
  m.initTorchDefault(rand);
  // non-trivial running stats
  e.f32(m.bn.runningMean, m.D).set(uniform(m.D, rand, 0.1));
  e.f32(m.bn.runningVar, m.D).set(uniform(m.D, rand, 0.5).map((v) => 0.6 + v));
  const params = Float32Array.from(m.store.values(e));
  const xs = uniform(B * T * F, rand, 1); // padded steps hold garbage that must not matter
  const ds = uniform(B * N, rand, 1);
  const pred = Float32Array.from(e.f32(m.forward(B, T, e.allocFrom(xs), { lengths: len }), B * N));
  if (opts.predict) {
    // predict (fused attention + mean) agrees with the eval forward
    assertClose(e.f32(m.predict(B, T, e.allocFrom(xs), len), B * N), pred, 'predict vs forward', 1e-6);
    m.forward(B, T, e.allocFrom(xs), { lengths: len });
  }
  m.store.zeroGrad(e);
  const dx = Float32Array.from(e.f32(m.backward(e.allocFrom(ds), { dx: true }), B * T * F));
  const gBatch = Float32Array.from(m.store.grads(e));
  const single = new SeedModel(e, cfg, 1, T);
  single.store.values(e).set(params);
  single.loadTorch({ ...single.toTorch(), ...Object.fromEntries(Object.entries(m.bn.buffers(e))) });
  single.store.zeroGrad(e);
  for (let b = 0; b < B; b++) {
    const L = len[b];
    const lo = (b * T + T - L) * F;
    const p1 = e.f32(single.forward(1, L, e.allocFrom(xs.subarray(lo, (b + 1) * T * F))), N);
    assertClose(p1, pred.subarray(b * N, (b + 1) * N), `pred b=${b}`, 1e-6);
    const dx1 = e.f32(single.backward(e.allocFrom(ds.subarray(b * N, (b + 1) * N)), { dx: true }), L * F);
    assertClose(dx1, dx.subarray(lo, (b + 1) * T * F), `dx b=${b}`, 1e-5);
    for (let i = b * T * F; i < lo; i++) assert.equal(dx[i], 0, `dx padded b=${b}`);
  }
  assertClose(single.store.grads(e), gBatch, 'param grads (sum over samples)', 1e-5);
  e.release(mark);
}
