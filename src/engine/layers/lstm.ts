import type { Param, ParamStore } from '../params.js';
import type { Engine, KernelCall, Ptr } from '../wasm.js';

/**
 * One LSTM layer-direction (PyTorch `nn.LSTM` cell semantics, gate order i, f, g, o) over the fused
 * kernels in src/engine/as/lstm.ts. It works TIME-MAJOR: row r = t*B + b of every (T*B, ·) buffer; the
 * stack (bilstm.ts) converts from/to batch-first at its boundary.
 *
 * Parameters (declared in a ParamStore, OUR layout; `torch*` helpers convert):
 *   `${prefix}weight_ih_${suffix}`  (F, 4H)  = PyTorch weight_ih (4H, F) transposed
 *   `${prefix}weight_hh_${suffix}`  (H, 4H)  = PyTorch weight_hh (4H, H) transposed
 *   `${prefix}bias_ih_${suffix}`, `${prefix}bias_hh_${suffix}`  (4H), as in PyTorch (summed for compute)
 * with suffix `l<k>` or `l<k>_reverse`.
 *
 * Variable length: `lengths` points to B int32 in wasm memory (or 0 = all T); histories are LEFT-padded,
 * sample b is valid at t >= T - len[b]. Padded steps output 0 and take/pass no gradient.
 *
 * Backward (once per forward: it overwrites the cached gates with their gradients) ACCUMULATES (+=) into
 * the parameter grads and into dx (so both directions of the layer above sum into one input gradient);
 * the caller zeroes dx first, the trainer zeroes parameter grads once per step.
 */
export interface LSTMDirectionConfig {
  inputSize: number;
  hidden: number;
  reverse: boolean;
  /** PyTorch name suffix, e.g. `l0` or `l1_reverse`. */
  suffix: string;
  /** Prefix of the parameter names in the store, e.g. `lstm.`. */
  prefix?: string;
}

export class LSTMDirection {
  readonly F: number;
  readonly H: number;
  readonly reverse: boolean;
  readonly W: Param;
  readonly U: Param;
  readonly bih: Param;
  readonly bhh: Param;
  maxB = 0;
  maxT = 0;
  // forward cache (T*B, 4H) gates, (T*B, H) c and tanh(c); scratch for the kernels
  private gates: Ptr = 0;
  private cs: Ptr = 0;
  private tcs: Ptr = 0;
  private bsum: Ptr = 0;
  private WT: Ptr = 0;
  private UT: Ptr = 0;
  private dh: Ptr = 0;
  private dc: Ptr = 0;

  constructor(store: ParamStore, cfg: LSTMDirectionConfig) {
    const { inputSize: F, hidden: H } = cfg;
    if (!Number.isInteger(H) || H <= 0 || H % 4 !== 0)
      throw new Error(`LSTM: hidden ${H} must be a multiple of 4`);
    if (!Number.isInteger(F) || F <= 0) throw new Error(`LSTM: inputSize ${F} must be a positive integer`);
    this.F = F;
    this.H = H;
    this.reverse = cfg.reverse;
    const p = cfg.prefix ?? '';
    this.W = store.declare(`${p}weight_ih_${cfg.suffix}`, [F, 4 * H]);
    this.U = store.declare(`${p}weight_hh_${cfg.suffix}`, [H, 4 * H]);
    this.bih = store.declare(`${p}bias_ih_${cfg.suffix}`, [4 * H]);
    this.bhh = store.declare(`${p}bias_hh_${cfg.suffix}`, [4 * H]);
  }

  /** Allocate the forward cache and scratch for up to maxB samples of maxT steps (once). */
  allocate(e: Engine, maxB: number, maxT: number): void {
    const { F, H } = this;
    const rows = maxB * maxT;
    this.maxB = maxB;
    this.maxT = maxT;
    this.gates = e.alloc(rows * 4 * H, false);
    this.cs = e.alloc(rows * H, false);
    this.tcs = e.alloc(rows * H, false);
    this.bsum = e.alloc(4 * H, false);
    this.WT = e.alloc(4 * H * F, false);
    this.UT = e.alloc(4 * H * H, false);
    this.dh = e.alloc(maxB * H, false);
    this.dc = e.alloc(maxB * H, false);
  }

  /**
   * x (T*B, F) row stride ldx → hs (T*B, H) row stride ldh; final state into hn, cn (B, H) if non-zero.
   */
  forward(
    e: Engine,
    T: number,
    B: number,
    x: Ptr,
    ldx: number,
    hs: Ptr,
    ldh: number,
    lengths: Ptr,
    hn: Ptr = 0,
    cn: Ptr = 0,
  ): void {
    const c = this.forwardCall(T, B, x, ldx, hs, ldh, lengths, hn, cn);
    e.k.lstm_forward(...c.args);
  }

  /** The kernel call `forward` makes (to run it on another thread over a shared memory). */
  forwardCall(
    T: number,
    B: number,
    x: Ptr,
    ldx: number,
    hs: Ptr,
    ldh: number,
    lengths: Ptr,
    hn: Ptr = 0,
    cn: Ptr = 0,
  ): KernelCall {
    this.check(T, B);
    return {
      name: 'lstm_forward',
      args: [
        T,
        B,
        this.F,
        this.H,
        this.reverse ? 1 : 0,
        x,
        ldx,
        this.W.ptr,
        this.U.ptr,
        this.bih.ptr,
        this.bhh.ptr,
        lengths,
        this.gates,
        this.cs,
        this.tcs,
        hs,
        ldh,
        hn,
        cn,
        this.bsum,
      ],
    };
  }

  /**
   * Given dhs = dL/dh (T*B, H) row stride lddh (and optionally dL/d(h_n, c_n) as dhn, dcn (B, H)),
   * accumulate the parameter grads and, when dx != 0, dx (T*B, F) row stride lddx. Same x, hs as forward.
   */
  backward(
    e: Engine,
    T: number,
    B: number,
    x: Ptr,
    ldx: number,
    hs: Ptr,
    ldh: number,
    dhs: Ptr,
    lddh: number,
    dx: Ptr,
    lddx: number,
    lengths: Ptr,
    dhn: Ptr = 0,
    dcn: Ptr = 0,
  ): void {
    this.check(T, B);
    e.k.lstm_backward(
      T,
      B,
      this.F,
      this.H,
      this.reverse ? 1 : 0,
      x,
      ldx,
      this.W.ptr,
      this.U.ptr,
      lengths,
      this.gates,
      this.cs,
      this.tcs,
      hs,
      ldh,
      dhs,
      lddh,
      dhn,
      dcn,
      dx,
      lddx,
      this.W.grad,
      this.U.grad,
      this.bih.grad,
      this.bhh.grad,
      this.WT,
      this.UT,
      this.dh,
      this.dc,
    );
  }

  /** The four parameters with their PyTorch names (without the store prefix) and PyTorch shapes. */
  torchParams(): Array<{ param: Param; torchShape: number[]; transpose: boolean }> {
    const { F, H } = this;
    return [
      { param: this.W, torchShape: [4 * H, F], transpose: true },
      { param: this.U, torchShape: [4 * H, H], transpose: true },
      { param: this.bih, torchShape: [4 * H], transpose: false },
      { param: this.bhh, torchShape: [4 * H], transpose: false },
    ];
  }

  private check(T: number, B: number): void {
    if (!this.gates) throw new Error('LSTM: allocate() before forward/backward');
    if (T < 1 || T > this.maxT || B < 1 || B > this.maxB)
      throw new Error(`LSTM: T=${T}, B=${B} outside the allocated T<=${this.maxT}, B<=${this.maxB}`);
  }
}

/** Our (rows, cols) matrix ← PyTorch (cols, rows), i.e. a transpose; 1-D tensors are copied. */
export function fromTorchLayout(
  dst: Float32Array,
  src: ArrayLike<number>,
  torchShape: number[],
  transpose: boolean,
): void {
  if (src.length !== dst.length) throw new Error(`expected ${dst.length} values, got ${src.length}`);
  if (!transpose) {
    dst.set(src);
    return;
  }
  const [R, C] = torchShape; // PyTorch (R, C) → ours (C, R)
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) dst[c * R + r] = src[r * C + c];
}

/** PyTorch layout (float64) from our layout; inverse of fromTorchLayout. */
export function toTorchLayout(src: Float32Array, torchShape: number[], transpose: boolean): Float64Array {
  const out = new Float64Array(src.length);
  if (!transpose) {
    out.set(src);
    return out;
  }
  const [R, C] = torchShape;
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[r * C + c] = src[c * R + r];
  return out;
}
