import type { NodePowerModel } from '../model.js';
import { type DemandOutlook, WarmPool } from './warm_pool.js';

/**
 * Forecast-driven warm pool: demand = the forecaster's upper quantile of busy nodes (made from data up to
 * now only, see ../live.ts), kept powered over the boot horizon plus `margin` nodes; nodes powered down only
 * when the forecast says they will stay unneeded past the break-even time (and, optionally, only nodes idle at
 * least `minIdleS`, which keeps just-freed nodes for the next job of a burst).
 */
export function predictivePolicy(
  outlook: DemandOutlook,
  model: NodePowerModel,
  margin: number,
  intervalS = 60,
  minIdleS = 0,
): WarmPool {
  return new WarmPool('predictive', outlook, model, margin, intervalS, minIdleS);
}
