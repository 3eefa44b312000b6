/**
 * The traces the power benches replay (bench/power-replay.ts, bench/power-arrivals.ts): `PATH:NODES`
 * specs, by default the three exact-node logs in /work/shared/data/traces, each opened and turned into
 * replay jobs for a cluster of NODES nodes.
 */
import { openJobSource } from '../src/jobs/open.js';
import type { JobSource } from '../src/jobs/source.js';
import type { SimJob } from '../src/sim/job.js';
import { replayJobs } from '../src/sim/replay.js';

const DIR = '/work/shared/data/traces';

export const DEFAULT_TRACES = [
  `${DIR}/KTH-SP2-1996-2.1-cln.swf.gz:100`,
  `${DIR}/SDSC-SP2-1998-4.2-cln.swf.gz:128`,
  `${DIR}/CTC-SP2-1996-3.1-cln.swf.gz:338`,
];

export interface ReplayTrace {
  /** File name without .swf[.gz]. */
  name: string;
  path: string;
  nodes: number;
  src: JobSource;
  jobs: SimJob[];
}

/** Open a `PATH:NODES` spec and build its replay jobs. */
export async function openReplayTrace(spec: string): Promise<ReplayTrace> {
  const k = spec.lastIndexOf(':');
  const [path, nodes] = [spec.slice(0, k), Number(spec.slice(k + 1))];
  const name = path
    .split('/')
    .pop()!
    .replace(/\.swf(\.gz)?$/, '');
  const src = await openJobSource(path, { ppn: 1 });
  const { jobs } = await replayJobs(src.jobs, nodes);
  return { name, path, nodes, src, jobs };
}
