/**
 * The Parallel Workloads Archive logs the benches read, by archive file name, and how a bench is told where
 * they are: a folder (TRACE_DIR) or `PATH:NODES` specs on the command line, never a default path. A missing
 * argument or file prints which archive files to pass and exits with status 2.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openJobSource } from '../../src/jobs/open.js';
import type { JobSource } from '../../src/jobs/source.js';
import type { SimJob } from '../../src/sim/job.js';
import { replayJobs } from '../../src/sim/replay.js';
import { usage } from './args.js';

export const ARCHIVE =
  'the Parallel Workloads Archive (https://www.cs.huji.ac.il/labs/parallel/workload/logs.html)';

/** One archive log: its file name, processors per node and the cluster's nodes. */
export interface ArchiveLog {
  name: string;
  file: string;
  ppn: number;
  capacity: number;
}

/** Every log a bench reads. */
export const ARCHIVE_LOGS: ArchiveLog[] = [
  { name: 'KTH-SP2', file: 'KTH-SP2-1996-2.1-cln.swf.gz', ppn: 1, capacity: 100 },
  { name: 'SDSC-SP2', file: 'SDSC-SP2-1998-4.2-cln.swf.gz', ppn: 1, capacity: 128 },
  { name: 'CTC-SP2', file: 'CTC-SP2-1996-3.1-cln.swf.gz', ppn: 1, capacity: 338 },
  { name: 'LLNL-Atlas', file: 'LLNL-Atlas-2006-2.1-cln.swf.gz', ppn: 8, capacity: 1152 },
  { name: 'LLNL-Thunder', file: 'LLNL-Thunder-2007-1.1-cln.swf.gz', ppn: 4, capacity: 1002 },
  { name: 'CEA-Curie', file: 'CEA-Curie-2011-2.1-cln.swf.gz', ppn: 16, capacity: 5544 },
  { name: 'HPC2N', file: 'HPC2N-2002-2.2-cln.swf.gz', ppn: 2, capacity: 120 },
  { name: 'RICC', file: 'RICC-2010-2.swf.gz', ppn: 8, capacity: 1024 },
];

/** The log called `name`. */
export function archiveLog(name: string): ArchiveLog {
  const log = ARCHIVE_LOGS.find((l) => l.name === name);
  if (!log) throw new Error(`no archive log named ${name}`);
  return log;
}

/** The four logs the accuracy studies read (baselines, signal study). */
export const ACCURACY_LOGS = ['KTH-SP2', 'SDSC-SP2', 'CTC-SP2', 'LLNL-Thunder'].map(archiveLog);

/** The usage note that names the archive files a TRACE_DIR must hold. */
export function traceDirNote(logs: ArchiveLog[]): string {
  return `TRACE_DIR: a folder holding ${logs.map((l) => l.file).join(', ')} from ${ARCHIVE}`;
}

/**
 * `dir` checked to hold the files of `logs`: a missing `dir` prints the usage line with the file names, a
 * missing file names itself; both exit with status 2.
 */
export function checkTraceDir(
  dir: string | undefined,
  logs: ArchiveLog[],
  script: string,
  synopsis: string,
): string {
  if (!dir) usage(script, synopsis, [traceDirNote(logs)]);
  for (const l of logs) {
    if (!existsSync(join(dir, l.file))) {
      process.stderr.write(`${join(dir, l.file)}: not found; get ${l.file} from ${ARCHIVE}\n`);
      process.exit(2);
    }
  }
  return dir;
}

/**
 * `path` checked to be given and to exist; `label` is its name in `synopsis` (e.g. KTH_SWF), `log` the archive
 * file it should be. Exits with status 2 otherwise.
 */
export function checkTraceFile(
  path: string | undefined,
  log: ArchiveLog,
  label: string,
  script: string,
  synopsis: string,
): string {
  if (!path) usage(script, synopsis, [`${label}: ${log.file} from ${ARCHIVE}`]);
  if (!existsSync(path)) {
    process.stderr.write(`${path}: not found (expected ${log.file} from ${ARCHIVE})\n`);
    process.exit(2);
  }
  return path;
}

/** The three logs of the power studies (issue 6), replayed with ppn 1 on as many nodes as the log's cluster. */
export const POWER_LOGS = ['KTH-SP2', 'SDSC-SP2', 'CTC-SP2'].map(archiveLog);

/**
 * The power studies' traces as `PATH:NODES` specs: each argument is such a spec or a TRACE_DIR, which
 * stands for the three POWER_LOGS in it. No argument prints the usage line and exits with status 2.
 */
export function powerTraceSpecs(args: string[], script: string, synopsis: string): string[] {
  const notes = [
    traceDirNote(POWER_LOGS),
    `TRACE:NODES: one log and its cluster's nodes, e.g. ${POWER_LOGS.map((l) => `${l.file}:${l.capacity}`).join(' ')}`,
  ];
  if (!args.length) usage(script, synopsis, notes);
  return args.flatMap((a) =>
    /:\d+$/.test(a)
      ? [a]
      : POWER_LOGS.map((l) => `${join(checkTraceDir(a, [l], script, synopsis), l.file)}:${l.capacity}`),
  );
}

export interface ReplayTrace {
  /** File name without .swf[.gz]. */
  name: string;
  path: string;
  nodes: number;
  src: JobSource;
  jobs: SimJob[];
}

/** Open a `PATH:NODES` spec (ppn 1) and build its replay jobs for a cluster of NODES nodes. */
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
