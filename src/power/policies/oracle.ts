import type { NodePowerModel } from '../watts.js';
import { type DemandOutlook, WarmPool } from './warm-pool.js';

/**
 * Perfect foresight: the exact future of nodes held by jobs (from the always-on replay of the same jobs)
 * drives the warm-pool law with no margin. No policy that boots ahead of demand can save more at zero
 * added wait; it is the bound the others are judged against.
 */
export class StepPeak implements DemandOutlook {
  private readonly times: Float64Array;
  /** Sparse table: level k holds max of values[i .. i + 2^k - 1]. */
  private readonly table: Float64Array[];

  /** `times` ascending change points, `values[i]` holds from times[i] until times[i+1]. */
  constructor(times: Float64Array, values: Float64Array) {
    this.times = times;
    this.table = [values];
    for (let k = 1; 1 << k <= values.length; k++) {
      const prev = this.table[k - 1];
      const half = 1 << (k - 1);
      const cur = new Float64Array(values.length - (1 << k) + 1);
      for (let i = 0; i < cur.length; i++) cur[i] = Math.max(prev[i], prev[i + half]);
      this.table.push(cur);
    }
  }

  /** Index of the last change point <= t (-1 before the first). */
  private at(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  peak(now: number, withinS: number): number {
    const a = Math.max(0, this.at(now));
    const b = this.at(now + withinS);
    if (b < a) return this.times.length ? this.table[0][a] : 0;
    // range maximum over [a, b] from two overlapping power-of-two blocks
    const k = 31 - Math.clz32(b - a + 1);
    return Math.max(this.table[k][a], this.table[k][b - (1 << k) + 1]);
  }
}

export function oraclePolicy(
  future: DemandOutlook,
  model: NodePowerModel,
  intervalS = 10,
  upSlackS = 0,
): WarmPool {
  return new WarmPool('oracle', future, model, 0, intervalS, 0, upSlackS);
}
