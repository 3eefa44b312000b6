// Fused LSTM, one layer-direction, forward and backward (BPTT), over flat f32 buffers.
//
// Layout (time-major inside the kernel; the TS stack converts from/to batch-first at its boundary):
//   row r = t*B + b for time t, sample b;  every per-step block (B rows) is contiguous.
//   x     (T*B, F)   row stride ldx           input sequence
//   W     (F, 4H)    = PyTorch weight_ihᵀ     input weights, gate column blocks i, f, g, o
//   U     (H, 4H)    = PyTorch weight_hhᵀ     recurrent weights, same blocks
//   bih, bhh (4H)    the two PyTorch biases (summed for compute; their grads are equal)
//   gates (T*B, 4H)  activated gates i f g o (forward) — OVERWRITTEN by dGates in backward
//   cs, tcs (T*B, H) c_t and tanh(c_t)
//   hs    (T*B, H)   row stride ldh           h_t (the output; ldh = 2H lets both directions share a buffer)
// Direction: reverse = 0 runs t = 0 → T-1 (previous step t-1); reverse = 1 runs t = T-1 → 0 (previous t+1).
// Variable length, LEFT padding: lengths (B) i32, or 0 for all = T. Sample b is valid at t >= T - len[b].
//   Padded rows get h = c = tanh(c) = 0 and, in backward, dGates = 0, so they neither produce outputs nor
//   receive or pass gradients; the first valid step of either direction then starts from a zero state.
// Requires H % 4 == 0.
import { sgemm, transpose } from './gemm';
import { madd, vone, vsigmoid, vtanh } from './simd';

/** First valid time step of sample b (T - len[b]); 0 when there are no lengths. */
@inline function firstValid(T: i32, lengths: usize, b: i32): i32 {
  return lengths ? T - load<i32>(lengths + (<usize>b << 2)) : 0;
}

/** Zero n floats at p. */
@inline function zeroRow(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/**
 * c(1, N) += a(1, K)·B(K, N) for one row: 28 columns at a time (7 independent accumulators: V8 loads all
 * of a step's B vectors before the multiply-adds, so 7 + 7 + 1 of its 15 vector registers; 8 spilled
 * one accumulator to the stack and serialised the loop), then 8 and 4 at a time. N % 4 == 0.
 */
@inline function rowTimes(N: i32, K: i32, a: usize, b: usize, c: usize): void {
  const ldb = <usize>N << 2;
  let j = 0;
  for (; j + 28 <= N; j += 28) {
    const pc = c + (<usize>j << 2);
    let c0 = v128.load(pc), c1 = v128.load(pc, 16), c2 = v128.load(pc, 32), c3 = v128.load(pc, 48);
    let c4 = v128.load(pc, 64), c5 = v128.load(pc, 80), c6 = v128.load(pc, 96);
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const av = v128.load32_splat(a + (<usize>k << 2)); // a(k) broadcast
      c0 = madd(av, v128.load(pb), c0); c1 = madd(av, v128.load(pb, 16), c1);
      c2 = madd(av, v128.load(pb, 32), c2); c3 = madd(av, v128.load(pb, 48), c3);
      c4 = madd(av, v128.load(pb, 64), c4); c5 = madd(av, v128.load(pb, 80), c5);
      c6 = madd(av, v128.load(pb, 96), c6);
      pb += ldb;
    }
    v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
    v128.store(pc, c4, 64); v128.store(pc, c5, 80); v128.store(pc, c6, 96);
  }
  for (; j + 8 <= N; j += 8) { // remaining columns, 8 at a time
    const pc = c + (<usize>j << 2);
    let c0 = v128.load(pc), c1 = v128.load(pc, 16);
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const av = v128.load32_splat(a + (<usize>k << 2));
      c0 = madd(av, v128.load(pb), c0); c1 = madd(av, v128.load(pb, 16), c1);
      pb += ldb;
    }
    v128.store(pc, c0); v128.store(pc, c1, 16);
  }
  if (j < N) { // the last 4 columns
    const pc = c + (<usize>j << 2);
    let c0 = v128.load(pc);
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      c0 = madd(v128.load32_splat(a + (<usize>k << 2)), v128.load(pb), c0);
      pb += ldb;
    }
    v128.store(pc, c0);
  }
}

/**
 * gates(B, N) += h(B, K)·U(K, N), h rows strided by ldh: the 4-row strips go to sgemm; leftover rows
 * (all of them for a single forecast, B = 1) use rowTimes, which keeps 7 accumulators in flight.
 */
function recurrent(B: i32, N: i32, K: i32, h: usize, ldh: i32, U: usize, gates: usize): void {
  const B4 = B & ~3;
  if (B4) sgemm(B4, N, K, h, ldh, 1, U, N, gates, N, 1);
  for (let b = B4; b < B; b++) rowTimes(N, K, h + (<usize>b * ldh << 2), U, gates + (<usize>b * N << 2));
}

/**
 * Forward of one layer-direction over T steps and B samples (shapes above). Writes gates, cs, tcs, hs,
 * and the final state hn, cn (B, H) when non-zero (forward: t = T-1; reverse: t = T - len[b]).
 * bsum: scratch (4H).
 */
export function lstm_forward(
  T: i32, B: i32, F: i32, H: i32, reverse: i32,
  x: usize, ldx: i32, W: usize, U: usize, bih: usize, bhh: usize, lengths: usize,
  gates: usize, cs: usize, tcs: usize, hs: usize, ldh: i32,
  hn: usize, cn: usize, bsum: usize,
): void {
  const G = H << 2;
  const rowG = <usize>G << 2, rowH = <usize>H << 2, rowHs = <usize>ldh << 2;
  // bsum = bih + bhh (one bias for compute)
  for (let j = 0; j < G; j += 4) {
    const o = <usize>j << 2;
    v128.store(bsum + o, f32x4.add(v128.load(bih + o), v128.load(bhh + o)));
  }
  // gates = X·W for all T*B rows in one gemm (bias is added in the fused step)
  sgemm(T * B, G, F, x, ldx, 1, W, G, gates, G, 0);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const tp = reverse ? t + 1 : t - 1; // previous step in processing order (valid when s > 0)
    const gt = gates + <usize>t * B * rowG;
    // gates_t += h_prev·U (padded h_prev rows are 0, so they add nothing)
    if (s > 0) recurrent(B, G, H, hs + <usize>tp * B * rowHs, ldh, U, gt);
    for (let b = 0; b < B; b++) {
      const r = <usize>(t * B + b);
      const pc = cs + r * rowH, ptc = tcs + r * rowH, ph = hs + r * rowHs;
      if (t < firstValid(T, lengths, b)) { // padding: zero state and output
        zeroRow(pc, H); zeroRow(ptc, H); zeroRow(ph, H);
        continue;
      }
      const pg = gt + <usize>b * rowG;
      const pcp = cs + <usize>(tp * B + b) * rowH; // c_prev row (read only when s > 0)
      for (let j = 0; j < H; j += 4) {
        const o = <usize>j << 2;
        const pi = pg + o, pf = pi + rowH, pgg = pf + rowH, po = pgg + rowH;
        const bi = bsum + o, bf = bi + rowH, bg = bf + rowH, bo = bg + rowH;
        // activated gates from pre-activations + bias
        const ig = vsigmoid(f32x4.add(v128.load(pi), v128.load(bi)));
        const fg = vsigmoid(f32x4.add(v128.load(pf), v128.load(bf)));
        const gg = vtanh(f32x4.add(v128.load(pgg), v128.load(bg)));
        const og = vsigmoid(f32x4.add(v128.load(po), v128.load(bo)));
        v128.store(pi, ig); v128.store(pf, fg); v128.store(pgg, gg); v128.store(po, og);
        // c = f*c_prev + i*g ; h = o*tanh(c)
        let c = f32x4.mul(ig, gg);
        if (s > 0) c = madd(fg, v128.load(pcp + o), c);
        const tc = vtanh(c);
        v128.store(pc + o, c);
        v128.store(ptc + o, tc);
        v128.store(ph + o, f32x4.mul(og, tc));
      }
    }
  }
  // final state: last processed valid step of each sample (zero for an empty sample)
  if (hn || cn) {
    for (let b = 0; b < B; b++) {
      const t0 = firstValid(T, lengths, b);
      const tf = reverse ? t0 : T - 1;
      const r = <usize>(tf * B + b);
      const empty = t0 >= T;
      if (hn) { const d = hn + <usize>b * rowH; if (empty) zeroRow(d, H); else memory.copy(d, hs + r * rowHs, rowH); }
      if (cn) { const d = cn + <usize>b * rowH; if (empty) zeroRow(d, H); else memory.copy(d, cs + r * rowH, rowH); }
    }
  }
}

/**
 * Backward (BPTT) of one layer-direction; call once after the matching lstm_forward (it overwrites the
 * gates with dGates). Inputs: dhs (T*B, H) row stride lddh = dL/dh_t from above; dhn, dcn (B, H) =
 * dL/d(final h, c), or 0. ACCUMULATES (+=) into dW (F,4H), dU (H,4H), dbih, dbhh (4H, both get
 * colsum(dG)), and dx (T*B, F) row stride lddx when dx != 0 (so both directions of an upper layer sum
 * into one input gradient). Scratch: WT (4H*F), UT (4H*H), dh, dc (B*H).
 */
export function lstm_backward(
  T: i32, B: i32, F: i32, H: i32, reverse: i32,
  x: usize, ldx: i32, W: usize, U: usize, lengths: usize,
  gates: usize, cs: usize, tcs: usize, hs: usize, ldh: i32,
  dhs: usize, lddh: i32, dhn: usize, dcn: usize,
  dx: usize, lddx: i32, dW: usize, dU: usize, dbih: usize, dbhh: usize,
  WT: usize, UT: usize, dh: usize, dc: usize,
): void {
  const G = H << 2;
  const rowG = <usize>G << 2, rowH = <usize>H << 2, rowHs = <usize>ldh << 2, rowDh = <usize>lddh << 2;
  // Uᵀ (4H, H) for dh_prev = dG·Uᵀ; Wᵀ (4H, F) for dx = dG·Wᵀ
  transpose(H, G, U, UT);
  if (dx) transpose(F, G, W, WT);
  // carried gradients start at zero (the state after the last processed step feeds nothing)
  zeroRow(dh, B * H);
  zeroRow(dc, B * H);
  const one = vone();
  const zero = f32x4.splat(0);
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const tp = reverse ? t + 1 : t - 1;
    const gt = gates + <usize>t * B * rowG;
    for (let b = 0; b < B; b++) {
      const r = <usize>(t * B + b);
      const pg = gt + <usize>b * rowG;
      const pdc = dc + <usize>b * rowH, pdh = dh + <usize>b * rowH;
      const t0 = firstValid(T, lengths, b);
      if (t < t0) { // padding: no gradient through this row, nothing carried to the next
        zeroRow(pg, G); zeroRow(pdc, H);
        continue;
      }
      // the last processed step of this sample is where dL/d(h_n, c_n) enters
      const last = reverse ? t == t0 : t == T - 1;
      const pdhn = last && dhn ? dhn + <usize>b * rowH : 0;
      const pdcn = last && dcn ? dcn + <usize>b * rowH : 0;
      const ptc = tcs + r * rowH, pdo = dhs + r * rowDh;
      const pcp = cs + <usize>(tp * B + b) * rowH;
      for (let j = 0; j < H; j += 4) {
        const o = <usize>j << 2;
        const pi = pg + o, pf = pi + rowH, pgg = pf + rowH, po = pgg + rowH;
        const ig = v128.load(pi), fg = v128.load(pf), gg = v128.load(pgg), og = v128.load(po);
        const tc = v128.load(ptc + o);
        // dh = carried + from above (+ dh_n)
        let dhv = f32x4.add(v128.load(pdh + o), v128.load(pdo + o));
        if (pdhn) dhv = f32x4.add(dhv, v128.load(pdhn + o));
        // dc = carried + dh*o*(1 - tanh(c)^2) (+ dc_n)
        let dcv = madd(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc)), v128.load(pdc + o));
        if (pdcn) dcv = f32x4.add(dcv, v128.load(pdcn + o));
        const cp = s > 0 ? v128.load(pcp + o) : zero;
        // dGates (pre-activation) written over the activated gates
        v128.store(pi, f32x4.mul(f32x4.mul(dcv, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
        v128.store(pf, f32x4.mul(f32x4.mul(dcv, cp), f32x4.mul(fg, f32x4.sub(one, fg))));
        v128.store(pgg, f32x4.mul(f32x4.mul(dcv, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
        v128.store(po, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
        // dc carried to the previous step
        v128.store(pdc + o, f32x4.mul(dcv, fg));
      }
    }
    // dh carried to the previous step = dG_t·Uᵀ
    if (s > 0) sgemm(B, H, G, gt, G, 1, UT, H, dh, H, 0);
  }
  const rows = T * B;
  // dW += Xᵀ·dG
  sgemm(F, G, rows, x, 1, ldx, gates, G, dW, G, 1);
  // dU += H_prevᵀ·dG over the steps that had a previous step
  const hp = reverse ? hs + <usize>B * rowHs : hs;
  const dgp = reverse ? gates : gates + <usize>B * rowG;
  sgemm(H, G, (T - 1) * B, hp, 1, ldh, dgp, G, dU, G, 1);
  // colsum(dG) into UT (free after the loop), row by row so dG streams through memory once
  zeroRow(UT, G);
  for (let r = 0; r < rows; r++) {
    const pr = gates + <usize>r * rowG;
    for (let j = 0; j < G; j += 4) {
      const o = <usize>j << 2;
      v128.store(UT + o, f32x4.add(v128.load(UT + o), v128.load(pr + o)));
    }
  }
  // dbih += colsum(dG), dbhh += colsum(dG)
  for (let j = 0; j < G; j += 4) {
    const o = <usize>j << 2;
    const acc = v128.load(UT + o);
    v128.store(dbih + o, f32x4.add(v128.load(dbih + o), acc));
    v128.store(dbhh + o, f32x4.add(v128.load(dbhh + o), acc));
  }
  // dx += dG·Wᵀ
  if (dx) sgemm(rows, F, G, gates, G, 1, WT, F, dx, lddx, 1);
}

/** dst (D1, D0, C) = src (D0, D1, C) with the first two axes swapped (batch-first <-> time-major). */
export function lstm_swap01(D0: i32, D1: i32, C: i32, src: usize, dst: usize): void {
  const row = <usize>C << 2;
  for (let i = 0; i < D0; i++)
    for (let j = 0; j < D1; j++) memory.copy(dst + (<usize>j * D0 + i) * row, src + (<usize>i * D1 + j) * row, row);
}

/** out = a * b element-wise (n floats; out may alias a or b). Used for dropout masks between layers. */
export function lstm_mul(n: i32, a: usize, b: usize, out: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}
