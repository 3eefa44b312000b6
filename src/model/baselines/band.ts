import { quantileSorted } from '../../util/stats.js';
import { type Batch, type Dataset, makeBatch } from '../dataset.js';

/** Origins per batch when a baseline predicts over its validation origins. */
const EVAL_CHUNK = 4096;

/**
 * Empirical residual quantiles per horizon (residual = actual - p50, on validation samples):
 * the P10/P90 band is p50 + q10[h] .. p50 + q90[h], a split-conformal style calibrated interval.
 */
export class ResidualBand {
  constructor(
    readonly q10: Float64Array,
    readonly q90: Float64Array,
  ) {}

  /** From residuals (N, H) row-major (NaN ignored); null when there are none. */
  static fromResiduals(res: Float32Array, H: number, lo = 0.1, hi = 0.9): ResidualBand | null {
    const N = res.length / H;
    if (N === 0) return null;
    const q10 = new Float64Array(H);
    const q90 = new Float64Array(H);
    const col = new Float32Array(N);
    for (let h = 0; h < H; h++) {
      let m = 0;
      for (let i = 0; i < N; i++) {
        const r = res[i * H + h];
        if (!Number.isNaN(r)) col[m++] = r;
      }
      if (m === 0) return null;
      const s = col.subarray(0, m).sort();
      q10[h] = quantileSorted(s, lo);
      q90[h] = quantileSorted(s, hi);
    }
    return new ResidualBand(q10, q90);
  }

  /** p10/p90 (B, H) around p50, clipped to [0, cap]. */
  apply(p50: Float32Array, H: number, cap: number): { p10: Float32Array; p90: Float32Array } {
    const p10 = new Float32Array(p50.length);
    const p90 = new Float32Array(p50.length);
    for (let i = 0; i < p50.length; i++) {
      const h = i % H;
      p10[i] = clip(p50[i] + this.q10[h], cap);
      p90[i] = clip(p50[i] + this.q90[h], cap);
    }
    return { p10, p90 };
  }
}

/** v clipped to [0, cap] (busy nodes). */
export function clip(v: number, cap: number): number {
  return Math.min(Math.max(v, 0), cap);
}

/** Residuals actual - p50 of a point forecaster over some origins, (N, H). */
export async function residuals(
  f: (b: Batch) => Float32Array | Promise<Float32Array>,
  data: Dataset,
  origins: Int32Array,
) {
  const H = data.horizon;
  const res = new Float32Array(origins.length * H);
  for (let i = 0; i < origins.length; i += EVAL_CHUNK) {
    const batch = makeBatch(data, origins.subarray(i, Math.min(i + EVAL_CHUNK, origins.length)), {
      withX: false,
    });
    const p = await f(batch);
    for (let k = 0; k < p.length; k++) res[i * H + k] = batch.y[k] - p[k];
  }
  return res;
}
