import type { Command } from 'commander';
import { checkTimeZone, parseDateArg } from '../../jobs/datetime.js';
import { openJobSource } from '../../jobs/open.js';
import type { JobSource } from '../../jobs/source.js';
import { TimelineBuilder } from '../../timeline/build.js';
import type { Timeline } from '../../timeline/columns.js';
import { writeTimelineCsv, writeTimelineCsvPerYear } from '../../timeline/csv.js';
import { formatSummary, summarizeTimeline, type TimelineSummary } from '../../timeline/summary.js';
import { writeEndingTable } from '../../timeline/survival.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { configOption } from '../options.js';
import { checkOutputDir, checkOutputFile } from '../output.js';

export interface TimelineCommandOptions {
  jobs: string;
  nodes?: number;
  ppn?: number;
  cpusPerNode?: number;
  since?: string;
  until?: string;
  tz: string;
  cluster?: string;
  out?: string;
  perYear?: boolean;
  summary?: boolean;
  json?: boolean;
  /** Also write the ending table of all finished jobs (for `pcm collect --ending-table`). */
  endingTable?: string;
}

export interface TimelineCommandResult {
  /** Files written (none with --summary). */
  written: string[];
  summary: TimelineSummary;
  timeline: Timeline;
}

/** Exactly one output: --out FILE, --per-year --out DIR, or --summary. */
function checkOutput(o: TimelineCommandOptions): void {
  if (o.summary && (o.out || o.perYear))
    throw new UserError('--summary prints only; do not combine it with --out/--per-year');
  if (o.perYear && !o.out)
    throw new UserError('--per-year needs --out DIR (the directory for the per-year CSV files)');
  if (!o.summary && !o.out)
    throw new UserError('say where the timeline goes: --out FILE, --per-year --out DIR, or --summary');
}

/** Open the jobs, build the timeline (progress on stderr), write it. The CLI action minus printing. */
export async function runTimeline(o: TimelineCommandOptions): Promise<TimelineCommandResult> {
  checkOutput(o);
  if (o.out) (o.perYear ? checkOutputDir : checkOutputFile)(o.out, '--out');
  if (o.endingTable) checkOutputFile(o.endingTable, '--ending-table');
  checkTimeZone(o.tz);
  const since = o.since === undefined ? undefined : parseDateArg(o.since, '--since', o.tz);
  const until = o.until === undefined ? undefined : parseDateArg(o.until, '--until', o.tz);
  const src: JobSource = await openJobSource(o.jobs, {
    ppn: o.ppn,
    since,
    until,
    cluster: o.cluster,
    timeZone: o.tz,
  });
  const capacity = o.nodes ?? src.meta.maxNodes;
  if (!(capacity !== undefined && capacity > 0)) {
    throw new UserError(`--nodes: required, ${o.jobs} does not say how many nodes the cluster has`);
  }
  const cpusPerNode = o.cpusPerNode ?? o.ppn ?? src.meta.ppn ?? 1;
  const b = new TimelineBuilder({ capacity, cpusPerNode, start: since, end: until });

  const progressOf = (src as { progress?: () => { done: number; total: number } }).progress;
  const bar = startProgress('timeline', progressOf ? progressOf().total : 0, 'jobs {jobs}');
  try {
    for await (const j of src.jobs) {
      b.add(j);
      if ((b.count & 4095) === 0) bar.update(progressOf ? progressOf().done : b.count, { jobs: b.count });
    }
    bar.update(progressOf ? progressOf().total : b.count, { jobs: b.count });
  } finally {
    bar.stop();
  }
  if (b.count === 0) {
    const r = src.report;
    const why =
      r.skipped > 0
        ? `; ${r.skipped} line(s) skipped, first: line ${r.firstSkipped[0]?.line}: ${r.firstSkipped[0]?.reason}`
        : '';
    throw new UserError(`${o.jobs}: no jobs to build a timeline from${why}`);
  }
  const tl = b.finish();
  if (tl.minutes === 0) throw new UserError(`${o.jobs}: the jobs have no times inside the requested span`);

  const written: string[] = [];
  if (o.out) {
    const wbar = startProgress('write rows', tl.minutes);
    try {
      const onProgress = (rows: number) => wbar.update(rows);
      if (o.perYear) written.push(...writeTimelineCsvPerYear(o.out, tl, { onProgress }));
      else {
        writeTimelineCsv(o.out, tl, { onProgress });
        written.push(o.out);
      }
    } finally {
      wbar.stop();
    }
  }
  if (o.endingTable) {
    writeEndingTable(o.endingTable, b.endingTable());
    written.push(o.endingTable);
  }
  return { written, summary: summarizeTimeline(tl, { stats: b.stats, report: src.report }), timeline: tl };
}

export function register(program: Command): void {
  program
    .command('timeline')
    .description('turn jobs into the minute timeline (busy nodes, queue, limits, flows) and write it as CSV')
    .requiredOption(
      '--jobs <file|url>',
      'jobs: SWF (.swf/.swf.gz), sacct --parsable2 export, job CSV, or mysql:// Slurm DB URL',
    )
    .addOption(
      configOption('--nodes <n>', 'nodes in the cluster', 'Cluster.Nodes', {
        defaultText: "default: the source's MaxNodes, e.g. an SWF header",
      }),
    )
    .addOption(
      configOption('--ppn <n>', 'SWF: processors per node, for processors -> nodes', 'Cluster.CpusPerNode', {
        defaultText: "default: the source's, else 1",
      }),
    )
    .addOption(
      configOption('--cpus-per-node <n>', 'CPUs per node for cpu_util', 'Cluster.CpusPerNode', {
        defaultText: "default: --ppn, else the source's, else 1",
      }),
    )
    .option(
      '--since <date>',
      'first minute: YYYY-MM-DD, ISO date-time or epoch seconds (default: first event)',
    )
    .option('--until <date>', 'stop before this instant (exclusive; default: last event)')
    .option('--tz <zone>', 'IANA zone of dates without an offset (and of sacct times)', 'UTC')
    .option('--cluster <name>', 'Slurm ClusterName (with a mysql:// URL)')
    .option('--out <path>', 'timeline CSV to write (a directory with --per-year); replaced atomically')
    .option(
      '--per-year',
      'write one CSV per UTC year into the --out directory, as one set: job_timeline_YYYY.<hash>.csv, then job_timeline.manifest.json naming them',
    )
    .option('--summary', 'print a summary instead of writing the timeline')
    .option('--json', 'print the summary as JSON on stdout')
    .option(
      '--ending-table <file>',
      'also write the table of how likely running jobs end within 30 min (JSON) for pcm collect --ending-table',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pcm timeline --jobs KTH-SP2-1996-2.1-cln.swf.gz --summary\n' +
        '  pcm timeline --jobs jobs.csv --nodes 120 --out timeline.csv\n' +
        '  pcm timeline --jobs mysql://pcm_reader@db:3306/slurm_acct_db --cluster hpc --nodes 500 --per-year --out wm2/\n',
    )
    .action(async (opts: TimelineCommandOptions) => {
      const r = await runTimeline(opts);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ written: r.written, ...r.summary }, null, 2)}\n`);
      else if (opts.summary) process.stdout.write(formatSummary(r.summary));
      else process.stderr.write(`wrote ${r.written.join(', ')} (${r.timeline.minutes} minutes)\n`);
    });
}
