// Optimizer updates over flat parameter / gradient / state blocks (PyTorch single-tensor Adam, AdamW).

/**
 * One Adam/AdamW step on n values, in PyTorch's order of operations:
 *   decay (AdamW: 1 − lr·wd, else 1): p *= decay          l2 (Adam's weight_decay, else 0): g += l2·p
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   p −= step · m / (sqrt(v) / bc2s + eps)      with step = lr / (1 − β1^t), bc2s = sqrt(1 − β2^t)
 * The caller computes the scalars in f64 (b1c = 1 − β1, b2c = 1 − β2, …) as PyTorch does in Python,
 * so each is rounded to f32 once.
 */
export function adam_step(n: i32, p: usize, g: usize, m: usize, v: usize, b1: f32, b1c: f32, b2: f32, b2c: f32,
                          step: f32, bc2s: f32, eps: f32, l2: f32, decay: f32): void {
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(b1c), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(b2c);
  const vdecay = f32x4.splat(decay), vl2 = f32x4.splat(l2), vstep = f32x4.splat(step);
  const vbc2 = f32x4.splat(bc2s), veps = f32x4.splat(eps);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    let pv = v128.load(p + o);
    let gv = v128.load(g + o);
    // weight decay: decoupled shrink or L2 term in the gradient
    if (decay != 1) pv = f32x4.mul(pv, vdecay);
    if (l2 != 0) gv = f32x4.add(gv, f32x4.mul(pv, vl2));
    // first and second moments
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vb1c));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), vb2c));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    // bias-corrected step
    const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc2), veps);
    v128.store(p + o, f32x4.sub(pv, f32x4.mul(vstep, f32x4.div(mv, den))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    let pv = load<f32>(p + o), gv = load<f32>(g + o);
    if (decay != 1) pv *= decay;
    if (l2 != 0) gv += l2 * pv;
    const mv = load<f32>(m + o) * b1 + gv * b1c;
    const vv = load<f32>(v + o) * b2 + gv * gv * b2c;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    store<f32>(p + o, pv - step * (mv / (sqrt<f32>(vv) / bc2s + eps)));
  }
}

/** Σ x² in f64 with SIMD (two f64x2 accumulators), for the global gradient norm. */
export function sumsq_f64(n: i32, x: usize): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo)); b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a, b);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (let i = n4; i < n; i++) { const v = <f64>load<f32>(x + (<usize>i << 2)); r += v * v; }
  return r;
}
