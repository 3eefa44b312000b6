import type { PowerConfig } from '../power/config.js';
import type { PeakOffsets } from '../power/forecast-peak.js';
import { ForecastPeak } from '../power/forecast-peak.js';
import { bootSlackS, predictivePolicy } from '../power/policies/predictive.js';
import type { ClusterView } from '../power/policy.js';
import { powerModelFromConfig } from '../power/watts.js';

/**
 * The power view of a forecast: what the power controller would do now, and what the cluster then draws.
 * It is the controller's own law (`policies/warm-pool.ts` reading the forecast through
 * `power/forecast-peak.ts`, built from the Power section as `pcm power advise` and `pcm power run` build it),
 * not a rule of its own.
 *
 * Warm pool (now): the law's `up` target for a cluster with `busyNow` busy nodes and every other node
 * powered and idle: keep max(busy, ceil(peak demand over the boot lead)) + WarmPoolMargin nodes available,
 * where the boot lead is BootSeconds + Predictive.IntervalSeconds (+ the lead for rate-limited boots) and
 * peak demand is the highest P90 over it (p50 + the calibrated peak band when the forecast carries one).
 * Per forecast minute h the same law rolls forward with busy = p50[h]: powered[h] = its `up` target then;
 * kW[h] = (busy·BusyWatts + (powered - busy)·IdleWatts + (cap - powered)·OffWatts) / 1000. `kw_all_on` is
 * the same with every node powered, so the difference is what the controller saves.
 */
export interface WarmPool {
  /** Idle nodes to keep powered now. */
  nodes: number;
  /** Nodes to keep powered now (busy + warm pool). */
  powered_now: number;
  current_busy: number;
  /** Highest demand outlook (P90, or p50 + peak band) over the boot lead. */
  peak_p90: number;
  boot_minutes: number;
  margin: number;
}

export interface PowerView {
  /** kW per forecast minute under the controller's law. */
  kw: number[];
  /** kW per forecast minute with every node powered (today's default). */
  kw_all_on: number[];
  /** Nodes powered per forecast minute under the law. */
  powered: number[];
  warm_pool: WarmPool;
}

/**
 * @param p50 (H) busy nodes, P50
 * @param p90 (H) busy nodes, P90
 * @param capacity nodes in the cluster (or the request's total_nodes)
 * @param busyNow busy nodes at the origin
 * @param power the Power section; `cluster` selects its Power.Clusters overrides
 * @param band the forecaster's calibrated peak band, when it has one; `bin` the origin's activity bin
 */
export function powerView(
  p50: ArrayLike<number>,
  p90: ArrayLike<number>,
  capacity: number,
  busyNow: number,
  power: PowerConfig,
  cluster?: string,
  band: PeakOffsets | null = null,
  bin = 0,
): PowerView {
  const H = p50.length;
  const cap = Math.max(0, Math.floor(capacity));
  const busy0 = Math.min(cap, Math.max(0, Math.round(busyNow)));
  const model = powerModelFromConfig(power, cluster);
  const outlook = new ForecastPeak(band);
  outlook.set(0, p50, p90, bin);
  const law = predictivePolicy(
    outlook,
    model,
    power.WarmPoolMargin,
    power.Predictive.IntervalSeconds,
    power.Predictive.MinIdleSeconds,
    bootSlackS(cap, power.Reactive.ResumeRate),
  );
  // the cluster as the view sees it: `busy` nodes busy, every other node powered and idle
  const view = (now: number, busy: number): ClusterView => ({
    now,
    capacity: cap,
    busy,
    idle: cap - busy,
    booting: 0,
    off: 0,
    shutting: 0,
    queuedNodes: 0,
    idleNodes: () => ({ ids: new Int32Array(0), since: new Float64Array(0), n: 0 }),
  });
  const t0 = H > 0 ? law.targets(view(0, busy0)) : null;
  const up0 = t0 ? t0.up : Math.min(cap, busy0 + power.WarmPoolMargin);
  const kw = new Array<number>(H);
  const kwAll = new Array<number>(H);
  const powered = new Array<number>(H);
  const w = { busy: model.busyW / 1000, idle: model.idleW / 1000, off: model.offW / 1000 };
  for (let h = 0; h < H; h++) {
    const busy = Math.min(cap, Math.max(0, p50[h]));
    const t = law.targets(view(60 * h, Math.min(cap, Math.ceil(busy - 1e-9))));
    const on = t ? t.up : cap;
    powered[h] = on;
    // kW = busy·B + (on - busy)·I + (cap - on)·O
    kw[h] = round3(busy * w.busy + (on - busy) * w.idle + (cap - on) * w.off);
    kwAll[h] = round3(busy * w.busy + (cap - busy) * w.idle);
  }
  return {
    kw,
    kw_all_on: kwAll,
    powered,
    warm_pool: {
      nodes: up0 - busy0,
      powered_now: up0,
      current_busy: busy0,
      peak_p90: round3(t0 ? t0.upPeak : busy0),
      boot_minutes: Math.ceil(model.bootS / 60),
      margin: power.WarmPoolMargin,
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
