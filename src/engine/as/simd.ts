// Shared SIMD helpers for the kernels. Built twice: plain SIMD, and relaxed SIMD (fused multiply-add).
// All pointers are byte offsets into linear memory; all tensors are f32, row-major.

/** a*b + c, fused when built with relaxed SIMD. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}

// Constants live in linear memory: one load is cheaper under V8 than materialising v128.const.
// 0:-87 1:87 2:round magic 1.5*2^23 3:log2(e) 4:ln2 hi 5:ln2 lo 6..11: exp polynomial 12: 1 13: 2
const KT: usize = memory.data<f32>([
  -87.0, -87.0, -87.0, -87.0, 87.0, 87.0, 87.0, 87.0,
  12582912.0, 12582912.0, 12582912.0, 12582912.0,
  1.4426950408889634, 1.4426950408889634, 1.4426950408889634, 1.4426950408889634,
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  -0.00021219444005469057, -0.00021219444005469057, -0.00021219444005469057, -0.00021219444005469057,
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,
  1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0,
], 16);

@inline export function vconst(i: i32): v128 {
  return v128.load(KT + (<usize>i << 4));
}

@inline export function vone(): v128 {
  return vconst(12);
}

/** exp(x) for 4 lanes: clamp to [-87, 87], x = n*ln2 + r, exp(r) by a degree-6 polynomial, times 2^n. */
@inline export function vexp(x0: v128): v128 {
  const x = f32x4.pmin(f32x4.pmax(x0, vconst(0)), vconst(1)); // clamp (pmin/pmax: one instruction each)
  const magic = vconst(2);
  const k = f32x4.add(f32x4.mul(x, vconst(3)), magic); // round(x/ln2) lands in k's low mantissa bits
  const n = f32x4.sub(k, magic); // n as a float
  let r = f32x4.sub(x, f32x4.mul(n, vconst(4))); // r = x - n*ln2 in two steps (Cody-Waite)
  r = f32x4.sub(r, f32x4.mul(n, vconst(5)));
  let p = vconst(6); // Horner: p(r) ~ (exp(r) - 1 - r) / r^2
  p = madd(p, r, vconst(7));
  p = madd(p, r, vconst(8));
  p = madd(p, r, vconst(9));
  p = madd(p, r, vconst(10));
  p = madd(p, r, vconst(11));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), vone()); // exp(r) = 1 + r + r^2 p(r)
  const pow2 = i32x4.add(i32x4.shl(i32x4.sub(k, magic), 23), vone()); // 2^n built in the exponent bits
  return f32x4.mul(p, pow2);
}

/** 1 / (1 + exp(-x)) */
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(vone(), f32x4.add(vone(), vexp(f32x4.neg(x))));
}

/** tanh(x) = 1 - 2 / (exp(2x) + 1) */
@inline export function vtanh(x: v128): v128 {
  const e = vexp(f32x4.add(x, x));
  return f32x4.sub(vone(), f32x4.div(vconst(13), f32x4.add(e, vone())));
}

/** Scalar versions (for tails and tests). */
@inline export function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}
@inline export function ssigmoid(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0);
}
@inline export function stanh(x: f32): f32 {
  return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0);
}
