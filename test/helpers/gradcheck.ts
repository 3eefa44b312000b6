// the seeded generator lives in harness/ (the benches draw their data from it too)
export { lcg } from '../../harness/lcg.js';

/** n values uniform in [-scale, scale). */
export function uniform(n: number, rand: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rand() - 1) * scale;
  return a;
}

/** Σ a_i·b_i in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Directional-derivative check: compares the analytic ⟨grad, v⟩ with the central difference
 * (f(θ + εv) − f(θ − εv)) / 2ε of a scalar objective along a direction v. `set(θ)` writes parameters,
 * `f()` evaluates the objective (float64 sum of float32 outputs). Returns the relative error
 * |numeric − analytic| / max(|analytic|, |numeric|, floor).
 */
export function directionalCheck(
  theta: Float32Array,
  grad: ArrayLike<number>,
  v: Float32Array,
  eps: number,
  set: (theta: Float32Array) => void,
  f: () => number,
  floor = 1e-3,
): { analytic: number; numeric: number; rel: number } {
  const tp = new Float32Array(theta.length);
  const tm = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    tp[i] = theta[i] + eps * v[i];
    tm[i] = theta[i] - eps * v[i];
  }
  // analytic derivative along the step actually taken (θ ± εv rounded to f32)
  let analytic = 0;
  for (let i = 0; i < theta.length; i++) analytic += (grad[i] * (tp[i] - tm[i])) / (2 * eps);
  set(tp);
  const fp = f();
  set(tm);
  const fm = f();
  set(theta);
  const numeric = (fp - fm) / (2 * eps);
  const rel = Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), Math.abs(numeric), floor);
  return { analytic, numeric, rel };
}
