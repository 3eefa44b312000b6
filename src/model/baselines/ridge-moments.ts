import { choleskySolve } from '../../util/linalg.js';

/**
 * The ridge's sufficient statistics and solves: raw moment sums per horizon, accumulated in one pass over
 * the samples, then a standardised ridge solve and an exact MSE for any penalty without a second pass.
 */

/** Raw moment sums of [c | e_h] and y_h for every horizon, accumulated in float64. */
export class RidgeMoments {
  n = 0;
  /** (Dc, Dc) sum c c^T (full, symmetric). */
  readonly scc: Float64Array;
  readonly sc: Float64Array;
  /** (H, Dc, De) sum c e_h^T. */
  readonly sce: Float64Array;
  /** (H, De, De) sum e_h e_h^T. */
  readonly see: Float64Array;
  /** (H, De) */
  readonly se: Float64Array;
  /** (H, Dc) sum c y_h; (H, De) sum e_h y_h; (H) sum y_h, sum y_h^2. */
  readonly scy: Float64Array;
  readonly sey: Float64Array;
  readonly sy: Float64Array;
  readonly syy: Float64Array;

  constructor(
    readonly Dc: number,
    readonly De: number,
    readonly H: number,
  ) {
    this.scc = new Float64Array(Dc * Dc);
    this.sc = new Float64Array(Dc);
    this.sce = new Float64Array(H * Dc * De);
    this.see = new Float64Array(H * De * De);
    this.se = new Float64Array(H * De);
    this.scy = new Float64Array(H * Dc);
    this.sey = new Float64Array(H * De);
    this.sy = new Float64Array(H);
    this.syy = new Float64Array(H);
  }

  /** Add one sample: c (Dc), e (H, De), y (H). */
  add(c: Float64Array, e: Float64Array, y: Float64Array): void {
    const { Dc, De, H } = this;
    this.n++;
    // common block: upper triangle of c c^T, mirrored in full()
    for (let i = 0; i < Dc; i++) {
      const ci = c[i];
      this.sc[i] += ci;
      const row = i * Dc;
      for (let j = i; j < Dc; j++) this.scc[row + j] += ci * c[j];
    }
    // per horizon: cross terms with the seasonal block and the target
    for (let h = 0; h < H; h++) {
      const yh = y[h];
      const eo = h * De;
      this.sy[h] += yh;
      this.syy[h] += yh * yh;
      const co = h * Dc;
      for (let i = 0; i < Dc; i++) {
        const ci = c[i];
        this.scy[co + i] += ci * yh;
        const so = (h * Dc + i) * De;
        for (let k = 0; k < De; k++) this.sce[so + k] += ci * e[eo + k];
      }
      for (let k = 0; k < De; k++) {
        const ek = e[eo + k];
        this.se[eo + k] += ek;
        this.sey[eo + k] += ek * yh;
        const so = (h * De + k) * De;
        for (let l = 0; l < De; l++) this.see[so + l] += ek * e[eo + l];
      }
    }
  }

  plus(o: RidgeMoments): RidgeMoments {
    const r = new RidgeMoments(this.Dc, this.De, this.H);
    r.n = this.n + o.n;
    for (const k of ['scc', 'sc', 'sce', 'see', 'se', 'scy', 'sey', 'sy', 'syy'] as const) {
      const a = this[k];
      const b = o[k];
      const d = r[k];
      for (let i = 0; i < d.length; i++) d[i] = a[i] + b[i];
    }
    return r;
  }

  /** Full moments for horizon h over z = [c | e_h]: S (D, D), s (D), sy (D), and sums of y, y^2. */
  full(h: number): {
    S: Float64Array;
    s: Float64Array;
    szy: Float64Array;
    sy: number;
    syy: number;
    n: number;
  } {
    const { Dc, De } = this;
    const D = Dc + De;
    const S = new Float64Array(D * D);
    for (let i = 0; i < Dc; i++) {
      for (let j = i; j < Dc; j++) {
        S[i * D + j] = this.scc[i * Dc + j];
        S[j * D + i] = this.scc[i * Dc + j];
      }
      for (let k = 0; k < De; k++) {
        const v = this.sce[(h * Dc + i) * De + k];
        S[i * D + Dc + k] = v;
        S[(Dc + k) * D + i] = v;
      }
    }
    for (let k = 0; k < De; k++)
      for (let l = 0; l < De; l++) S[(Dc + k) * D + Dc + l] = this.see[(h * De + k) * De + l];
    const s = new Float64Array(D);
    const szy = new Float64Array(D);
    s.set(this.sc, 0);
    s.set(this.se.subarray(h * De, (h + 1) * De), Dc);
    szy.set(this.scy.subarray(h * Dc, (h + 1) * Dc), 0);
    szy.set(this.sey.subarray(h * De, (h + 1) * De), Dc);
    return { S, s, szy, sy: this.sy[h], syy: this.syy[h], n: this.n };
  }
}

/** Weights of one horizon's linear model: y = w . z + b. */
export interface Linear {
  w: Float64Array;
  b: number;
}

/**
 * Ridge on standardised columns from raw moments: (R + lambda I) beta = r, with R the correlation matrix
 * and r the standardised cross-covariance; constant columns get weight 0. Returns raw-scale w and b.
 */
export function ridgeFromMoments(
  m: { S: Float64Array; s: Float64Array; szy: Float64Array; sy: number; n: number },
  D: number,
  lambda: number,
): Linear {
  const { S, s, szy, sy, n } = m;
  const mu = new Float64Array(D);
  const sd = new Float64Array(D);
  for (let i = 0; i < D; i++) mu[i] = s[i] / n;
  const ybar = sy / n;
  for (let i = 0; i < D; i++) {
    const v = S[i * D + i] / n - mu[i] * mu[i];
    sd[i] = v > 1e-12 ? Math.sqrt(v) : 0;
  }
  // A = R + lambda I (D, D); r (D)
  const A = new Float64Array(D * D);
  const r = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    if (sd[i] === 0) {
      A[i * D + i] = 1;
      continue;
    }
    for (let j = 0; j < D; j++) {
      if (sd[j] === 0) continue;
      A[i * D + j] = (S[i * D + j] / n - mu[i] * mu[j]) / (sd[i] * sd[j]);
    }
    A[i * D + i] += lambda;
    r[i] = (szy[i] / n - mu[i] * ybar) / sd[i];
  }
  const beta = choleskySolve(A, r, D);
  const w = new Float64Array(D);
  let b = ybar;
  for (let i = 0; i < D; i++) {
    w[i] = sd[i] === 0 ? 0 : beta[i] / sd[i];
    b -= w[i] * mu[i];
  }
  return { w, b };
}

/** Mean squared error of y = w.z + b over the samples summarised by raw moments (exact, no second pass). */
export function mseFromMoments(
  m: { S: Float64Array; s: Float64Array; szy: Float64Array; sy: number; syy: number; n: number },
  D: number,
  lin: Linear,
): number {
  const { S, s, szy, sy, syy, n } = m;
  const { w, b } = lin;
  // sum (y - w.z - b)^2 = syy - 2 w.szy - 2 b sy + w^T S w + 2 b w.s + n b^2
  let wSw = 0;
  let wszy = 0;
  let ws = 0;
  for (let i = 0; i < D; i++) {
    let Si = 0;
    for (let j = 0; j < D; j++) Si += S[i * D + j] * w[j];
    wSw += w[i] * Si;
    wszy += w[i] * szy[i];
    ws += w[i] * s[i];
  }
  return (syy - 2 * wszy - 2 * b * sy + wSw + 2 * b * ws + n * b * b) / n;
}
