/**
 * What a live trial measures on Slurm: node power states sampled from `sinfo` (integrated into node-seconds
 * per draw class of the replay's power model, ../../src/power/watts.ts) and each job's boot wait (its script's
 * own start time minus the instant slurmctld allocated its nodes).
 */
import type { StateSeconds } from '../../src/power/watts.js';

export type DrawClass = keyof StateSeconds;

/**
 * The draw class of a node from its `sinfo %T` state: `~` powered down -> off; `#` powering up -> boot;
 * `%` powering down -> idle (the replay's shutdown draws idle power); allocated, mixed, completing -> busy;
 * anything else (idle, idle!) -> idle.
 */
export function drawClass(state: string): DrawClass {
  if (state.endsWith('~')) return 'off';
  if (state.endsWith('#')) return 'boot';
  if (state.endsWith('%')) return 'idle';
  const base = state.replace(/[^a-z]+$/, '');
  if (base === 'allocated' || base === 'mixed' || base === 'completing') return 'busy';
  return 'idle';
}

/** Node-seconds per draw class from samples of every node's state, held until the next sample. */
export class StateIntegrator {
  readonly seconds: StateSeconds = { off: 0, boot: 0, idle: 0, busy: 0 };
  private last = Number.NaN;
  private counts: StateSeconds = { off: 0, boot: 0, idle: 0, busy: 0 };
  /** Transitions per node into `off` and into `boot` (power-downs and boots seen). */
  powerDowns = 0;
  boots = 0;
  private prev = new Map<string, DrawClass>();

  /** A sample at real time t (s) of every node's sinfo state; time before `from` and after `to` is not counted. */
  sample(t: number, states: Map<string, string>, from: number, to: number): void {
    if (!Number.isNaN(this.last)) {
      const dt = Math.min(t, to) - Math.max(this.last, from);
      if (dt > 0)
        for (const k of Object.keys(this.counts) as DrawClass[]) this.seconds[k] += this.counts[k] * dt;
    }
    this.last = t;
    const c: StateSeconds = { off: 0, boot: 0, idle: 0, busy: 0 };
    for (const [node, st] of states) {
      const cls = drawClass(st);
      c[cls]++;
      const before = this.prev.get(node);
      if (t >= from && t < to && before !== undefined && before !== cls) {
        if (cls === 'off') this.powerDowns++;
        if (cls === 'boot') this.boots++;
      }
      this.prev.set(node, cls);
    }
    this.counts = c;
  }
}

/** Allocation instants (epoch s, ms resolution) per job id from slurmctld log lines. */
export function allocationTimes(log: string): Map<string, number> {
  const out = new Map<string, number>();
  const re =
    /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\] (?:sched: Allocate|sched\/backfill: _start_job: Started) JobId=(\d+)/gm;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    if (!out.has(m[2])) out.set(m[2], Date.parse(m[1]) / 1000);
  }
  return out;
}

export interface JobWait {
  id: string;
  /** Real seconds from allocation to the script's first line. */
  waitS: number;
}

/** Mean of the waits and how many exceed `delayedS` (real s). */
export function waitSummary(waits: readonly JobWait[], delayedS: number): { mean: number; delayed: number } {
  let s = 0;
  let d = 0;
  for (const w of waits) {
    s += w.waitS;
    if (w.waitS > delayedS) d++;
  }
  return { mean: waits.length ? s / waits.length : 0, delayed: d };
}
