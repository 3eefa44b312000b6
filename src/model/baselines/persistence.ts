import type { Batch } from '../dataset.js';
import { SeriesRule } from './series-rule.js';

/** Last value: busy(t+h) = busy(t) for every h. */
export class Persistence extends SeriesRule {
  readonly name = 'persistence';
  protected point(batch: Batch): Float32Array {
    const { B, H, origins } = batch;
    const busy = batch.data.busy;
    const p = new Float32Array(B * H);
    for (let b = 0; b < B; b++) p.fill(busy[origins[b]], b * H, (b + 1) * H);
    return p;
  }
}
