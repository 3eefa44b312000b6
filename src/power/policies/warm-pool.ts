import {
  type ClusterView,
  type JobEvent,
  type PowerActions,
  type PowerPolicy,
  powerDownLongestIdle,
} from '../policy.js';
import { breakEvenSeconds, type NodePowerModel } from '../watts.js';

/**
 * What a warm-pool policy knows about demand ahead: the most nodes that jobs will hold at any instant in
 * [now, now + withinS] (a forecast's upper quantile, or the truth for the oracle). NaN = no outlook yet.
 */
export interface DemandOutlook {
  peak(now: number, withinS: number): number;
}

/**
 * Idle nodes to hold for job arrivals expected in [now, now + withinS] on top of what jobs hold now (e.g.
 * users' submission chains, ./user-chains.ts), learnt from job events as they happen.
 */
export interface ArrivalOutlook {
  nodes(now: number, withinS: number): number;
  observe(e: JobEvent): void;
}

/** What the warm-pool law wants at one instant (nodes; peaks as the outlook gave them). */
export interface WarmPoolTargets {
  upPeak: number;
  holdPeak: number;
  /** Keep at least this many nodes available (busy + idle + booting): boot up to it. */
  up: number;
  /** Power idle nodes down only while more than this many are available. */
  hold: number;
}

/**
 * The control law shared by `predictive` and `oracle`: keep `peak demand over the boot horizon + margin`
 * nodes available (busy + idle + booting), booting ahead of demand; power idle nodes down only when demand
 * over the break-even horizon (plus margin) leaves them unneeded, so a shutdown pays for its boot.
 *   up window   = boot + decision interval (+ slack for rate-limited boots): a boot started now serves demand
 *                 from now + boot on
 *   hold window = max(break-even gap, shutdown + boot + interval)
 * With `arrivals` (e.g. users' submission chains, ./user-chains.ts), each target is at least busy + the idle
 * nodes held for arrivals expected within its window: a burst's next job finds warm nodes, and nodes freed by
 * an active user's job are not powered down while that user is likely to submit again.
 */
export class WarmPool implements PowerPolicy {
  readonly intervalS: number;
  readonly upS: number;
  readonly holdS: number;
  readonly knob: { name: string; value: number };

  constructor(
    readonly name: string,
    readonly outlook: DemandOutlook,
    model: NodePowerModel,
    readonly margin: number,
    intervalS: number,
    /** Power down only nodes idle at least this long (s). */
    readonly minIdleS = 0,
    /** Extra boot lead (s), e.g. for boots queued by ResumeRate: 60 x ceil(nodes / ResumeRate). */
    upSlackS = 0,
    /** Expected arrivals (learnt from `observe`); none = the forecast alone. */
    readonly arrivals: ArrivalOutlook | null = null,
  ) {
    this.intervalS = intervalS;
    this.upS = model.bootS + intervalS + upSlackS;
    this.holdS = Math.max(breakEvenSeconds(model), model.shutdownS + model.bootS + intervalS);
    this.knob = { name: 'margin', value: margin };
  }

  observe(e: JobEvent): void {
    this.arrivals?.observe(e);
  }

  /**
   * The law's targets at `view.now`: keep at least `up` nodes available (busy + idle + booting), power down
   * only above `hold`; null without an outlook (then nothing is booted and everything powered is kept).
   */
  targets(view: ClusterView): WarmPoolTargets | null {
    const upPeak = this.outlook.peak(view.now, this.upS);
    const holdPeak = this.outlook.peak(view.now, this.holdS);
    if (Number.isNaN(upPeak) || Number.isNaN(holdPeak)) return null;
    const cap = view.capacity;
    // targets: demand ahead (never below what is held now) plus the margin, at most the cluster
    // held now + idle nodes for the arrivals expected over each window (none without an arrival outlook)
    const upArr = view.busy + (this.arrivals?.nodes(view.now, this.upS) ?? 0);
    const holdArr = view.busy + (this.arrivals?.nodes(view.now, this.holdS) ?? 0);
    const up = Math.min(cap, Math.max(Math.max(view.busy, Math.ceil(upPeak - 1e-9)) + this.margin, upArr));
    const hold = Math.min(
      cap,
      Math.max(Math.max(view.busy, Math.ceil(holdPeak - 1e-9)) + this.margin, holdArr),
    );
    return { upPeak, holdPeak, up, hold };
  }

  decide(view: ClusterView, act: PowerActions): void {
    const t = this.targets(view);
    // no outlook yet: keep everything that is powered, boot nothing
    if (!t) return;
    const avail = view.busy + view.idle + view.booting;
    if (avail < t.up) act.powerUp(t.up - avail);
    else if (avail > t.hold) powerDownLongestIdle(view, act, avail - t.hold, this.minIdleS);
  }
}
