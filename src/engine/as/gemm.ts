// sgemm: C = A·B (+ C when beta = 1), f32, with a 4x8 register tile of f32x4 accumulators.
// Layouts via strides (in elements):
//   A(i,k) at a + 4*(i*sai + k*sak)   NN: sai = lda, sak = 1      TN (A stored K x M): sai = 1, sak = lda
//   B(k,j) at b + 4*(k*ldb + j)       (B row-major; for A·Bᵀ transpose B first with `transpose`)
//   C(i,j) at c + 4*(i*ldc + j)
// K is blocked by KC so a KC x N panel of B stays in L2. A 6x8 tile measured slower under V8 (register spills).
import { madd } from './simd';

const KC: i32 = 256;

/** 4 rows x 8 columns of C over kc steps of K. */
@inline function tile4x8(kc: i32, a: usize, sai: usize, sak: usize, b: usize, ldb: usize, c: usize, ldc: usize, beta: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = a, pb = b;
  const sai2 = sai << 1, sai3 = sai * 3;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16); // B(k, j..j+7)
    let av = v128.load32_splat(pa); // A(i, k) broadcast
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa + sai);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa + sai2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa + sai3);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    pa += sak; pb += ldb;
  }
  if (beta) { // accumulate into C
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc)); c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** 1 row x 8 columns. */
@inline function tile1x8(kc: i32, a: usize, sak: usize, b: usize, ldb: usize, c: usize, beta: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pa = a, pb = b;
  for (let k = 0; k < kc; k++) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0); c1 = madd(av, v128.load(pb, 16), c1);
    pa += sak; pb += ldb;
  }
  if (beta) { c0 = f32x4.add(c0, v128.load(c)); c1 = f32x4.add(c1, v128.load(c, 16)); }
  v128.store(c, c0); v128.store(c, c1, 16);
}

/** 1 row x 1 column (ragged edge, N not a multiple of 8). */
@inline function tile1x1(kc: i32, a: usize, sak: usize, b: usize, ldb: usize, c: usize, beta: i32): void {
  let s: f32 = 0;
  let pa = a, pb = b;
  for (let k = 0; k < kc; k++) { s += load<f32>(pa) * load<f32>(pb); pa += sak; pb += ldb; }
  if (beta) s += load<f32>(c);
  store<f32>(c, s);
}

/** C(M,N) = A(M,K)·B(K,N) (+ C if beta). Strides in elements; see the header comment. */
export function sgemm(M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, beta: i32): void {
  const saiB = <usize>sai << 2, sakB = <usize>sak << 2, ldbB = <usize>ldb << 2, ldcB = <usize>ldc << 2;
  if (K <= 0) { // empty sum: C = 0 (or unchanged)
    if (!beta) for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>N << 2);
    return;
  }
  const N8 = N & ~7;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const bt = k0 == 0 ? beta : 1; // later K blocks accumulate
    const ak = a + <usize>k0 * sakB, bk = b + <usize>k0 * ldbB;
    let i = 0;
    for (; i + 4 <= M; i += 4) { // full 4-row strips
      const ai = ak + <usize>i * saiB, ci = c + <usize>i * ldcB;
      for (let j = 0; j < N8; j += 8) tile4x8(kc, ai, saiB, sakB, bk + (<usize>j << 2), ldbB, ci + (<usize>j << 2), ldcB, bt);
    }
    for (; i < M; i++) { // leftover rows
      const ai = ak + <usize>i * saiB, ci = c + <usize>i * ldcB;
      for (let j = 0; j < N8; j += 8) tile1x8(kc, ai, sakB, bk + (<usize>j << 2), ldbB, ci + (<usize>j << 2), bt);
    }
    if (N8 < N) { // leftover columns
      for (let r = 0; r < M; r++) {
        const ai = ak + <usize>r * saiB, ci = c + <usize>r * ldcB;
        for (let j = N8; j < N; j++) tile1x1(kc, ai, sakB, bk + (<usize>j << 2), ldbB, ci + (<usize>j << 2), bt);
      }
    }
  }
}

/** out(cols, rows) = inp(rows, cols)ᵀ, blocked 8x8 for cache locality. */
export function transpose(rows: i32, cols: i32, inp: usize, out: usize): void {
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = min(r0 + 8, rows);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = min(c0 + 8, cols);
      for (let r = r0; r < r1; r++)
        for (let c = c0; c < c1; c++)
          store<f32>(out + ((<usize>c * rows + r) << 2), load<f32>(inp + ((<usize>r * cols + c) << 2)));
    }
  }
}
