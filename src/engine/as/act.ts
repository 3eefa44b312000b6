// Element-wise kernels over flat f32 arrays (n elements; n need not be a multiple of 4).
import { vexp, vsigmoid, vtanh, vone, sexp, ssigmoid, stanh } from './simd';

/** y = sigmoid(x) */
export function sigmoid_fwd(n: i32, x: usize, y: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(y + (<usize>i << 2), vsigmoid(v128.load(x + (<usize>i << 2))));
  for (let i = n4; i < n; i++) store<f32>(y + (<usize>i << 2), ssigmoid(load<f32>(x + (<usize>i << 2))));
}

/** y = tanh(x) */
export function tanh_fwd(n: i32, x: usize, y: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(y + (<usize>i << 2), vtanh(v128.load(x + (<usize>i << 2))));
  for (let i = n4; i < n; i++) store<f32>(y + (<usize>i << 2), stanh(load<f32>(x + (<usize>i << 2))));
}

/** y = exp(x) */
export function exp_fwd(n: i32, x: usize, y: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(y + (<usize>i << 2), vexp(v128.load(x + (<usize>i << 2))));
  for (let i = n4; i < n; i++) store<f32>(y + (<usize>i << 2), sexp(load<f32>(x + (<usize>i << 2))));
}

/** y = a*x + y (axpy) */
export function axpy(n: i32, a: f32, x: usize, y: usize): void {
  const av = f32x4.splat(a);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** x *= a */
export function scale(n: i32, a: f32, x: usize): void {
  const av = f32x4.splat(a);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), av));
  for (let i = n4; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * a);
}

/** sum of squares (f64 accumulation), for gradient norms. */
export function sumsq(n: i32, x: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) { const v = <f64>load<f32>(x + (<usize>i << 2)); s += v * v; }
  return s;
}

/** x = 0 */
export function zero(n: i32, x: usize): void {
  memory.fill(x, 0, <usize>n << 2);
}

// keep vone referenced for builds that inline nothing else from simd
export function _one(): f32 { return f32x4.extract_lane(vone(), 0); }
