import type { JobRecord } from '../jobs/record.js';
import { type SimJob, sortBySubmit } from './job.js';

/**
 * A real trace's submissions as simulator input: each JobRecord keeps its submit time, node count,
 * limit and its recorded run time (end - start); where and when it ran is left to the simulated
 * scheduler. Jobs that cannot be replayed are counted, never dropped silently.
 */
export interface ReplayReport {
  /** Jobs read. */
  read: number;
  /** Jobs kept for the simulation. */
  kept: number;
  /** Larger than the simulated cluster: rejected. */
  tooLarge: number;
  /** No start/end (run time unknown) or end < start: skipped. */
  unknownRuntime: number;
  /** No submit time (nor a start to stand in for it): skipped. */
  noSubmit: number;
  /** No node count (0): skipped. */
  noNodes: number;
  /** No time limit recorded: planned with the recorded run time as if the user had guessed it exactly. */
  limitFromRuntime: number;
  /** Recorded run time longer than the limit. */
  overLimit: number;
}

export function newReplayReport(): ReplayReport {
  return {
    read: 0,
    kept: 0,
    tooLarge: 0,
    unknownRuntime: 0,
    noSubmit: 0,
    noNodes: 0,
    limitFromRuntime: 0,
    overLimit: 0,
  };
}

/** Convert one record; null (and a count in `rep`) when it cannot be replayed on `nodes` nodes. */
export function replayJob(j: JobRecord, nodes: number, rep: ReplayReport): SimJob | null {
  rep.read++;
  const submit = j.submit ?? j.start;
  if (submit === null) {
    rep.noSubmit++;
    return null;
  }
  if (j.start === null || j.end === null || j.end < j.start) {
    rep.unknownRuntime++;
    return null;
  }
  if (j.nodes < 1) {
    rep.noNodes++;
    return null;
  }
  if (j.nodes > nodes) {
    rep.tooLarge++;
    return null;
  }
  const runtime = j.end - j.start;
  let limit = j.timeLimit;
  if (limit === null || limit <= 0) {
    rep.limitFromRuntime++;
    limit = Math.max(1, runtime);
  } else if (runtime > limit) rep.overLimit++;
  rep.kept++;
  return {
    id: j.id,
    submit,
    nodes: j.nodes,
    cpus: j.cpus,
    runtime,
    limit,
    user: j.user,
    partition: j.partition,
  };
}

/** Read a whole job stream into replayable jobs sorted by submit. */
export async function replayJobs(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  nodes: number,
): Promise<{ jobs: SimJob[]; report: ReplayReport }> {
  const report = newReplayReport();
  const out: SimJob[] = [];
  for await (const j of jobs) {
    const s = replayJob(j, nodes, report);
    if (s) out.push(s);
  }
  return { jobs: sortBySubmit(out), report };
}

export function formatReplayReport(r: ReplayReport, nodes: number): string {
  const parts = [`${r.kept} of ${r.read} jobs replayed`];
  if (r.tooLarge) parts.push(`${r.tooLarge} rejected (more than ${nodes} nodes)`);
  if (r.unknownRuntime) parts.push(`${r.unknownRuntime} skipped (unknown run time)`);
  if (r.noSubmit) parts.push(`${r.noSubmit} skipped (no submit time)`);
  if (r.noNodes) parts.push(`${r.noNodes} skipped (no node count)`);
  if (r.limitFromRuntime) parts.push(`${r.limitFromRuntime} without a limit (planned with their run time)`);
  if (r.overLimit) parts.push(`${r.overLimit} ran past their limit`);
  return parts.join(', ');
}
