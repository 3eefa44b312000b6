import type { Engine, Ptr } from '../wasm.js';
import { checkDims, checkLengths } from './torch-io.js';

/**
 * Mean over the valid time steps: x (B, T, C) → out (B, C), out[b] = mean of x[b, t] for t >= T - len[b]
 * (left-padded histories; `lengths` = B int32 in wasm memory, 0 = all T). No parameters.
 * Backward WRITES dx (B, T, C): dOut/len at valid steps, 0 at padded ones.
 */
export class MeanPool {
  readonly C: number;
  out: Ptr = 0;
  dx: Ptr = 0;
  maxB = 0;
  maxT = 0;
  private full: Ptr = 0;
  private B = 0;
  private T = 0;
  private lengths: Ptr = 0;

  constructor(channels: number) {
    if (!Number.isInteger(channels) || channels < 1)
      throw new Error(`meanpool: channels ${channels} must be >= 1`);
    this.C = channels;
  }

  allocate(e: Engine, maxB: number, maxT: number): void {
    this.maxB = maxB;
    this.maxT = maxT;
    this.out = e.alloc(maxB * this.C, false);
    this.dx = e.alloc(maxB * maxT * this.C, false);
    this.full = e.alloc(maxB, false);
  }

  /** x (B, T, C) → `out` (B, C); returns `out`. */
  forward(e: Engine, B: number, T: number, x: Ptr, lengths: Ptr = 0): Ptr {
    checkDims('meanpool', { B: [B, this.maxB], T: [T, this.maxT] });
    if (!lengths) {
      e.i32(this.full, B).fill(T);
      lengths = this.full;
    } else checkLengths(e, 'meanpool', lengths, B, T);
    this.B = B;
    this.T = T;
    this.lengths = lengths;
    e.k.meanpool_forward(B, T, this.C, lengths, x, this.out);
    return this.out;
  }

  /** dOut (B, C) → `dx` (B, T, C); returns `dx`. */
  backward(e: Engine, dOut: Ptr): Ptr {
    if (!this.B) throw new Error('meanpool: backward before forward');
    e.k.meanpool_backward(this.B, this.T, this.C, this.lengths, dOut, this.dx);
    return this.dx;
  }
}
