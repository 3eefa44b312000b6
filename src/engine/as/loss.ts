// Training losses. Each returns its value (f64) and, when the gradient pointer is non-zero,
// ADDS weight * d(value)/d(input) into it, so terms compose: total = Σ_k weight_k * value_k.

/** mean over n of Huber_δ(pred − target); gradient into dpred and (if non-zero) dtarget. */
export function huber_loss(n: i32, delta: f32, pred: usize, target: usize, weight: f32, dpred: usize, dtarget: usize): f64 {
  let s: f64 = 0;
  const dl = <f64>delta;
  const g: f32 = weight / <f32>n;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(pred + o) - load<f32>(target + o);
    const a = <f64>abs(d);
    // 0.5 d² inside δ, δ(|d| − δ/2) outside
    s += a < dl ? 0.5 * a * a : dl * (a - 0.5 * dl);
    // d/dpred = clamp(d, −δ, δ) / n
    const c = g * min(max(d, -delta), delta);
    if (dpred) store<f32>(dpred + o, load<f32>(dpred + o) + c);
    if (dtarget) store<f32>(dtarget + o, load<f32>(dtarget + o) - c);
  }
  return s / <f64>n;
}

/** mean over B*(N−1) of (pred[b,j+1] − pred[b,j])²; gradient into dpred. pred is (B, N). N >= 2. */
export function smooth_loss(B: i32, N: i32, pred: usize, weight: f32, dpred: usize): f64 {
  let s: f64 = 0;
  const g: f32 = 2 * weight / <f32>(B * (N - 1));
  for (let b = 0; b < B; b++) {
    const row = pred + ((<usize>b * N) << 2), drow = dpred + ((<usize>b * N) << 2);
    for (let j = 0; j < N - 1; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(row + o + 4) - load<f32>(row + o);
      s += <f64>d * <f64>d;
      // d/dpred[j+1] = 2d/m, d/dpred[j] = −2d/m
      if (dpred) {
        store<f32>(drow + o + 4, load<f32>(drow + o + 4) + g * d);
        store<f32>(drow + o, load<f32>(drow + o) - g * d);
      }
    }
  }
  return s / <f64>(B * (N - 1));
}

/**
 * Pinball (quantile) loss, mean over B*Q*N: pred (B, Q, N) holds quantile q's forecast row, target (B, N),
 * taus (Q) the quantile levels. With u = target − pred: ρ_τ(u) = max(τu, (τ − 1)u).
 * d/dpred = −τ where u > 0, 1 − τ where u < 0, and 1/2 − τ at u = 0 (the subgradient's midpoint).
 */
export function pinball_loss(B: i32, Q: i32, N: i32, taus: usize, pred: usize, target: usize, weight: f32, dpred: usize): f64 {
  let s: f64 = 0;
  const g: f32 = weight / <f32>(B * Q * N);
  for (let b = 0; b < B; b++) for (let q = 0; q < Q; q++) {
    const tau = load<f32>(taus + (<usize>q << 2));
    const po = ((<usize>(b * Q + q) * N) << 2), to = (<usize>b * N) << 2;
    for (let j = 0; j < N; j++) {
      const o = <usize>j << 2;
      const u = load<f32>(target + to + o) - load<f32>(pred + po + o);
      s += <f64>max(tau * u, (tau - 1) * u);
      if (dpred) {
        const d: f32 = u > 0 ? -tau : u < 0 ? 1 - tau : 0.5 - tau;
        store<f32>(dpred + po + o, load<f32>(dpred + po + o) + g * d);
      }
    }
  }
  return s / <f64>(B * Q * N);
}
