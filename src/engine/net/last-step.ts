import { checkDims } from '../layers/torch-io.js';
import type { Engine, Ptr } from '../wasm.js';

/**
 * The head's skip input: the pooled summary next to the LAST time step of two sequences (left-padded
 * windows: step T−1 is always a real step, the forecast origin), no parameters:
 *
 *   out[b] = concat(pooled[b] (P), h[b, T−1] (C), x[b, T−1] (F))        out (B, D), D = P + C + F
 *
 * With the seed model: pooled = mean over valid steps of the attention output, h = the biLSTM output
 * (its forward half has read the whole window, its reverse half only the origin step), x = the model's
 * input at the origin step (the scaled features, unblurred by pooling).
 *
 * Backward splits dOut (B, D) into dPooled (B, P), dLastH (B, C) and dLastX (B, F) (WRITTEN); the caller
 * adds the last two into its sequence gradients with `addLastStep` (steps before T−1 get nothing).
 * The work is B·D copies, so plain TypeScript over views of wasm memory (no kernel).
 */
export class LastStepConcat {
  readonly P: number;
  readonly C: number;
  readonly F: number;
  /** Width of the output (P + C + F). */
  readonly D: number;
  out: Ptr = 0;
  dPooled: Ptr = 0;
  dLastH: Ptr = 0;
  dLastX: Ptr = 0;
  maxB = 0;
  private B = 0;
  private T = 0;

  constructor(pooled: number, seq: number, input: number) {
    for (const [k, v] of Object.entries({ pooled, seq, input }))
      if (!Number.isInteger(v) || v < 0) throw new Error(`last-step concat: ${k}=${v} must be >= 0`);
    this.P = pooled;
    this.C = seq;
    this.F = input;
    this.D = pooled + seq + input;
  }

  allocate(e: Engine, maxB: number): void {
    this.maxB = maxB;
    this.out = e.alloc(maxB * this.D, false);
    this.dPooled = e.alloc(maxB * this.P, false);
    this.dLastH = e.alloc(Math.max(1, maxB * this.C), false);
    this.dLastX = e.alloc(Math.max(1, maxB * this.F), false);
  }

  /** pooled (B, P), h (B, T, C), x (B, T, F) → `out` (B, D); returns `out`. */
  forward(e: Engine, B: number, T: number, pooled: Ptr, h: Ptr, x: Ptr): Ptr {
    checkDims('last-step concat', { B: [B, this.maxB] });
    if (!Number.isInteger(T) || T < 1) throw new Error(`last-step concat: T=${T} must be >= 1`);
    const { P, C, F, D } = this;
    this.B = B;
    this.T = T;
    const o = e.f32(this.out, B * D);
    const pv = e.f32(pooled, B * P);
    const hv = e.f32(h, B * T * C);
    const xv = e.f32(x, B * T * F);
    for (let b = 0; b < B; b++) {
      const ob = b * D;
      // the pooled summary
      o.set(pv.subarray(b * P, (b + 1) * P), ob);
      // h at the origin step
      const hb = (b * T + T - 1) * C;
      o.set(hv.subarray(hb, hb + C), ob + P);
      // x at the origin step
      const xb = (b * T + T - 1) * F;
      o.set(xv.subarray(xb, xb + F), ob + P + C);
    }
    return this.out;
  }

  /** dOut (B, D) → `dPooled` (B, P) (returned), `dLastH` (B, C), `dLastX` (B, F). */
  backward(e: Engine, dOut: Ptr): Ptr {
    const { B, P, C, F, D } = this;
    if (!B) throw new Error('last-step concat: backward before forward');
    const d = e.f32(dOut, B * D);
    const dp = e.f32(this.dPooled, B * P);
    const dh = e.f32(this.dLastH, B * C);
    const dx = e.f32(this.dLastX, B * F);
    for (let b = 0; b < B; b++) {
      // split the gradient back to the three inputs
      const ob = b * D;
      dp.set(d.subarray(ob, ob + P), b * P);
      dh.set(d.subarray(ob + P, ob + P + C), b * C);
      dx.set(d.subarray(ob + P + C, ob + D), b * F);
    }
    return this.dPooled;
  }

  /** dSeq (B, T, W)[:, T−1] += dLast (B, W), for the B, T of the last forward (W = C or F). */
  addLastStep(e: Engine, dLast: Ptr, W: number, dSeq: Ptr): void {
    const { B, T } = this;
    const src = e.f32(dLast, B * W);
    const dst = e.f32(dSeq, B * T * W);
    for (let b = 0; b < B; b++) {
      const o = (b * T + T - 1) * W;
      for (let k = 0; k < W; k++) dst[o + k] += src[b * W + k];
    }
  }
}
