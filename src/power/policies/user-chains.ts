import type { PredictiveConfig } from '../config.js';
import type { JobEvent } from '../policy.js';
import type { ArrivalOutlook } from './warm-pool.js';

/**
 * Users' submission chains, learnt online from job events as they happen (causal by construction: it only
 * ever holds what `observe` was told). On KTH-SP2, 39 % of submissions are followed by the same user's next
 * one within 5 minutes, and 68 % of the follow-ups within 10 minutes ask for as many nodes as the previous one
 * (`bench/studies/power-arrivals.ts --gaps`): after a user submits a job, or one of theirs ends, another of
 * the same size often follows.
 *
 * `nodes(now)` is the idle capacity that the warm pool should hold for those chained arrivals: the sum over
 * users *active* (a submission, or with `onEnd` a job end, within the last `windowS` seconds) of the size of
 * their latest submission, counting only users whose latest job asks for at most `maxNodes` nodes. The boot
 * wait is a per-job mean, so a small job's avoided wait is worth as much as a large one's at a fraction of the
 * idle power: measured, covering chains of every size does no better than a wider warm-pool margin.
 */
export interface UserChainsOptions {
  /** A user counts as active this long after their last event (s); 0 disables the model. */
  windowS: number;
  /** Only users whose latest job asks for at most this many nodes are covered. */
  maxNodes: number;
  /** A job end also makes its user active (its freed nodes stay warm for the user's next job). */
  onEnd: boolean;
}

/** UserChains as plain data: per user [user id, last active instant, latest job size]. */
export interface UserChainsSaved {
  latest: number | null;
  active: Array<[number, number, number]>;
  dormant: Array<[number, number, number]>;
}

export class UserChains implements ArrivalOutlook {
  /** Per user id: time of the last event that makes the user active, and their latest job size. */
  private readonly last = new Map<number, { t: number; size: number }>();
  /** Users inactive for longer than the window, kept for a job end that makes them active again. */
  private readonly dormant = new Map<number, { t: number; size: number }>();
  /** The newest event time seen (events must arrive in time order). */
  latest = Number.NEGATIVE_INFINITY;

  constructor(readonly opts: UserChainsOptions) {}

  observe(e: JobEvent): void {
    if (e.t < this.latest) throw new Error(`user chains: event at ${e.t} after one at ${this.latest}`);
    this.latest = e.t;
    if (e.user < 0) return;
    let u = this.last.get(e.user);
    if (!u) {
      // a user who went quiet comes back: by a submission, or (with onEnd) by a job end
      u = this.dormant.get(e.user);
      if (u && (e.kind === 'submit' || this.opts.onEnd)) {
        this.dormant.delete(e.user);
        this.last.set(e.user, u);
      }
    }
    if (e.kind === 'submit') {
      if (u) {
        u.t = e.t;
        u.size = e.nodes;
      } else this.last.set(e.user, { t: e.t, size: e.nodes });
    } else if (this.opts.onEnd && u) u.t = Math.max(u.t, e.t);
  }

  /** What the chains hold, as plain data (the live controller's state file); `restore` reads it back. */
  save(): UserChainsSaved {
    const rows = (m: Map<number, { t: number; size: number }>) =>
      [...m].map(([user, u]) => [user, u.t, u.size] as [number, number, number]);
    return {
      latest: Number.isFinite(this.latest) ? this.latest : null,
      active: rows(this.last),
      dormant: rows(this.dormant),
    };
  }

  static restore(opts: UserChainsOptions, saved: UserChainsSaved): UserChains {
    const c = new UserChains(opts);
    for (const [user, t, size] of saved.active) c.last.set(user, { t, size });
    for (const [user, t, size] of saved.dormant) c.dormant.set(user, { t, size });
    c.latest = saved.latest ?? Number.NEGATIVE_INFINITY;
    return c;
  }

  /** Idle nodes to keep for the chained arrivals of the users active at `now` (the same for any window). */
  nodes(now: number, _withinS = 0): number {
    const { windowS, maxNodes } = this.opts;
    if (windowS <= 0) return 0;
    let sum = 0;
    for (const [user, u] of this.last) {
      if (now - u.t > windowS) {
        // inactive until the user's next event: set aside (kept, with its size, only if ends may revive it)
        this.last.delete(user);
        if (this.opts.onEnd) this.dormant.set(user, u);
        continue;
      }
      if (u.size <= maxNodes) sum += u.size;
    }
    return sum;
  }
}

/** The chain model's options from the config (`Power.Predictive.User*`); null when switched off. */
export function chainsFromConfig(
  p: Pick<PredictiveConfig, 'UserWindowSeconds' | 'UserMaxNodes' | 'UserEnds'>,
): UserChainsOptions | null {
  return p.UserWindowSeconds > 0
    ? { windowS: p.UserWindowSeconds, maxNodes: p.UserMaxNodes, onEnd: p.UserEnds }
    : null;
}
