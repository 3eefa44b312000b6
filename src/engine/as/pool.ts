// Mean over the valid time steps of left-padded sequences, and the padding-mask helpers.
// x is (B, T, C) row-major; lengths (B) i32: sample b's valid steps are t >= T - lengths[b].
// Backward OVERWRITES dx (padded steps get 0).

/** y(B,C) = mean over valid t of x(B,T,C) */
export function meanpool_forward(B: i32, T: i32, C: i32, lengths: usize, x: usize, y: usize): void {
  const C4 = C & ~3;
  const row = <usize>C << 2;
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const x0 = x + (<usize>b * T + (T - L)) * row, yb = y + <usize>b * row;
    const inv: f32 = 1 / <f32>L;
    // sum the L valid rows, 4 channels at a time, then scale by 1/L
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2;
      let s = f32x4.splat(0);
      for (let t = 0; t < L; t++) s = f32x4.add(s, v128.load(x0 + <usize>t * row + o));
      v128.store(yb + o, f32x4.mul(s, f32x4.splat(inv)));
    }
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2;
      let s: f32 = 0;
      for (let t = 0; t < L; t++) s += load<f32>(x0 + <usize>t * row + o);
      store<f32>(yb + o, s * inv);
    }
  }
}

/** dx(B,T,C) = dy(B,C)/L at valid steps, 0 at padded steps */
export function meanpool_backward(B: i32, T: i32, C: i32, lengths: usize, dy: usize, dx: usize): void {
  const row = <usize>C << 2;
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const off = T - L;
    const xb = dx + <usize>b * T * row, yb = dy + <usize>b * row;
    const inv: f32 = 1 / <f32>L;
    // padded steps: 0
    memory.fill(xb, 0, <usize>off * row);
    // valid steps: dy/L
    for (let t = off; t < T; t++) {
      const xt = xb + <usize>t * row;
      for (let c = 0; c < C; c++) store<f32>(xt + (<usize>c << 2), load<f32>(yb + (<usize>c << 2)) * inv);
    }
  }
}

/** x(B,T,C): zero the padded steps of every sample */
export function zero_padded(B: i32, T: i32, C: i32, lengths: usize, x: usize): void {
  const row = <usize>C << 2;
  for (let b = 0; b < B; b++) {
    const off = T - load<i32>(lengths + (<usize>b << 2));
    memory.fill(x + <usize>b * T * row, 0, <usize>off * row);
  }
}

/** c(C) += column sums of a(B,T,C) over valid steps only */
export function colsum_valid_acc(B: i32, T: i32, C: i32, lengths: usize, a: usize, c: usize): void {
  const C4 = C & ~3;
  const row = <usize>C << 2;
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const a0 = a + (<usize>b * T + (T - L)) * row;
    for (let j = 0; j < C4; j += 4) {
      const o = <usize>j << 2;
      let s = v128.load(c + o);
      for (let t = 0; t < L; t++) s = f32x4.add(s, v128.load(a0 + <usize>t * row + o));
      v128.store(c + o, s);
    }
    for (let j = C4; j < C; j++) {
      const o = <usize>j << 2;
      let s = load<f32>(c + o);
      for (let t = 0; t < L; t++) s += load<f32>(a0 + <usize>t * row + o);
      store<f32>(c + o, s);
    }
  }
}
