// Multi-head self-attention core (PyTorch nn.MultiheadAttention semantics, q = k = v = x), between the
// input projection (qkv = x·Win + bin, a linear layer) and the output projection (also a linear layer).
//   qkv  (B, T, 3E): q in columns [0,E), k in [E,2E), v in [2E,3E); head h uses columns h*D..(h+1)*D-1
//                    of each third (D = E/NH)
//   att  (B, NH, T, T) slots: the softmax probabilities P of (b, h) as an (L, L) block at the slot start
//   out  (B, T, E): the concatenated head outputs
// Sequences are left-padded: sample b has L = lengths[b] valid steps t >= T - L. Padded keys are masked
// (equivalently: only the valid L x L block is computed), padded query rows of `out` are 0, and
// padded rows get 0 gradient. So a sample inside a padded window gives exactly what it gives alone.
// Attention dropout (p > 0): P·V uses P ⊙ keep / (1 - p), the mask from dropout's counter hash with
// index ((b*NH + h)*T + i)*T + j for absolute query/key positions i, j.
// Backward OVERWRITES dqkv.
import { sgemm } from './gemm';
import { softmax_forward, softmax_backward } from './softmax';
import { dropout_apply } from './dropout';

/** out(D, L) = a(L, D)ᵀ for a with row stride lda (elements). */
export function transpose_strided(L: i32, D: i32, a: usize, lda: i32, out: usize): void {
  for (let t0 = 0; t0 < L; t0 += 8) {
    const t1 = min(t0 + 8, L);
    for (let d = 0; d < D; d++) {
      const o = out + ((<usize>d * L) << 2);
      for (let t = t0; t < t1; t++) store<f32>(o + (<usize>t << 2), load<f32>(a + ((<usize>t * lda + d) << 2)));
    }
  }
}

/** Apply the attention-dropout mask of block (b,h) rows to src (L, L) into dst. */
function drop_block(L: i32, T: i32, off: i32, bh: i32, p: f32, seed: u32, src: usize, dst: usize): void {
  for (let i = 0; i < L; i++) {
    const idx = <u32>((bh * T + off + i) * T + off);
    const o = (<usize>i * L) << 2;
    dropout_apply(L, p, seed, idx, src + o, dst + o);
  }
}

/** out = concat_h softmax(Q_h K_hᵀ / sqrt(D)) V_h per sample. Scratch: kt (D*T), pd (T*T, used if p > 0). */
export function attention_forward(B: i32, T: i32, E: i32, NH: i32, lengths: usize, qkv: usize, att: usize,
                                  out: usize, p: f32, seed: u32, kt: usize, pd: usize): void {
  const D = E / NH, E3 = 3 * E;
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>D));
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const off = T - L;
    // padded query rows of out: 0
    memory.fill(out + ((<usize>b * T * E) << 2), 0, (<usize>off * E) << 2);
    for (let h = 0; h < NH; h++) {
      const q = qkv + (((<usize>b * T + off) * E3 + h * D) << 2);
      const k = q + (<usize>E << 2), v = q + (<usize>(2 * E) << 2);
      const P = att + ((<usize>(b * NH + h) * T * T) << 2);
      // Kᵀ (D, L) from the strided key rows
      transpose_strided(L, D, k, E3, kt);
      // S = Q·Kᵀ (L, L)
      sgemm(L, L, D, q, E3, 1, kt, L, P, L, 0);
      // P = softmax(S / sqrt(D)) per query row (kept for backward)
      softmax_forward(L, L, L, scale, P);
      // attention dropout on a copy of P
      let pp = P;
      if (p > 0) { drop_block(L, T, off, b * NH + h, p, seed, P, pd); pp = pd; }
      // O_h = P·V_h (L, D) into columns h*D.. of out
      sgemm(L, D, L, pp, L, 1, v, E3, out + (((<usize>b * T + off) * E + h * D) << 2), E, 0);
    }
  }
}

/** dqkv from dout (B,T,E) given the forward's qkv and att. Scratch: vt (D*T), dp (T*T), pd (T*T if p > 0). */
export function attention_backward(B: i32, T: i32, E: i32, NH: i32, lengths: usize, qkv: usize, att: usize,
                                   dout: usize, dqkv: usize, p: f32, seed: u32, vt: usize, dp: usize, pd: usize): void {
  const D = E / NH, E3 = 3 * E;
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>D));
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const off = T - L;
    // padded rows of dqkv: 0
    memory.fill(dqkv + ((<usize>b * T * E3) << 2), 0, (<usize>off * E3) << 2);
    for (let h = 0; h < NH; h++) {
      const ro = ((<usize>b * T + off) * E3 + h * D) << 2;
      const q = qkv + ro, k = q + (<usize>E << 2), v = q + (<usize>(2 * E) << 2);
      const dq = dqkv + ro, dk = dq + (<usize>E << 2), dv = dq + (<usize>(2 * E) << 2);
      const dO = dout + (((<usize>b * T + off) * E + h * D) << 2);
      const P = att + ((<usize>(b * NH + h) * T * T) << 2);
      // Vᵀ (D, L)
      transpose_strided(L, D, v, E3, vt);
      // dP = dO·Vᵀ (L, L) (w.r.t. the dropped probabilities)
      sgemm(L, L, D, dO, E, 1, vt, L, dp, L, 0);
      // dropout: rebuild the dropped P, and take dP back through the mask
      let pp = P;
      if (p > 0) {
        drop_block(L, T, off, b * NH + h, p, seed, P, pd); pp = pd;
        drop_block(L, T, off, b * NH + h, p, seed, dp, dp);
      }
      // dV = Pᵀ·dO (L, D)
      sgemm(L, D, L, pp, 1, L, dO, E, dv, E3, 0);
      // dS = P ⊙ (dP − rowsum(P ⊙ dP)) / sqrt(D), in place in dp
      softmax_backward(L, L, L, scale, P, dp);
      // dQ = dS·K (L, D)
      sgemm(L, D, L, dp, L, 1, k, E3, dq, E3, 0);
      // dK = dSᵀ·Q (L, D)
      sgemm(L, D, L, dp, 1, L, q, E3, dk, E3, 0);
    }
  }
}

/**
 * Inference shortcut (eval, no dropout, no backward) for attention followed by the mean over valid steps.
 * With w_j = mean_i P[i, j] (column means of the softmax), mean_i O_h[i] = Σ_j w_j V_h[j]
 * = (Σ_j w_j x_j)·Wv_h + bv_h since Σ_j w_j = 1: so neither P·V nor the value projection of every row is
 * needed, only Q and K of the valid rows. pooled (B, E) = the mean over valid t of the concatenated head
 * outputs (apply the output projection to it). x (B, T, E), w_in (E, 3E), b_in (3E) are the layer's input
 * and in-projection; qk is scratch with rows of 3E (its first 2E columns are written).
 * Scratch: kt (D*T), s (T*T), w (T), xbar (E).
 */
export function attention_pooled_forward(B: i32, T: i32, E: i32, NH: i32, lengths: usize, x: usize, w_in: usize, b_in: usize,
                                         qk: usize, pooled: usize, kt: usize, s: usize, w: usize, xbar: usize): void {
  attention_pooled_heads(B, T, E, NH, 0, NH, lengths, x, w_in, b_in, qk, pooled, kt, s, w, xbar);
}

/**
 * attention_pooled_forward restricted to heads [h0, h1): projects only those heads' Q and K columns and
 * writes only their D-column slices of pooled. Two calls with disjoint head ranges and their own scratch
 * (kt, s, w, xbar) may run at the same time on two threads over one shared memory (qk's columns and
 * pooled's slices they write are disjoint); each gives bit-for-bit the values of the full call.
 */
export function attention_pooled_heads(B: i32, T: i32, E: i32, NH: i32, h0: i32, h1: i32, lengths: usize, x: usize,
                                       w_in: usize, b_in: usize, qk: usize, pooled: usize, kt: usize, s: usize,
                                       w: usize, xbar: usize): void {
  const D = E / NH, E3 = 3 * E;
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>D));
  const c0 = h0 * D, nc = (h1 - h0) * D; // this call's columns of the Q block (and of the K block at + E)
  const c0b = <usize>c0 << 2, kb = <usize>E << 2, ncb = <usize>nc << 2;
  for (let b = 0; b < B; b++) {
    const L = load<i32>(lengths + (<usize>b << 2));
    const off = T - L;
    const invL: f32 = 1 / <f32>L;
    const L4 = L & ~3;
    const xb = x + (((<usize>b * T + off) * E) << 2), qb = qk + (((<usize>b * T + off) * E3) << 2);
    // this range's Q and K columns of the valid rows: bias, then += x·[Wq Wk] (column slices)
    for (let t = 0; t < L; t++) {
      const row = qb + ((<usize>t * E3) << 2);
      memory.copy(row + c0b, b_in + c0b, ncb);
      memory.copy(row + kb + c0b, b_in + kb + c0b, ncb);
    }
    if (h0 == 0 && h1 == NH) sgemm(L, 2 * E, E, xb, E, 1, w_in, E3, qb, E3, 1); // all of Q and K at once
    else {
      sgemm(L, nc, E, xb, E, 1, w_in + c0b, E3, qb + c0b, E3, 1);
      sgemm(L, nc, E, xb, E, 1, w_in + kb + c0b, E3, qb + kb + c0b, E3, 1);
    }
    for (let h = h0; h < h1; h++) {
      const q = qb + (<usize>(h * D) << 2), k = q + (<usize>E << 2);
      // Kᵀ, S = Q·Kᵀ, P = softmax(S / sqrt(D)) as in attention_forward
      transpose_strided(L, D, k, E3, kt);
      sgemm(L, L, D, q, E3, 1, kt, L, s, L, 0);
      softmax_forward(L, L, L, scale, s);
      // w = column means of P
      memory.fill(w, 0, <usize>L << 2);
      for (let i = 0; i < L; i++) {
        const row = s + ((<usize>i * L) << 2);
        for (let j = 0; j < L4; j += 4) { const o = <usize>j << 2; v128.store(w + o, f32x4.add(v128.load(w + o), v128.load(row + o))); }
        for (let j = L4; j < L; j++) { const o = <usize>j << 2; store<f32>(w + o, load<f32>(w + o) + load<f32>(row + o)); }
      }
      for (let j = 0; j < L; j++) { const o = <usize>j << 2; store<f32>(w + o, load<f32>(w + o) * invL); }
      // x̄ = w·X (1, E)
      sgemm(1, E, L, w, L, 1, xb, E, xbar, E, 0);
      // pooled[b, head h] = x̄·Wv_h + bv_h (1, D)
      const dst = pooled + ((<usize>b * E + h * D) << 2), col = <usize>(2 * E + h * D) << 2;
      sgemm(1, D, E, xbar, E, 1, w_in + col, E3, dst, E, 0);
      for (let d = 0; d < D; d++) { const o = <usize>d << 2; store<f32>(dst + o, load<f32>(dst + o) + load<f32>(b_in + col + o)); }
    }
  }
}
