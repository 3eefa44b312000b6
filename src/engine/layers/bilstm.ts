import type { ParamStore } from '../params.js';
import { type Engine, type Ptr, type RunCalls, runInOrder } from '../wasm.js';
import { fromTorchLayout, LSTMDirection, toTorchLayout } from './lstm.js';

/**
 * A stacked (optionally bidirectional) LSTM with PyTorch `nn.LSTM(batch_first=True)` semantics and
 * state_dict names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `..._reverse`, `_l1`, …,
 * each prefixed by `prefix`), so PyTorch weights load with `loadTorch` and export with `toTorch`.
 *
 * Shapes at the boundary are batch-first: x (B, T, F) → out (B, T, D·H), D = 2 if bidirectional, forward
 * direction first. Inside, everything is time-major (T, B, ·) so each step's recurrent gemm is contiguous;
 * both directions of a layer write into one (T, B, D·H) buffer, which the next layer reads directly.
 *
 * Variable length: `lengths` points to B int32 in wasm memory (0 = all T); histories are LEFT-padded (valid
 * steps t >= T - len[b]); outputs at padded steps are 0 and gradients there are ignored.
 *
 * Dropout between layers (the model decides when; PyTorch applies it to every layer's output but the
 * last, in training only). Either
 *   - `dropout: { p, seed }`: inverted dropout with the counter-hash mask of src/engine/as/dropout.ts
 *     (`dropout_apply`), regenerated in backward, nothing stored; boundary l uses element offsets
 *     l·T·B·D·H over the TIME-MAJOR (T, B, D·H) output, so one seed covers all boundaries; or
 *   - `dropMask`: an explicit mask, (numLayers - 1) consecutive blocks of T·B·D·H floats in the same
 *     time-major order, already scaled (0 or 1/(1-p)); block l multiplies layer l's output.
 * With neither, no dropout.
 *
 * Final states: after forward, `hn`, `cn` hold (numLayers·D, B, H), index layer·D + direction, like
 * PyTorch's h_n/c_n (the reverse direction's final state is the one after its last step t = T - len[b]).
 *
 * Backward (once per forward) ACCUMULATES into the parameter grads (zeroed once per step by the trainer)
 * and WRITES dL/dx (B, T, F) into `dx` when asked.
 */
export interface BiLSTMConfig {
  inputSize: number;
  hidden: number;
  numLayers?: number;
  bidirectional?: boolean;
  /** Prefix of every parameter name in the store, e.g. `lstm.` (default none). */
  prefix?: string;
}

export interface BiLSTMForwardOptions {
  lengths?: Ptr;
  dropMask?: Ptr;
  dropout?: { p: number; seed: number };
  /**
   * How to run the D directions of a layer (independent calls writing disjoint halves of the output):
   * in order on this thread by default; a KernelTwin's `run` puts them on two threads (shared engine).
   */
  run?: RunCalls;
}

export interface BiLSTMBackwardOptions {
  /** Compute dL/dx into `dx` (default false: inputs are data). */
  dx?: boolean;
  /** dL/dh_n, dL/dc_n, (numLayers·D, B, H), or 0. */
  dhn?: Ptr;
  dcn?: Ptr;
}

export class BiLSTM {
  readonly F: number;
  readonly H: number;
  readonly L: number;
  readonly D: number;
  /** Output width D·H. */
  readonly outSize: number;
  readonly prefix: string;
  /** cells[layer][direction] (direction 0 forward, 1 reverse). */
  readonly cells: LSTMDirection[][] = [];
  /** After forward: (B, T, D·H) output; after backward with dx: (B, T, F) input gradient. */
  out: Ptr = 0;
  dx: Ptr = 0;
  /**
   * Default for BiLSTMForwardOptions.run: e.g. a KernelTwin's `run` (src/engine/net/infer.ts sets it on
   * a model whose engine is shared, so every forward runs the two directions of a layer at once).
   */
  run: RunCalls | undefined = undefined;
  /** After forward: final states (L·D, B, H). */
  hn: Ptr = 0;
  cn: Ptr = 0;
  maxB = 0;
  maxT = 0;
  // time-major buffers: input copy, each layer's output, masked inputs of layers 1.., two gradient buffers
  private xt: Ptr = 0;
  private ys: Ptr[] = [];
  private yd: Ptr[] = [];
  private dA: Ptr = 0;
  private dB: Ptr = 0;
  // what the last forward ran with
  private B = 0;
  private T = 0;
  private lengths: Ptr = 0;
  private dropMask: Ptr = 0;
  private dropP = 0;
  private dropSeed = 0;

  constructor(store: ParamStore, cfg: BiLSTMConfig) {
    this.F = cfg.inputSize;
    this.H = cfg.hidden;
    this.L = cfg.numLayers ?? 2;
    this.D = (cfg.bidirectional ?? true) ? 2 : 1;
    this.outSize = this.D * this.H;
    this.prefix = cfg.prefix ?? '';
    if (!Number.isInteger(this.L) || this.L < 1) throw new Error(`LSTM: numLayers ${this.L} must be >= 1`);
    for (let l = 0; l < this.L; l++) {
      const row: LSTMDirection[] = [];
      for (let d = 0; d < this.D; d++) {
        row.push(
          new LSTMDirection(store, {
            inputSize: l === 0 ? this.F : this.outSize,
            hidden: this.H,
            reverse: d === 1,
            suffix: `l${l}${d === 1 ? '_reverse' : ''}`,
            prefix: this.prefix,
          }),
        );
      }
      this.cells.push(row);
    }
  }

  /** Allocate activations and caches for batches of up to maxB samples and maxT steps (once). */
  allocate(e: Engine, maxB: number, maxT: number): void {
    const { F, L, outSize: DH, H, D } = this;
    const rows = maxB * maxT;
    this.maxB = maxB;
    this.maxT = maxT;
    for (const row of this.cells) for (const c of row) c.allocate(e, maxB, maxT);
    this.xt = e.alloc(rows * F, false);
    this.ys = [];
    this.yd = [];
    for (let l = 0; l < L; l++) this.ys.push(e.alloc(rows * DH, false));
    for (let l = 0; l + 1 < L; l++) this.yd.push(e.alloc(rows * DH, false));
    const dsize = rows * Math.max(F, DH);
    this.dA = e.alloc(dsize, false);
    this.dB = e.alloc(dsize, false);
    this.out = e.alloc(rows * DH, false);
    this.dx = e.alloc(rows * F, false);
    this.hn = e.alloc(L * D * maxB * H, false);
    this.cn = e.alloc(L * D * maxB * H, false);
  }

  /** Floats in one call's dropout mask for B samples of T steps: (numLayers - 1)·T·B·D·H. */
  dropMaskSize(B: number, T: number): number {
    return (this.L - 1) * T * B * this.outSize;
  }

  /** x (B, T, F) → `out` (B, T, D·H); returns `out`. */
  forward(e: Engine, B: number, T: number, x: Ptr, opts: BiLSTMForwardOptions = {}): Ptr {
    if (!this.xt) throw new Error('LSTM: allocate() before forward');
    if (T < 1 || T > this.maxT || B < 1 || B > this.maxB)
      throw new Error(`LSTM: T=${T}, B=${B} outside the allocated T<=${this.maxT}, B<=${this.maxB}`);
    const { F, H, D, L, outSize: DH } = this;
    const lengths = opts.lengths ?? 0;
    if (lengths) {
      const len = e.i32(lengths, B);
      for (let b = 0; b < B; b++)
        if (!(len[b] >= 0 && len[b] <= T)) throw new Error(`LSTM: lengths[${b}] = ${len[b]} outside 0..${T}`);
    }
    const drop = opts.dropMask ?? 0;
    const dropP = opts.dropout?.p ?? 0;
    if (!(dropP >= 0 && dropP < 1)) throw new Error(`LSTM: dropout p=${dropP} must be in [0, 1)`);
    if (drop && dropP > 0) throw new Error('LSTM: give either dropMask or dropout, not both');
    this.B = B;
    this.T = T;
    this.lengths = lengths;
    this.dropMask = drop;
    this.dropP = dropP;
    this.dropSeed = (opts.dropout?.seed ?? 0) >>> 0;
    const k = e.k;
    const state = B * H * 4; // bytes of one (B, H) final-state slice
    // x (B, T, F) → time-major (T, B, F)
    k.lstm_swap01(B, T, F, x, this.xt);
    let inp = this.xt;
    let inW = F;
    for (let l = 0; l < L; l++) {
      const y = this.ys[l];
      // both directions write their half of the (T, B, D·H) output (independent: may run concurrently)
      const calls = [];
      for (let d = 0; d < D; d++) {
        const s = l * D + d;
        calls.push(
          this.cells[l][d].forwardCall(
            T,
            B,
            inp,
            inW,
            y + d * H * 4,
            DH,
            lengths,
            this.hn + s * state,
            this.cn + s * state,
          ),
        );
      }
      const run = opts.run ?? this.run;
      if (run) run(calls);
      else runInOrder(e, calls);
      inp = y;
      inW = DH;
      // dropout between layers: the next layer reads y ⊙ mask
      const n = T * B * DH;
      if (drop && l + 1 < L) {
        k.lstm_mul(n, y, drop + l * n * 4, this.yd[l]);
        inp = this.yd[l];
      } else if (dropP > 0 && l + 1 < L) {
        k.dropout_apply(n, dropP, this.dropSeed, l * n, y, this.yd[l]);
        inp = this.yd[l];
      }
    }
    // last layer (T, B, D·H) → batch-first (B, T, D·H)
    k.lstm_swap01(T, B, DH, this.ys[L - 1], this.out);
    return this.out;
  }

  /**
   * dOut = dL/d(out) (B, T, D·H) → parameter grads (+=) and, with opts.dx, dL/dx into `dx` (B, T, F).
   * Returns `dx` when computed, else 0.
   */
  backward(e: Engine, dOut: Ptr, opts: BiLSTMBackwardOptions = {}): Ptr {
    const { B, T, F, H, D, L, outSize: DH, lengths } = this;
    if (!B) throw new Error('LSTM: backward before forward');
    const k = e.k;
    const state = B * H * 4;
    const rows = T * B;
    let dA = this.dA; // gradient w.r.t. the current layer's output (T, B, D·H)
    let dB = this.dB; // gradient w.r.t. its input
    k.lstm_swap01(B, T, DH, dOut, dA);
    for (let l = L - 1; l >= 0; l--) {
      const inW = l === 0 ? F : DH;
      const dropped = this.dropMask || this.dropP > 0;
      const inp = l === 0 ? this.xt : dropped ? this.yd[l - 1] : this.ys[l - 1];
      const wantDx = l > 0 || opts.dx === true;
      if (wantDx) k.zero(rows * inW, dB); // both directions accumulate into it
      for (let d = 0; d < D; d++) {
        const s = l * D + d;
        this.cells[l][d].backward(
          e,
          T,
          B,
          inp,
          inW,
          this.ys[l] + d * H * 4,
          DH,
          dA + d * H * 4,
          DH,
          wantDx ? dB : 0,
          inW,
          lengths,
          opts.dhn ? opts.dhn + s * state : 0,
          opts.dcn ? opts.dcn + s * state : 0,
        );
      }
      // through the dropout mask into the lower layer's output
      const n = rows * DH;
      if (l > 0 && this.dropMask) k.lstm_mul(n, dB, this.dropMask + (l - 1) * n * 4, dB);
      else if (l > 0 && this.dropP > 0) k.dropout_apply(n, this.dropP, this.dropSeed, (l - 1) * n, dB, dB);
      [dA, dB] = [dB, dA];
    }
    if (!opts.dx) return 0;
    // dA now holds dL/dx time-major (T, B, F) → batch-first
    k.lstm_swap01(T, B, F, dA, this.dx);
    return this.dx;
  }

  /** Initialise like PyTorch: every parameter U(-1/√H, 1/√H); `rand` returns uniform [0, 1). */
  initTorchDefault(e: Engine, rand: () => number): void {
    const a = 1 / Math.sqrt(this.H);
    for (const row of this.cells)
      for (const c of row)
        for (const { param } of c.torchParams()) {
          const v = e.f32(param.ptr, param.size);
          for (let i = 0; i < v.length; i++) v[i] = (2 * rand() - 1) * a;
        }
  }

  /** PyTorch names (with prefix) of all parameters, with their PyTorch shapes. */
  torchShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const row of this.cells)
      for (const c of row) for (const p of c.torchParams()) out[p.param.name] = p.torchShape;
    return out;
  }

  /** Load parameters given in PyTorch layout, keyed by PyTorch name with prefix (all must be present). */
  loadTorch(e: Engine, tensors: Record<string, ArrayLike<number>>): void {
    for (const row of this.cells)
      for (const c of row)
        for (const { param, torchShape, transpose } of c.torchParams()) {
          const src = tensors[param.name];
          if (!src) throw new Error(`LSTM: missing parameter ${param.name}`);
          try {
            fromTorchLayout(e.f32(param.ptr, param.size), src, torchShape, transpose);
          } catch (err) {
            throw new Error(`LSTM: ${param.name} [${torchShape.join(',')}]: ${(err as Error).message}`);
          }
        }
  }

  /** Parameters (or their gradients) in PyTorch layout, keyed by PyTorch name with prefix. */
  toTorch(e: Engine, which: 'value' | 'grad' = 'value'): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    for (const row of this.cells)
      for (const c of row)
        for (const { param, torchShape, transpose } of c.torchParams()) {
          const v = e.f32(which === 'value' ? param.ptr : param.grad, param.size);
          out[param.name] = toTorchLayout(v, torchShape, transpose);
        }
    return out;
  }
}
