import type { Engine, Ptr } from '../wasm.js';
import { checkDims } from './torch-io.js';

/**
 * Inverted dropout: training y = x ⊙ keep / (1 - p), eval y = x (no copy: `forward` returns x itself).
 * The mask is a counter hash of (seed, element index) (src/engine/as/dropout.ts), so it is never stored:
 * backward regenerates it. Give every call its own seed (e.g. from the step number and the layer).
 * Backward WRITES dx (training) or returns dOut itself (eval).
 */
export class Dropout {
  readonly p: number;
  out: Ptr = 0;
  dx: Ptr = 0;
  maxN = 0;
  private n = 0;
  private active = false;
  private seed = 0;

  constructor(p: number) {
    if (!(p >= 0 && p < 1)) throw new Error(`dropout: p=${p} must be in [0, 1)`);
    this.p = p;
  }

  allocate(e: Engine, maxN: number): void {
    this.maxN = maxN;
    if (this.p > 0) {
      this.out = e.alloc(maxN, false);
      this.dx = e.alloc(maxN, false);
    }
  }

  /** n values at x → dropped copy (training, p > 0) or x itself. */
  forward(e: Engine, n: number, x: Ptr, training: boolean, seed = 0): Ptr {
    checkDims('dropout', { n: [n, this.maxN] });
    this.n = n;
    this.active = training && this.p > 0;
    this.seed = seed >>> 0;
    if (!this.active) return x;
    e.k.dropout_apply(n, this.p, this.seed, 0, x, this.out);
    return this.out;
  }

  backward(e: Engine, dOut: Ptr): Ptr {
    if (!this.active) return dOut;
    e.k.dropout_apply(this.n, this.p, this.seed, 0, dOut, this.dx);
    return this.dx;
  }

  /** The mask of the last forward as 0 or 1/(1-p) per element (for tests; allocates a JS array). */
  mask(e: Engine): Float32Array {
    const m = e.mark();
    const p = e.alloc(this.n, false);
    e.k.dropout_mask(this.n, this.active ? this.p : 0, this.seed, 0, p);
    const out = Float32Array.from(e.f32(p, this.n));
    e.release(m);
    return out;
  }
}

/** Seed for dropout site `site` at training step `step` of a run seeded with `base` (a 32-bit mix). */
export function dropoutSeed(base: number, step: number, site: number): number {
  let h = (base ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(site + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
