import { writeJobsCsv } from '../jobs/jobs-csv.js';
import type { JobRecord } from '../jobs/record.js';
import type { SourceMeta } from '../jobs/source.js';
import { writeSwf } from '../jobs/swf.js';
import { buildTimeline } from '../timeline/build.js';
import { writeTimelineCsv } from '../timeline/csv.js';
import type { SimJob } from './job.js';
import type { SimStats } from './outcome.js';
import { type ClusterSim, type Overrun, simulateCluster } from './scheduler.js';
import {
  defaultNodeNames,
  type SlurmDbWriteOptions,
  type SlurmDbWriteResult,
  writeSlurmDb,
} from './slurmdb-out.js';

/** Where to write a simulation's results; every file is written atomically. */
export interface SimOutputs {
  swf?: string;
  jobs?: string;
  timeline?: string;
  /** Rows in a Slurm accounting DB's `<cluster>_job_table` (node names and cpus come from RunOptions). */
  slurmdb?: Omit<SlurmDbWriteOptions, 'nodeNames' | 'cpusPerNode'>;
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
  /** One name per node (job CSV and DB nodelists); default node01..nodeNN. */
  nodeNames?: readonly string[];
  onProgress?: (doneJobs: number) => void;
}

export interface RunResult {
  sim: ClusterSim;
  stats: SimStats;
  written: Record<string, string>;
  slurmdb?: SlurmDbWriteResult;
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
  const names = o.nodeNames ?? defaultNodeNames(o.nodes);
  const records = (): Iterable<JobRecord> => sim.records(names);
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
  let slurmdb: SlurmDbWriteResult | undefined;
  if (out.slurmdb) {
    const rows: Array<{ record: JobRecord; nodes: readonly number[] }> = [];
    let i = 0;
    for (const record of records()) {
      while (Number.isNaN(sim.start[i])) i++; // records() skips jobs that never ran
      rows.push({ record, nodes: Array.from(sim.nodesOf(i)) });
      i++;
    }
    slurmdb = await writeSlurmDb(rows, { ...out.slurmdb, nodeNames: names, cpusPerNode: o.cpusPerNode });
    written.slurmdb = `${slurmdb.table} (${slurmdb.written} rows)`;
  }
  return { sim, stats: sim.stats(), written, slurmdb };
}
