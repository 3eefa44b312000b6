import type { JobRecord } from '../../src/jobs/record.js';
import type { SlurmSnapshot } from '../../src/telemetry/collector.js';
import { parseSinfo, parseSqueue } from '../../src/telemetry/slurm.js';

/** A squeue/sinfo snapshot of `jobs` at `now` on a 16-node, 64-CPU cluster without node states. */
export function snapshotOf(now: number, jobs: JobRecord[]): SlurmSnapshot {
  return {
    now,
    jobs,
    report: parseSqueue('', now).report,
    nodes: 16,
    cpus: 64,
    nodeStates: parseSinfo('').nodeStates,
  };
}
