import type { Param, ParamStore } from '../params.js';
import type { Engine, Ptr } from '../wasm.js';
import { checkDims, fillUniform, loadTorchParams, type TorchParam, torchParamValues } from './torch-io.js';

/**
 * Linear layer y = x·W + b over N rows (kernels in src/engine/as/linear.ts).
 *
 * Parameters (OUR layout): `${prefix}weight` (IN, OUT) = PyTorch `Linear.weight` (OUT, IN) transposed, so
 * the forward is one NN gemm; `${prefix}bias` (OUT) as in PyTorch. `loadTorch`/`toTorch` convert.
 *
 * Activations: `out` (N, OUT) after forward; `dx` (N, IN) after backward with `dx: true`.
 * Backward ACCUMULATES (+=) into the parameter grads and WRITES dx. It reads the input x of the last
 * forward, which must still be intact.
 */
export interface LinearConfig {
  inFeatures: number;
  outFeatures: number;
  /** Prefix of the parameter names, e.g. `fc1.` (default none). */
  prefix?: string;
}

export class Linear {
  readonly IN: number;
  readonly OUT: number;
  readonly weight: Param;
  readonly bias: Param;
  out: Ptr = 0;
  dx: Ptr = 0;
  maxN = 0;
  private wT: Ptr = 0;
  private x: Ptr = 0;
  private N = 0;

  constructor(store: ParamStore, cfg: LinearConfig) {
    const { inFeatures: IN, outFeatures: OUT } = cfg;
    if (!Number.isInteger(IN) || IN < 1 || !Number.isInteger(OUT) || OUT < 1)
      throw new Error(`Linear: sizes ${IN}x${OUT} must be positive integers`);
    this.IN = IN;
    this.OUT = OUT;
    const p = cfg.prefix ?? '';
    this.weight = store.declare(`${p}weight`, [IN, OUT]);
    this.bias = store.declare(`${p}bias`, [OUT]);
  }

  /** Allocate `out`, `dx` and scratch for up to maxN rows (once). */
  allocate(e: Engine, maxN: number): void {
    this.maxN = maxN;
    this.out = e.alloc(maxN * this.OUT, false);
    this.dx = e.alloc(maxN * this.IN, false);
    this.wT = e.alloc(this.IN * this.OUT, false);
  }

  /** x (N, IN) → out (N, OUT); returns `out`. */
  forward(e: Engine, N: number, x: Ptr): Ptr {
    checkDims('Linear', { N: [N, this.maxN] });
    this.x = x;
    this.N = N;
    e.k.linear_forward(N, this.IN, this.OUT, x, this.weight.ptr, this.bias.ptr, this.out);
    return this.out;
  }

  /** dOut (N, OUT) → grads (+=) and, with `dx`, dL/dx into `dx` (returned, else 0). */
  backward(e: Engine, dOut: Ptr, opts: { dx?: boolean } = {}): Ptr {
    if (!this.N) throw new Error('Linear: backward before forward');
    const dx = opts.dx ? this.dx : 0;
    const { weight: w, bias: b } = this;
    e.k.linear_backward(this.N, this.IN, this.OUT, this.x, w.ptr, dOut, dx, w.grad, b.grad, this.wT);
    return dx;
  }

  /** PyTorch's default init: weight and bias U(-1/√IN, 1/√IN); `rand` returns uniform [0, 1). */
  initTorchDefault(e: Engine, rand: () => number): void {
    const a = 1 / Math.sqrt(this.IN);
    fillUniform(e, this.weight, a, rand);
    fillUniform(e, this.bias, a, rand);
  }

  torchParams(): TorchParam[] {
    return [
      { param: this.weight, torchShape: [this.OUT, this.IN], transpose: true },
      { param: this.bias, torchShape: [this.OUT], transpose: false },
    ];
  }

  loadTorch(e: Engine, tensors: Record<string, ArrayLike<number>>): void {
    loadTorchParams(e, 'Linear', this.torchParams(), tensors);
  }

  toTorch(e: Engine, which: 'value' | 'grad' = 'value'): Record<string, Float64Array> {
    return torchParamValues(e, this.torchParams(), which);
  }
}
