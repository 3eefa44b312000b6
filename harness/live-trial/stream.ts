/**
 * The job stream of a live power trial: a slice of a real trace, its node counts rescaled to the test
 * cluster. The slice is the `hours`-long window (starting on a whole trace hour) with the most jobs among those
 * whose rescaled demand (node-seconds submitted in it, clipped to it, over its capacity) is within 0.2 of
 * `targetUtil`: many arrivals, busy enough for jobs to queue now and then, idle enough for power saving to
 * matter (the closest demand when none is). Jobs running before the slice are left out (the cluster starts
 * empty).
 */
import type { SimJob } from '../../src/sim/job.js';

export interface StreamOptions {
  /** Nodes of the trace's cluster (KTH-SP2: 100). */
  fromNodes: number;
  /** Nodes of the test cluster (16). */
  toNodes: number;
  /** Slice length, trace hours. */
  hours: number;
  /** Wanted mean utilisation of the rescaled slice (0..1). */
  targetUtil: number;
  /** Start of the slice, trace epoch s; chosen by targetUtil when absent. */
  start?: number;
  /** Days of the trace before the slice kept as `history` (a predictive arm's forecaster learns from it); default 28. */
  historyDays?: number;
}

export interface TrialStream {
  jobs: SimJob[];
  start: number;
  end: number;
  /** Rescaled node-seconds asked for in the slice over its capacity. */
  util: number;
  /** Jobs submitted in the days before the slice, rescaled the same way (never submitted to Slurm). */
  history?: SimJob[];
}

/** The trial user a trace user submits as: one per distinct user of the slice, in order of first job. */
export const TRIAL_USER_PREFIX = 'pcmt';
/** At most this many trial users; beyond, trace users share them (round robin). */
export const TRIAL_USERS = 64;

function trialUsers(jobs: readonly SimJob[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const j of jobs) {
    if (j.user === null || m.has(j.user)) continue;
    m.set(j.user, `${TRIAL_USER_PREFIX}${String((m.size % TRIAL_USERS) + 1).padStart(2, '0')}`);
  }
  return m;
}

/** A job's nodes on the test cluster: proportional, at least 1, at most the cluster. */
export function rescaleNodes(n: number, from: number, to: number): number {
  return Math.min(to, Math.max(1, Math.round((n * to) / from)));
}

function demand(jobs: readonly SimJob[], o: StreamOptions, s: number, e: number): number {
  let d = 0;
  for (const j of jobs) {
    if (j.submit < s || j.submit >= e) continue;
    d += rescaleNodes(j.nodes, o.fromNodes, o.toNodes) * Math.min(j.runtime, e - j.submit);
  }
  return d / (o.toNodes * (e - s));
}

/** The slice of `jobs` (sorted by submit) for the trial. */
export function trialStream(jobs: readonly SimJob[], o: StreamOptions): TrialStream {
  if (jobs.length === 0) throw new Error('trialStream: the trace has no replayable jobs');
  const len = o.hours * 3600;
  let start = o.start;
  if (start === undefined) {
    const first = Math.floor(jobs[0].submit / 3600) * 3600;
    const last = jobs[jobs.length - 1].submit - len;
    let best = Number.NEGATIVE_INFINITY;
    start = first;
    let lo = 0;
    for (let s = first; s <= last; s += 3600) {
      while (lo < jobs.length && jobs[lo].submit < s) lo++;
      let hi = lo;
      while (hi < jobs.length && jobs[hi].submit < s + len) hi++;
      const gap = Math.abs(demand(jobs.slice(lo, hi), o, s, s + len) - o.targetUtil);
      // within the band: the most jobs; outside it: ranked below any inside, by closeness
      const score = gap <= 0.2 ? hi - lo : -gap;
      if (score > best) {
        best = score;
        start = s;
      }
    }
  }
  const end = start + len;
  const from = start - (o.historyDays ?? 28) * 86400;
  const rescaled = (a: number, b: number) =>
    jobs
      .filter((j) => j.submit >= a && j.submit < b)
      .map((j) => {
        const nodes = rescaleNodes(j.nodes, o.fromNodes, o.toNodes);
        return { ...j, nodes, cpus: nodes };
      });
  const out = rescaled(start, end);
  // each user of the slice submits as one trial user (the predictive policy's chains follow users)
  const users = trialUsers(out);
  for (const j of out) j.user = j.user === null ? null : (users.get(j.user) ?? null);
  return { jobs: out, start, end, util: demand(jobs, o, start, end), history: rescaled(from, start) };
}
