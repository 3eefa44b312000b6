import type { Param, ParamStore } from '../params.js';
import { type Engine, type KernelCall, type Ptr, type RunCalls, runInOrder } from '../wasm.js';
import {
  checkDims,
  checkLengths,
  fillConst,
  fillUniform,
  loadTorchParams,
  type TorchParam,
  torchParamValues,
} from './torch-io.js';

/**
 * Multi-head self-attention with PyTorch `nn.MultiheadAttention(E, NH, batch_first=True)` semantics used
 * as `attn(x, x, x)` (no residual, no layer norm). Kernels: src/engine/as/{linear,attention,softmax}.ts.
 *
 *   qkv = x·Win + bin (B·T, 3E) → per (b, head): P = softmax(Q_h K_hᵀ / √D), O_h = P·V_h
 *   → out = concat_h(O_h)·Wout + bout (B, T, E)
 *
 * Parameters (OUR layout): `${prefix}in_proj_weight` (E, 3E) = PyTorch (3E, E) transposed;
 * `${prefix}in_proj_bias` (3E); `${prefix}out_proj.weight` (E, E) = PyTorch's transposed;
 * `${prefix}out_proj.bias` (E).
 *
 * Variable length (left-padded, `lengths` = B int32 in wasm memory, 0 = all T): padded keys are masked
 * (as a key_padding_mask would), the output rows of padded queries are DEFINED AS 0 (no bias), and padded
 * rows neither receive nor pass gradient (dx is 0 there). A sample inside a padded window therefore gives
 * the same outputs and gradients as the same sample alone.
 *
 * Attention dropout (training, p > 0): on the probabilities before P·V, mask from the counter hash of
 * src/engine/as/dropout.ts keyed by `seed` (not stored; backward regenerates it).
 *
 * Memory per sample: qkv and dqkv 3·T·E each, the probabilities NH·T², concat, out and dx T·E each.
 * Backward (once per forward) ACCUMULATES into the parameter grads and WRITES dx.
 */
export interface AttentionConfig {
  embedDim: number;
  numHeads: number;
  /** Attention-probability dropout used when training (default 0). */
  dropout?: number;
  /** Prefix of the parameter names, e.g. `attn.` (default none). */
  prefix?: string;
}

export interface AttentionForwardOptions {
  lengths?: Ptr;
  /** Apply attention dropout (needs `seed`). */
  training?: boolean;
  seed?: number;
}

export class SelfAttention {
  readonly E: number;
  readonly NH: number;
  readonly D: number;
  readonly p: number;
  readonly inW: Param;
  readonly inB: Param;
  readonly outW: Param;
  readonly outB: Param;
  /** After forward: (B, T, E). After backward with dx: (B, T, E). */
  out: Ptr = 0;
  dx: Ptr = 0;
  maxB = 0;
  maxT = 0;
  private qkv: Ptr = 0;
  private dqkv: Ptr = 0;
  private att: Ptr = 0;
  private cat: Ptr = 0;
  private dcat: Ptr = 0;
  private full: Ptr = 0; // lengths = T for every sample, used when none are given
  private sc1: Ptr = 0; // (D, T) transposed K or V
  private sc2: Ptr = 0; // (T, T) dP
  private sc3: Ptr = 0; // (T, T) dropped P
  private wT: Ptr = 0; // (3E, E) transposed weight for dx
  private pcat: Ptr = 0; // (B, E) pooled head outputs (forwardPooled)
  private w: Ptr = 0; // (T) column means of P (forwardPooled)
  private xbar: Ptr = 0; // (E) P-weighted mean of x (forwardPooled)
  private scratch2: Ptr[] = []; // a second kt, s, w, xbar for the other half of the heads (forwardPooled)
  /** Default `run` of forwardPooled (e.g. a KernelTwin's: two halves of the heads on two threads). */
  run: RunCalls | undefined = undefined;
  /** After forwardPooled: (B, E). */
  pooled: Ptr = 0;
  // what the last forward ran with
  private B = 0;
  private T = 0;
  private x: Ptr = 0;
  private lengths: Ptr = 0;
  private dropP = 0;
  private seed = 0;

  constructor(store: ParamStore, cfg: AttentionConfig) {
    const { embedDim: E, numHeads: NH } = cfg;
    if (!Number.isInteger(E) || !Number.isInteger(NH) || E < 1 || NH < 1 || E % NH !== 0)
      throw new Error(`attention: embedDim ${E} must be a positive multiple of numHeads ${NH}`);
    const p = cfg.dropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new Error(`attention: dropout ${p} must be in [0, 1)`);
    this.E = E;
    this.NH = NH;
    this.D = E / NH;
    this.p = p;
    const pre = cfg.prefix ?? '';
    this.inW = store.declare(`${pre}in_proj_weight`, [E, 3 * E]);
    this.inB = store.declare(`${pre}in_proj_bias`, [3 * E]);
    this.outW = store.declare(`${pre}out_proj.weight`, [E, E]);
    this.outB = store.declare(`${pre}out_proj.bias`, [E]);
  }

  /** Allocate activations, caches and scratch for up to maxB samples of maxT steps (once). */
  allocate(e: Engine, maxB: number, maxT: number): void {
    const { E, D } = this;
    const rows = maxB * maxT;
    this.maxB = maxB;
    this.maxT = maxT;
    this.qkv = e.alloc(rows * 3 * E, false);
    this.dqkv = e.alloc(rows * 3 * E, false);
    this.att = e.alloc(maxB * this.NH * maxT * maxT, false);
    this.cat = e.alloc(rows * E, false);
    this.dcat = e.alloc(rows * E, false);
    this.out = e.alloc(rows * E, false);
    this.dx = e.alloc(rows * E, false);
    this.full = e.alloc(maxB, false);
    this.sc1 = e.alloc(D * maxT, false);
    this.sc2 = e.alloc(maxT * maxT, false);
    this.sc3 = e.alloc(maxT * maxT, false);
    this.wT = e.alloc(3 * E * E, false);
    this.pcat = e.alloc(maxB * E, false);
    this.pooled = e.alloc(maxB * E, false);
    this.w = e.alloc(maxT, false);
    this.xbar = e.alloc(E, false);
    this.scratch2 = [
      e.alloc(D * maxT, false),
      e.alloc(maxT * maxT, false),
      e.alloc(maxT, false),
      e.alloc(E, false),
    ];
  }

  /** x (B, T, E) → `out` (B, T, E); returns `out`. */
  forward(e: Engine, B: number, T: number, x: Ptr, opts: AttentionForwardOptions = {}): Ptr {
    checkDims('attention', { B: [B, this.maxB], T: [T, this.maxT] });
    const { E, NH } = this;
    const k = e.k;
    let lengths = opts.lengths ?? 0;
    if (!lengths) {
      e.i32(this.full, B).fill(T);
      lengths = this.full;
    } else checkLengths(e, 'attention', lengths, B, T);
    this.B = B;
    this.T = T;
    this.x = x;
    this.lengths = lengths;
    this.dropP = opts.training ? this.p : 0;
    this.seed = (opts.seed ?? 0) >>> 0;
    // qkv = x·Win + bin
    k.linear_forward(B * T, E, 3 * E, x, this.inW.ptr, this.inB.ptr, this.qkv);
    // per (b, head) scaled dot-product attention → concatenated heads
    k.attention_forward(
      B,
      T,
      E,
      NH,
      lengths,
      this.qkv,
      this.att,
      this.cat,
      this.dropP,
      this.seed,
      this.sc1,
      this.sc3,
    );
    // out = concat·Wout + bout, padded rows 0
    k.linear_forward(B * T, E, E, this.cat, this.outW.ptr, this.outB.ptr, this.out);
    k.zero_padded(B, T, E, lengths, this.out);
    return this.out;
  }

  /**
   * Inference only (eval, no backward): the MEAN over each sample's valid steps of what `forward` returns,
   * (B, E) into `pooled`, without materialising the per-step outputs: with w = the column means of P,
   * mean_i P·V = (w·X)·Wv + bv, then one output projection per sample. Same result as forward + MeanPool
   * up to rounding, with half the work (the value projections, the P·V products and the per-step output
   * projections drop out; padded rows are skipped). `run` (default `this.run`): how to run the two halves of
   * the heads (independent), e.g. on two threads with a KernelTwin; without, one call over all heads.
   */
  forwardPooled(e: Engine, B: number, T: number, x: Ptr, lengths: Ptr = 0, run?: RunCalls): Ptr {
    checkDims('attention', { B: [B, this.maxB], T: [T, this.maxT] });
    const { E, NH } = this;
    const k = e.k;
    if (!lengths) {
      e.i32(this.full, B).fill(T);
      lengths = this.full;
    } else checkLengths(e, 'attention', lengths, B, T);
    this.B = 0; // no backward from here
    // per sample: Q, K of the valid rows, mean over queries of softmax(Q Kᵀ/√D), that mix of x through Wv;
    // two independent halves of the heads (own scratch, disjoint outputs) when a `run` spreads them
    const call = (h0: number, h1: number, sc: Ptr[]): KernelCall => ({
      name: 'attention_pooled_heads',
      args: [B, T, E, NH, h0, h1, lengths, x, this.inW.ptr, this.inB.ptr, this.qkv, this.pcat, ...sc],
    });
    const own = [this.sc1, this.sc2, this.w, this.xbar];
    const runner = run ?? this.run;
    if (runner && NH > 1) {
      const half = NH >> 1;
      runner([call(0, half, own), call(half, NH, this.scratch2)]);
    } else runInOrder(e, [call(0, NH, own)]);
    // pooled = pcat·Wout + bout
    k.linear_forward(B, E, E, this.pcat, this.outW.ptr, this.outB.ptr, this.pooled);
    return this.pooled;
  }

  /** dOut (B, T, E) → grads (+=) and, with `dx`, dL/dx into `dx` (returned, else 0). */
  backward(e: Engine, dOut: Ptr, opts: { dx?: boolean } = {}): Ptr {
    const { B, T, E, NH, lengths } = this;
    if (!B) throw new Error('attention: backward before forward');
    const k = e.k;
    const N = B * T;
    // out_proj: dWout += catᵀ·dOut (padded cat rows are 0), dbout += Σ over valid rows of dOut
    k.sgemm(E, E, N, this.cat, 1, E, dOut, E, this.outW.grad, E, 1);
    k.colsum_valid_acc(B, T, E, lengths, dOut, this.outB.grad);
    // dcat = dOut·Woutᵀ
    k.transpose(E, E, this.outW.ptr, this.wT);
    k.sgemm(N, E, E, dOut, E, 1, this.wT, E, this.dcat, E, 0);
    // attention core → dqkv (padded rows 0)
    k.attention_backward(
      B,
      T,
      E,
      NH,
      lengths,
      this.qkv,
      this.att,
      this.dcat,
      this.dqkv,
      this.dropP,
      this.seed,
      this.sc1,
      this.sc2,
      this.sc3,
    );
    // in_proj: dWin += xᵀ·dqkv, dbin += colsum(dqkv), dx = dqkv·Winᵀ
    const dx = opts.dx ? this.dx : 0;
    k.linear_backward(
      N,
      E,
      3 * E,
      this.x,
      this.inW.ptr,
      this.dqkv,
      dx,
      this.inW.grad,
      this.inB.grad,
      this.wT,
    );
    return dx;
  }

  /** PyTorch's init: in_proj_weight xavier U(±√(6/(E+3E))), out_proj.weight U(±1/√E), biases 0. */
  initTorchDefault(e: Engine, rand: () => number): void {
    const { E } = this;
    fillUniform(e, this.inW, Math.sqrt(6 / (E + 3 * E)), rand);
    fillConst(e, this.inB, 0);
    fillUniform(e, this.outW, 1 / Math.sqrt(E), rand);
    fillConst(e, this.outB, 0);
  }

  torchParams(): TorchParam[] {
    const { E } = this;
    return [
      { param: this.inW, torchShape: [3 * E, E], transpose: true },
      { param: this.inB, torchShape: [3 * E], transpose: false },
      { param: this.outW, torchShape: [E, E], transpose: true },
      { param: this.outB, torchShape: [E], transpose: false },
    ];
  }

  loadTorch(e: Engine, tensors: Record<string, ArrayLike<number>>): void {
    loadTorchParams(e, 'attention', this.torchParams(), tensors);
  }

  toTorch(e: Engine, which: 'value' | 'grad' = 'value'): Record<string, Float64Array> {
    return torchParamValues(e, this.torchParams(), which);
  }

  /** Head-averaged attention weights (B, T, T) of the last forward (padded rows/columns 0): for inspection. */
  weights(e: Engine): Float32Array {
    const { B, T, NH } = this;
    const out = new Float32Array(B * T * T);
    const L = e.i32(this.lengths, B);
    for (let b = 0; b < B; b++) {
      const n = L[b];
      const off = T - n;
      for (let h = 0; h < NH; h++) {
        const P = e.f32(this.att + (b * NH + h) * T * T * 4, n * n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) out[(b * T + off + i) * T + off + j] += P[i * n + j] / NH;
      }
    }
    return out;
  }
}
