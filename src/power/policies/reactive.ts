import type { ReactiveConfig } from '../config.js';
import type { ClusterView, PowerActions, PowerPolicy } from '../policy.js';

/**
 * Slurm power_save, as measured on Slurm 22.05 (the test cluster of scripts/services/slurm.sh; docs/power.md):
 * a node idle for SuspendTime is powered down (longest idle first, at most SuspendRate per minute, which the
 * executor enforces); the first SuspendExcNodes idle nodes are never powered down, but nothing refills that
 * pool; nodes are booted only when a job is allocated to them (the executor does that, at ResumeRate).
 * Decisions come every power_save_interval (IntervalSeconds).
 */
export class Reactive implements PowerPolicy {
  readonly name = 'reactive';
  readonly intervalS: number;
  readonly knob: { name: string; value: number };

  constructor(readonly cfg: Pick<ReactiveConfig, 'SuspendTime' | 'SuspendExcNodes' | 'IntervalSeconds'>) {
    this.intervalS = cfg.IntervalSeconds;
    this.knob = { name: 'SuspendTime', value: cfg.SuspendTime };
  }

  decide(view: ClusterView, act: PowerActions): void {
    if (view.idle <= this.cfg.SuspendExcNodes) return;
    const { ids, since, n } = view.idleNodes();
    // candidates: idle at least SuspendTime, longest idle first
    const cand: number[] = [];
    for (let i = 0; i < n; i++) if (view.now - since[i] >= this.cfg.SuspendTime) cand.push(i);
    if (cand.length === 0) return;
    cand.sort((a, b) => since[a] - since[b] || ids[a] - ids[b]);
    // the warm pool: keep SuspendExcNodes idle nodes powered (taken from the most recently idle)
    const keep = Math.max(0, this.cfg.SuspendExcNodes - (n - cand.length));
    for (let k = 0; k < cand.length - keep; k++) act.powerDown(ids[cand[k]]);
  }
}
