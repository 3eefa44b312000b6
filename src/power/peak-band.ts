/**
 * The calibrated peak band of the predictive warm pool: how far the highest demand over the next k minutes
 * runs above the highest p50 forecast over them, per activity bin of the origin. Calibrated on validation
 * origins only (./online-forecast.ts `calibratePeak`), read through ./forecast-peak.ts.
 */
import { type Dataset, makeBatch } from '../model/dataset.js';
import type { Forecaster } from '../model/forecaster.js';

/** Activity bin of row t: jobs submitted over the last 30 minutes (0, 1-2, 3-7, 8+). */
export function activityBin(submitted: ArrayLike<number>, t: number): number {
  let n = 0;
  for (let i = Math.max(0, t - 29); i <= t; i++) n += submitted[i];
  return n === 0 ? 0 : n <= 2 ? 1 : n <= 7 ? 2 : 3;
}
const ACTIVITY_BINS = 4;

/**
 * Calibrated band for the *peak* of demand over the next k minutes: the `q`-quantile of
 * max(busy(t+1..t+k)) - max(p50(t+1..t+k)) over validation origins (k = 1..H), per activity bin (recent
 * submissions: a quiet cluster rarely sees a new job within minutes, a busy one often does). The per-minute
 * P10/P90 band of a forecaster is the wrong width here: the warm pool must cover the highest demand anywhere
 * in the boot horizon, which an arriving job sets, not the typical minute.
 */
export class PeakBand {
  constructor(
    readonly q: number,
    readonly H: number,
    /** (ACTIVITY_BINS, H) offset in nodes for windows of 1..H minutes. */
    readonly offset: Float64Array,
  ) {}

  at(bin: number, steps: number): number {
    return this.offset[bin * this.H + steps - 1];
  }

  /** The band at origin row `t` of a timeline's submitted series, as the service sends it. */
  atOrigin(submitted: ArrayLike<number>, t: number): ServedPeakBand {
    const bin = activityBin(submitted, t);
    return {
      quantile: this.q,
      bin,
      offsets: Array.from(this.offset.subarray(bin * this.H, (bin + 1) * this.H)),
    };
  }

  /** Calibrate from p50 forecasts (B, H) at `origins` of a timeline's busy and submitted series. */
  static fit(
    busy: ArrayLike<number>,
    submitted: ArrayLike<number>,
    origins: Int32Array,
    p50: Float32Array,
    H: number,
    q: number,
  ): PeakBand {
    const B = origins.length;
    const res: number[][][] = Array.from({ length: ACTIVITY_BINS }, () =>
      Array.from({ length: H }, () => []),
    );
    for (let b = 0; b < B; b++) {
      const t = origins[b];
      const bin = activityBin(submitted, t);
      let act = Number.NEGATIVE_INFINITY;
      let pred = Number.NEGATIVE_INFINITY;
      for (let h = 1; h <= H; h++) {
        // running peaks of the actual and the forecast over t+1..t+h
        act = Math.max(act, busy[t + h]);
        pred = Math.max(pred, p50[b * H + h - 1]);
        res[bin][h - 1].push(act - pred);
      }
    }
    // per bin and window: the q-quantile (bins without samples borrow the next busier bin's, else 0)
    const offset = new Float64Array(ACTIVITY_BINS * H);
    for (let bin = ACTIVITY_BINS - 1; bin >= 0; bin--) {
      for (let h = 0; h < H; h++) {
        const s = Float64Array.from(res[bin][h]).sort();
        offset[bin * H + h] = s.length
          ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]
          : bin + 1 < ACTIVITY_BINS
            ? offset[(bin + 1) * H + h]
            : 0;
      }
    }
    return new PeakBand(q, H, offset);
  }
}

/** The band of one origin in a forecast answer (`peak_band`): offsets for windows of 1..H minutes. */
export interface ServedPeakBand {
  quantile: number;
  bin: number;
  offsets: number[];
}

/** Calibrate the peak band of a fitted forecaster from its p50 forecasts at `origins` of `data`. */
export async function calibratePeakBand(
  f: Forecaster,
  data: Dataset,
  origins: Int32Array,
  horizon: number,
  q: number,
): Promise<PeakBand> {
  const p50 = new Float32Array(origins.length * horizon);
  const w = f.window;
  const X = data.features.data;
  const x = w ? (w.scaler ? w.scaler.transform(X) : X) : undefined;
  for (let i = 0; i < origins.length; i += 4096) {
    const o = origins.subarray(i, Math.min(i + 4096, origins.length));
    const batch = makeBatch(data, o, w ? { lookback: w.lookback, x } : { withX: false });
    const res = await f.predict(batch);
    p50.set(res.p50, i * horizon);
  }
  return PeakBand.fit(data.busy, data.timeline.columns.submitted_last_min, origins, p50, horizon, q);
}
