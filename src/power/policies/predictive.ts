import type { NodePowerModel } from '../model.js';
import { type DemandOutlook, WarmPool } from './warm_pool.js';

/**
 * Forecast-driven warm pool: demand = the peak of the forecast over the window plus its calibrated peak band
 * (made from data up to now only, see ../live.ts), kept available over the boot horizon plus `margin` nodes;
 * nodes powered down only when the forecast says they will stay unneeded past the break-even time (and,
 * optionally, only nodes idle at least `minIdleS`, which keeps just-freed nodes for the next job of a burst).
 */
export function predictivePolicy(
  outlook: DemandOutlook,
  model: NodePowerModel,
  margin: number,
  intervalS = 60,
  minIdleS = 0,
  upSlackS = 0,
): WarmPool {
  return new WarmPool('predictive', outlook, model, margin, intervalS, minIdleS, upSlackS);
}
