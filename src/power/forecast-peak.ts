import type { DemandOutlook } from './policies/warm-pool.js';

/**
 * The one demand outlook of the predictive warm pool, in the replay and on a live cluster: the newest
 * forecast (made at origin minute `t0`; step h is the minute t0 + 60·(h+1)), read as the highest p50 over
 * the steps that cover (t0, now + within], plus the calibrated peak band for that many steps and the
 * activity bin of the origin (./peak-band.ts); without a band, the highest P90 (p50 when none).
 * The replay sets it each minute from its online forecast; `pcm power advise`/`run` and the service set it
 * from the service's forecast answer.
 */

/** Calibrated offsets for the peak of demand over windows of 1..H steps, per activity bin. */
export interface PeakOffsets {
  readonly H: number;
  at(bin: number, steps: number): number;
}

export class ForecastPeak implements DemandOutlook {
  private t0 = Number.NaN;
  private p50: ArrayLike<number> = [];
  private p90: ArrayLike<number> | undefined;
  private bin = 0;

  constructor(readonly band: PeakOffsets | null = null) {}

  /** The newest forecast: origin minute (epoch s), p50 and optional p90 per step, the origin's activity bin. */
  set(t0: number, p50: ArrayLike<number>, p90: ArrayLike<number> | undefined, bin = 0): void {
    this.t0 = t0;
    this.p50 = p50;
    this.p90 = p90;
    this.bin = bin;
  }

  /** Epoch s of the newest forecast's origin (NaN before the first). */
  get origin(): number {
    return this.t0;
  }

  /** The newest forecast as set (null before the first): for logs, state and the identity test. */
  current(): { origin: number; p50: number[]; p90: number[] | null; bin: number } | null {
    if (Number.isNaN(this.t0)) return null;
    return {
      origin: this.t0,
      p50: Array.from(this.p50),
      p90: this.p90 ? Array.from(this.p90) : null,
      bin: this.bin,
    };
  }

  /** Epoch s of the forecast's last minute (NaN before the first). */
  get lastMinute(): number {
    return this.t0 + 60 * this.p50.length;
  }

  /** NaN without a forecast, or when every forecast minute is already past (a stale forecast). */
  peak(now: number, withinS: number): number {
    const H = this.p50.length;
    if (Number.isNaN(this.t0) || H === 0 || now >= this.t0 + 60 * H) return Number.NaN;
    const steps = Math.min(H, Math.max(1, Math.ceil((now + withinS - this.t0) / 60 - 1e-9)));
    const q = this.band ? this.p50 : (this.p90 ?? this.p50);
    let m = 0;
    for (let h = 0; h < steps; h++) if (q[h] > m) m = q[h];
    if (!this.band) return m;
    return m + this.band.at(this.bin, steps);
  }
}
