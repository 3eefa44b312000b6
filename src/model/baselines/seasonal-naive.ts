import type { Batch } from '../dataset.js';
import { DAY_MINUTES, WEEK_MINUTES } from '../features.js';
import { SeriesRule } from './series-rule.js';

/**
 * Seasonal naive: busy(t+h) = busy(t+h-period). Where t+h-period is before the data starts it falls back
 * to persistence busy(t).
 */
export class SeasonalNaive extends SeriesRule {
  readonly name: string;
  constructor(readonly period: number) {
    super();
    this.name =
      period === DAY_MINUTES
        ? 'seasonal_day'
        : period === WEEK_MINUTES
          ? 'seasonal_week'
          : `seasonal_${period}m`;
  }
  protected point(batch: Batch): Float32Array {
    const { B, H, origins } = batch;
    const busy = batch.data.busy;
    const p = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      const t = origins[b];
      for (let h = 1; h <= H; h++) {
        const s = t + h - this.period;
        p[b * H + h - 1] = s >= 0 ? busy[s] : busy[t];
      }
    }
    return p;
  }
}
