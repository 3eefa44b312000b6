import type { NodePowerModel } from '../watts.js';
import { UserChains, type UserChainsOptions } from './user-chains.js';
import { type ArrivalOutlook, type DemandOutlook, WarmPool } from './warm-pool.js';

/**
 * Forecast-driven warm pool: demand = the peak of the forecast over the window plus its calibrated peak band
 * (made from data up to now only: ../online-forecast.ts in the replay, the service live; read through ../forecast-peak.ts), kept available over the boot horizon plus `margin` nodes;
 * nodes powered down only when the forecast says they will stay unneeded past the break-even time (and,
 * optionally, only nodes idle at least `minIdleS`, which keeps just-freed nodes for the next job of a burst);
 * with `chains`, also idle nodes for the next job of each active user's submission chain (./user-chains.ts),
 * or for any other outlook of arrivals given instead (the bench's foresight bounds).
 */
export function predictivePolicy(
  outlook: DemandOutlook,
  model: NodePowerModel,
  margin: number,
  intervalS = 60,
  minIdleS = 0,
  upSlackS = 0,
  chains: UserChainsOptions | ArrivalOutlook | null = null,
): WarmPool {
  const uc = chains && 'windowS' in chains ? (chains.windowS > 0 ? new UserChains(chains) : null) : chains;
  return new WarmPool('predictive', outlook, model, margin, intervalS, minIdleS, upSlackS, uc);
}

/**
 * Boot lead for rate-limited boots (the warm pool's `upSlackS`): a jump to every node needs
 * ceil(nodes / ResumeRate) minutes of boots.
 */
export function bootSlackS(nodes: number, resumeRate: number): number {
  return 60 * Math.max(0, Math.ceil(nodes / resumeRate) - 1);
}
