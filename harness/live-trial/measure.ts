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

/** Allocation instant (epoch s, ms resolution) and node list per job id, from slurmctld log lines. */
export function allocations(log: string): Map<string, { t: number; nodes: string }> {
  const out = new Map<string, { t: number; nodes: string }>();
  const re =
    /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\] (?:sched: Allocate JobId=(\d+) NodeList=(\S+)|sched\/backfill: _start_job: Started JobId=(\d+) in \S+ on (\S+))/gm;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    const id = m[2] ?? m[4];
    if (!out.has(id)) out.set(id, { t: Date.parse(m[1]) / 1000, nodes: m[3] ?? m[5] });
  }
  return out;
}

/** Allocation instants per job id (see allocations). */
export function allocationTimes(log: string): Map<string, number> {
  return new Map([...allocations(log)].map(([id, a]) => [id, a.t]));
}

/** The instants each node came back ("Node nodeXX now responding", after a boot), ascending. */
export function respondingTimes(log: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const re = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\] Node (\S+) now responding/gm;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    const l = out.get(m[2]) ?? [];
    l.push(Date.parse(m[1]) / 1000);
    out.set(m[2], l);
  }
  return out;
}

/**
 * When the last of a job's nodes was up: the latest first "now responding" of its nodes within (alloc, start],
 * or the allocation itself when none of them booted.
 */
export function readyAt(
  nodes: readonly string[],
  alloc: number,
  start: number,
  up: Map<string, number[]>,
): number {
  let ready = alloc;
  for (const n of nodes) {
    const t = up.get(n)?.find((x) => x > alloc && x <= start);
    if (t !== undefined && t > ready) ready = t;
  }
  return ready;
}

export interface JobWait {
  id: string;
  /** Boot wait in trace seconds: the boot (allocation to nodes up) scaled, the rest (launch) at real length. */
  waitS: number;
  /** Trace seconds from allocation to the script's first line, all of it scaled. */
  rawS: number;
}

/** Mean of the waits and how many exceed `delayedS`. */
export function waitSummary(waits: readonly number[], delayedS: number): { mean: number; delayed: number } {
  let s = 0;
  let d = 0;
  for (const w of waits) {
    s += w;
    if (w > delayedS) d++;
  }
  return { mean: waits.length ? s / waits.length : 0, delayed: d };
}
