// Linear layer y = x·W + b over N rows (N = B*T or B), with W stored (IN, OUT) row-major, i.e. the
// transpose of PyTorch's Linear.weight (OUT, IN): the forward is then a plain NN gemm.
// Backward ACCUMULATES into dw and db (+=) and OVERWRITES dx.
import { sgemm, transpose } from './gemm';

/** c(OUT) += column sums of a (N, OUT). */
export function colsum_acc(N: i32, OUT: i32, a: usize, c: usize): void {
  const O4 = OUT & ~3;
  const row = <usize>OUT << 2;
  for (let j = 0; j < O4; j += 4) { // 4 columns at a time down all rows
    const o = <usize>j << 2;
    let s = v128.load(c + o);
    let p = a + o;
    for (let n = 0; n < N; n++) { s = f32x4.add(s, v128.load(p)); p += row; }
    v128.store(c + o, s);
  }
  for (let j = O4; j < OUT; j++) { // leftover columns
    const o = <usize>j << 2;
    let s = load<f32>(c + o);
    for (let n = 0; n < N; n++) s += load<f32>(a + <usize>n * row + o);
    store<f32>(c + o, s);
  }
}

/** y(N,OUT) = x(N,IN)·w(IN,OUT) + bias(OUT) */
export function linear_forward(N: i32, IN: i32, OUT: i32, x: usize, w: usize, bias: usize, y: usize): void {
  const row = <usize>OUT << 2;
  // y = bias in every row
  for (let n = 0; n < N; n++) memory.copy(y + <usize>n * row, bias, row);
  // y += x·w
  sgemm(N, OUT, IN, x, IN, 1, w, OUT, y, OUT, 1);
}

/** dw(IN,OUT) += xᵀ·dy, db += colsum(dy), dx(N,IN) = dy·wᵀ (skipped when dx = 0). wT: scratch (OUT, IN). */
export function linear_backward(N: i32, IN: i32, OUT: i32, x: usize, w: usize, dy: usize,
                                dx: usize, dw: usize, db: usize, wT: usize): void {
  // dw += xᵀ·dy (x read transposed: TN)
  sgemm(IN, OUT, N, x, 1, IN, dy, OUT, dw, OUT, 1);
  // db += column sums of dy
  colsum_acc(N, OUT, dy, db);
  if (dx == 0) return;
  // wT = wᵀ (OUT, IN), so that dx = dy·wT is an NN gemm
  transpose(IN, OUT, w, wT);
  // dx = dy·wᵀ
  sgemm(N, IN, OUT, dy, OUT, 1, wT, IN, dx, IN, 0);
}
