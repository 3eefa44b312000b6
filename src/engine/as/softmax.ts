// Row-wise softmax with a score scale, forward and backward, in place, for attention.
// Rows are C long with row stride ld (elements).
import { vexp, sexp } from './simd';

/** s := softmax(scale * s) along each of R rows (scale > 0). */
export function softmax_forward(R: i32, C: i32, ld: i32, scale: f32, s: usize): void {
  const C4 = C & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < R; r++) {
    const row = s + ((<usize>r * <usize>ld) << 2);
    // m = max of the row
    let mv = f32x4.splat(-Infinity);
    for (let j = 0; j < C4; j += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>j << 2)));
    let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let j = C4; j < C; j++) m = max(m, load<f32>(row + (<usize>j << 2)));
    // e = exp(scale*(s - m)) and its sum
    const mm = f32x4.splat(m);
    let zv = f32x4.splat(0);
    for (let j = 0; j < C4; j += 4) {
      const p = row + (<usize>j << 2);
      const ev = vexp(f32x4.mul(f32x4.sub(v128.load(p), mm), sv));
      v128.store(p, ev);
      zv = f32x4.add(zv, ev);
    }
    let z = f32x4.extract_lane(zv, 0) + f32x4.extract_lane(zv, 1) + f32x4.extract_lane(zv, 2) + f32x4.extract_lane(zv, 3);
    for (let j = C4; j < C; j++) {
      const p = row + (<usize>j << 2);
      const ev = sexp((load<f32>(p) - m) * scale);
      store<f32>(p, ev);
      z += ev;
    }
    // normalise by the sum
    const iz = f32x4.splat(1 / z);
    for (let j = 0; j < C4; j += 4) { const p = row + (<usize>j << 2); v128.store(p, f32x4.mul(v128.load(p), iz)); }
    for (let j = C4; j < C; j++) { const p = row + (<usize>j << 2); store<f32>(p, load<f32>(p) / z); }
  }
}

/** dp := scale * p ⊙ (dp − Σ_j p⊙dp) along each row: the gradient w.r.t. the unscaled scores. */
export function softmax_backward(R: i32, C: i32, ld: i32, scale: f32, p: usize, dp: usize): void {
  const C4 = C & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < R; r++) {
    const ro = (<usize>r * <usize>ld) << 2;
    const pr = p + ro, dr = dp + ro;
    // d = Σ_j p_j dp_j
    let dv = f32x4.splat(0);
    for (let j = 0; j < C4; j += 4) { const o = <usize>j << 2; dv = f32x4.add(dv, f32x4.mul(v128.load(pr + o), v128.load(dr + o))); }
    let d = f32x4.extract_lane(dv, 0) + f32x4.extract_lane(dv, 1) + f32x4.extract_lane(dv, 2) + f32x4.extract_lane(dv, 3);
    for (let j = C4; j < C; j++) { const o = <usize>j << 2; d += load<f32>(pr + o) * load<f32>(dr + o); }
    // dp = scale * p * (dp - d)
    const ddv = f32x4.splat(d);
    for (let j = 0; j < C4; j += 4) {
      const o = <usize>j << 2;
      v128.store(dr + o, f32x4.mul(sv, f32x4.mul(v128.load(pr + o), f32x4.sub(v128.load(dr + o), ddv))));
    }
    for (let j = C4; j < C; j++) { const o = <usize>j << 2; store<f32>(dr + o, scale * load<f32>(pr + o) * (load<f32>(dr + o) - d)); }
  }
}
