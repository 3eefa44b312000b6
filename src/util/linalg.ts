/** Dense linear algebra on flat row-major Float64Arrays (small systems: the ridge's normal equations). */

/** Solve A x = r for symmetric positive definite A (D, D) by Cholesky A = L L^T. */
export function choleskySolve(A: Float64Array, r: Float64Array, D: number): Float64Array {
  const L = new Float64Array(D * D);
  // factor: L[i][j] = (A[i][j] - sum_k<j L[i][k] L[j][k]) / L[j][j]
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * D + j];
      for (let k = 0; k < j; k++) sum -= L[i * D + k] * L[j * D + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error(`cholesky: matrix not positive definite at column ${i}`);
        L[i * D + i] = Math.sqrt(sum);
      } else L[i * D + j] = sum / L[j * D + j];
    }
  }
  // forward: L z = r
  const z = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let sum = r[i];
    for (let k = 0; k < i; k++) sum -= L[i * D + k] * z[k];
    z[i] = sum / L[i * D + i];
  }
  // backward: L^T x = z
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < D; k++) sum -= L[k * D + i] * x[k];
    x[i] = sum / L[i * D + i];
  }
  return x;
}
