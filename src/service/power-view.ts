import type { PowerConfig } from '../power/config.js';

/** The figures the view needs (the Power section, with a cluster's overrides applied). */
export type NodeWatts = Pick<
  PowerConfig,
  'IdleWatts' | 'BusyWatts' | 'OffWatts' | 'BootSeconds' | 'WarmPoolMargin'
>;

/** The Power section's figures for one cluster: `Power.Clusters.<name>` overrides the top-level ones. */
export function wattsFor(cfg: PowerConfig, cluster: string): NodeWatts {
  const o = cfg.Clusters?.[cluster] ?? {};
  return {
    IdleWatts: o.IdleWatts ?? cfg.IdleWatts,
    BusyWatts: o.BusyWatts ?? cfg.BusyWatts,
    OffWatts: o.OffWatts ?? cfg.OffWatts,
    BootSeconds: o.BootSeconds ?? cfg.BootSeconds,
    WarmPoolMargin: cfg.WarmPoolMargin,
  };
}

/**
 * The power view of a forecast: how many nodes to keep powered and what the cluster then draws.
 *
 * Warm pool (advice for now): idle nodes to keep powered = ceil(max P90 over the boot horizon) - busy now,
 * at least 0, plus WarmPoolMargin, at most the idle nodes there are. A node powered on now is ready after
 * BootSeconds, so the nodes needed before then must already be on.
 * Per forecast minute h the same rule rolls forward: powered[h] = min(cap, max(ceil(max P90 over
 * h..h+boot) + margin, ceil(p50[h]))); the estimate is kW[h] = (busy·BusyWatts + (powered - busy)·IdleWatts
 * + (cap - powered)·OffWatts) / 1000 with busy = p50[h]. `kw_all_on` is the same with every node powered,
 * so the difference is what the policy saves.
 */
export interface WarmPool {
  /** Idle nodes to keep powered now. */
  nodes: number;
  /** Nodes to keep powered now (busy + warm pool). */
  powered_now: number;
  current_busy: number;
  /** Highest P90 within the boot horizon. */
  peak_p90: number;
  boot_minutes: number;
  margin: number;
}

export interface PowerView {
  /** kW per forecast minute under the warm-pool policy. */
  kw: number[];
  /** kW per forecast minute with every node powered (today's default). */
  kw_all_on: number[];
  /** Nodes powered per forecast minute under the policy. */
  powered: number[];
  warm_pool: WarmPool;
}

/**
 * @param p50 (H) busy nodes, P50
 * @param p90 (H) busy nodes, P90
 * @param capacity nodes in the cluster (or the request's total_nodes)
 * @param busyNow busy nodes at the origin
 */
export function powerView(
  p50: ArrayLike<number>,
  p90: ArrayLike<number>,
  capacity: number,
  busyNow: number,
  cfg: NodeWatts,
): PowerView {
  const H = p50.length;
  const boot = Math.ceil(cfg.BootSeconds / 60);
  const cap = Math.max(0, Math.floor(capacity));
  const busy0 = Math.min(cap, Math.max(0, Math.round(busyNow)));
  // peak P90 over minutes 1..boot (the nodes needed before a node switched on now is ready)
  let peak = busy0;
  for (let h = 0; h < Math.min(boot, H); h++) peak = Math.max(peak, p90[h]);
  const need = Math.ceil(peak - 1e-9);
  const warm = Math.min(Math.max(0, need - busy0) + cfg.WarmPoolMargin, cap - busy0);
  const kw = new Array<number>(H);
  const kwAll = new Array<number>(H);
  const powered = new Array<number>(H);
  const w = { busy: cfg.BusyWatts / 1000, idle: cfg.IdleWatts / 1000, off: cfg.OffWatts / 1000 };
  for (let h = 0; h < H; h++) {
    // nodes needed from h to h + boot: max P90 over that window (clipped to the forecast)
    let m = p90[h];
    for (let k = h + 1; k <= Math.min(h + boot, H - 1); k++) m = Math.max(m, p90[k]);
    const busy = Math.min(cap, Math.max(0, p50[h]));
    const on = Math.min(cap, Math.max(Math.ceil(m - 1e-9) + cfg.WarmPoolMargin, Math.ceil(busy - 1e-9)));
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
      nodes: warm,
      powered_now: busy0 + warm,
      current_busy: busy0,
      peak_p90: round3(peak),
      boot_minutes: boot,
      margin: cfg.WarmPoolMargin,
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
