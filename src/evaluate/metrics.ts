/**
 * Forecast error metrics per horizon 1..H, accumulated batch by batch in float64:
 * MAE, RMSE, MAPE (percent, over non-zero actuals only), R^2 (1 - SSE/SST around the mean actual of that
 * horizon), P10-P90 coverage (fraction of actuals inside [p10, p90]) and mean interval width.
 * Targets that are NaN (beyond the data) are skipped. A metric with no samples is NaN.
 */
export interface HorizonMetrics {
  /** Samples per horizon. */
  n: number[];
  mae: number[];
  rmse: number[];
  mape: number[];
  r2: number[];
  coverage_p10_p90: number[];
  interval_width: number[];
}

export type MetricName = Exclude<keyof HorizonMetrics, 'n'>;
export const METRIC_NAMES: readonly MetricName[] = [
  'mae',
  'rmse',
  'mape',
  'r2',
  'coverage_p10_p90',
  'interval_width',
];

export class MetricsAccumulator {
  private readonly n: Float64Array;
  private readonly sae: Float64Array;
  private readonly sse: Float64Array;
  private readonly sape: Float64Array;
  private readonly nape: Float64Array;
  private readonly sy: Float64Array;
  private readonly syy: Float64Array;
  private readonly nband: Float64Array;
  private readonly inside: Float64Array;
  private readonly width: Float64Array;

  constructor(readonly H: number) {
    const z = () => new Float64Array(H);
    this.n = z();
    this.sae = z();
    this.sse = z();
    this.sape = z();
    this.nape = z();
    this.sy = z();
    this.syy = z();
    this.nband = z();
    this.inside = z();
    this.width = z();
  }

  /** Add a batch: actual, p50 and optional p10/p90, all (B, H) row-major. */
  add(actual: Float32Array, p50: Float32Array, p10?: Float32Array, p90?: Float32Array): void {
    const H = this.H;
    if (p50.length !== actual.length)
      throw new Error(`metrics: ${p50.length} predictions for ${actual.length} actuals`);
    const band = p10 !== undefined && p90 !== undefined;
    for (let i = 0; i < actual.length; i++) {
      const y = actual[i];
      if (Number.isNaN(y)) continue;
      const h = i % H;
      const e = y - p50[i];
      this.n[h]++;
      this.sae[h] += Math.abs(e);
      this.sse[h] += e * e;
      this.sy[h] += y;
      this.syy[h] += y * y;
      if (y !== 0) {
        this.sape[h] += Math.abs(e / y);
        this.nape[h]++;
      }
      if (band) {
        const lo = p10[i];
        const hi = p90[i];
        this.nband[h]++;
        if (y >= lo && y <= hi) this.inside[h]++;
        this.width[h] += hi - lo;
      }
    }
  }

  result(): HorizonMetrics {
    const H = this.H;
    const out: HorizonMetrics = {
      n: [],
      mae: [],
      rmse: [],
      mape: [],
      r2: [],
      coverage_p10_p90: [],
      interval_width: [],
    };
    for (let h = 0; h < H; h++) {
      const n = this.n[h];
      out.n.push(n);
      out.mae.push(n ? this.sae[h] / n : Number.NaN);
      out.rmse.push(n ? Math.sqrt(this.sse[h] / n) : Number.NaN);
      out.mape.push(this.nape[h] ? (100 * this.sape[h]) / this.nape[h] : Number.NaN);
      // SST around the horizon's mean actual; constant actuals give NaN (R^2 undefined)
      const sst = this.syy[h] - (this.sy[h] * this.sy[h]) / n;
      out.r2.push(n && sst > 1e-9 * Math.max(1, this.syy[h]) ? 1 - this.sse[h] / sst : Number.NaN);
      out.coverage_p10_p90.push(this.nband[h] ? this.inside[h] / this.nband[h] : Number.NaN);
      out.interval_width.push(this.nband[h] ? this.width[h] / this.nband[h] : Number.NaN);
    }
    return out;
  }
}

/** Mean over horizons of each metric (NaN entries skipped; NaN when all are NaN). */
export function averageOverHorizons(m: HorizonMetrics): Record<MetricName, number> {
  const out = {} as Record<MetricName, number>;
  for (const k of METRIC_NAMES) {
    let s = 0;
    let c = 0;
    for (const v of m[k]) {
      if (!Number.isNaN(v)) {
        s += v;
        c++;
      }
    }
    out[k] = c ? s / c : Number.NaN;
  }
  return out;
}

/** Convenience: all metrics of one set of (B, H) arrays. */
export function computeMetrics(
  H: number,
  actual: Float32Array,
  p50: Float32Array,
  p10?: Float32Array,
  p90?: Float32Array,
): HorizonMetrics {
  const acc = new MetricsAccumulator(H);
  acc.add(actual, p50, p10, p90);
  return acc.result();
}
