import { writeJobsCsv } from '../jobs/jobsCsv.js';
import type { JobRecord } from '../jobs/record.js';
import type { SourceMeta } from '../jobs/source.js';
import { writeSwf } from '../jobs/swf.js';
import { buildTimeline } from '../timeline/build.js';
import { writeTimelineCsv } from '../timeline/csv.js';
import type { SimJob } from './job.js';
import { type ClusterSim, type Overrun, type SimStats, simulateCluster } from './scheduler.js';

/** Where to write a simulation's results; every file is written atomically. */
export interface SimOutputs {
  swf?: string;
  jobs?: string;
  timeline?: string;
}

export interface RunOptions {
  nodes: number;
  cpusPerNode: number;
  overrun: Overrun;
  backfill?: boolean;
  /** Timeline rows [from, to) (epoch s); default: the span of the jobs. */
  from?: number;
  to?: number;
  /** SWF header facts (time zone, provenance notes). */
  meta?: SourceMeta;
  onProgress?: (doneJobs: number) => void;
}

export interface RunResult {
  sim: ClusterSim;
  stats: SimStats;
  written: Record<string, string>;
}

/** Schedule the jobs, then write the requested outputs from the stream of finished JobRecords. */
export async function runSimulation(jobs: SimJob[], o: RunOptions, out: SimOutputs): Promise<RunResult> {
  const sim = simulateCluster(jobs, {
    nodes: o.nodes,
    overrun: o.overrun,
    backfill: o.backfill,
    onProgress: o.onProgress,
  });
  const written: Record<string, string> = {};
  const records = (): Iterable<JobRecord> => sim.records();
  if (out.swf) {
    const meta: SourceMeta = {
      ...o.meta,
      maxNodes: o.nodes,
      maxProcs: o.nodes * o.cpusPerNode,
      ppn: o.cpusPerNode,
    };
    writeSwf(out.swf, Array.from(records()), meta);
    written.swf = out.swf;
  }
  if (out.jobs) {
    await writeJobsCsv(out.jobs, records());
    written.jobs = out.jobs;
  }
  if (out.timeline) {
    const tl = buildTimeline(records(), {
      capacity: o.nodes,
      cpusPerNode: o.cpusPerNode,
      start: o.from,
      end: o.to,
    });
    writeTimelineCsv(out.timeline, tl);
    written.timeline = out.timeline;
  }
  return { sim, stats: sim.stats(), written };
}
