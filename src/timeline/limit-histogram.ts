/**
 * p90_limit_running_s: the nearest-rank 90th percentile of the running jobs' time limits, read from a histogram
 * over P90_BINS = 128 log-spaced bins from 60 s to 365 days (each bin spans a factor 525600^(1/128) ~ 1.108,
 * i.e. ~10.8 %). The value reported is the mean of the limits in the percentile's bin, so it is exact when
 * that bin holds one distinct limit (the usual case: limits are round numbers) and otherwise lies within that
 * bin. Limits below 60 s share bin 0, above 365 days the last bin.
 */

export const P90_BINS = 128;
const P90_MIN_S = 60;
const P90_MAX_S = 365 * 86400;
const LOG_RANGE = Math.log(P90_MAX_S / P90_MIN_S);

/** The histogram bin of a time limit (seconds). */
export function p90Bin(limitS: number): number {
  if (limitS <= P90_MIN_S) return 0;
  if (limitS >= P90_MAX_S) return P90_BINS - 1;
  const b = Math.floor((Math.log(limitS / P90_MIN_S) / LOG_RANGE) * P90_BINS);
  return b < P90_BINS ? b : P90_BINS - 1;
}

/** Count and sum of the limits per bin, updated as jobs come and go. */
export class LimitHistogram {
  private readonly count = new Float64Array(P90_BINS);
  private readonly sum = new Float64Array(P90_BINS);

  /** A limit in bin b (p90Bin) comes in. */
  add(b: number, limitS: number): void {
    this.count[b]++;
    this.sum[b] += limitS;
  }

  /** A limit in bin b goes (an emptied bin's sum is reset, so no rounding lingers). */
  remove(b: number, limitS: number): void {
    if (--this.count[b] === 0) this.sum[b] = 0;
    else this.sum[b] -= limitS;
  }

  /** The nearest-rank 90th percentile of the `n` limits held (n > 0): the mean of its bin. */
  p90(n: number): number {
    const rank = Math.ceil((n * 9) / 10); // 1-based (integer arithmetic, no 0.9 rounding)
    let cum = 0;
    let bi = 0;
    for (; bi < P90_BINS - 1; bi++) {
      cum += this.count[bi];
      if (cum >= rank) break;
    }
    return this.sum[bi] / this.count[bi];
  }
}
