import type { Command } from 'commander';
import { Document, isSeq, visit } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { openJobSource } from '../../jobs/open.js';
import { formatReport } from '../../jobs/record.js';
import { calibrate } from '../../sim/calibrate.js';
import { generateWorkload, resolveSimulator } from '../../sim/generate.js';
import { formatReplayReport, replayJobs } from '../../sim/replay.js';
import { runSimulation } from '../../sim/run.js';
import type { Overrun } from '../../sim/scheduler.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';

interface SimulateOptions {
  config?: string;
  nodes?: number;
  days?: number;
  start?: string;
  seed?: number;
  outSwf?: string;
  outJobs?: string;
  outTimeline?: string;
  json?: boolean;
  calibrate?: string;
  replay?: string;
  ppn?: number;
  out?: string;
  overrun?: Overrun;
  backfill: boolean;
}

function intArg(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new UserError(`${flag}: expected a whole number >= ${min}, got '${v}'`);
    }
    return n;
  };
}

function daysArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 36_600)
    throw new UserError(`--days: expected a number of days in (0, 36600], got '${v}'`);
  return n;
}

function overrunArg(v: string): Overrun {
  if (v !== 'kill' && v !== 'honour') throw new UserError(`--overrun: expected kill or honour, got '${v}'`);
  return v;
}

function hours(s: number): string {
  return `${(s / 3600).toFixed(2)} h`;
}

/** `--calibrate TRACE --out sim.yaml`: fit the generator to a trace and write a Simulator section. */
async function runCalibrate(o: SimulateOptions): Promise<void> {
  if (!o.out) throw new UserError('--calibrate needs --out FILE (where to write the Simulator section)');
  const cfg = loadConfig(o.config);
  const src = await openJobSource(o.calibrate as string, { ppn: o.ppn ?? cfg.Cluster.CpusPerNode });
  const cal = await calibrate(src.jobs, src.meta, { nodes: o.nodes, timeZone: src.meta.timeZone });
  const doc = new Document({ Simulator: cal.simulator });
  // number lists (hour weights, round limits) on one line each
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node)) node.flow = true;
    },
  });
  doc.commentBefore = ` Simulator section fitted by: pcm simulate --calibrate ${o.calibrate}\n ${cal.summary.jobs} jobs over ${cal.summary.days.toFixed(1)} days, ${cal.summary.bursts} bursts, trace load ${(100 * cal.summary.load).toFixed(1)} %`;
  await writeFileAtomic(o.out, doc.toString({ lineWidth: 0 }));
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ out: o.out, summary: cal.summary, report: src.report, simulator: cal.simulator }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${formatReport(src.report)}\n`);
    const s = cal.summary;
    process.stdout.write(
      `fitted ${s.jobs} jobs (${s.skipped} without a run time skipped) over ${s.days.toFixed(1)} days on ${s.nodes} nodes: ` +
        `${s.bursts} bursts (${s.burstJobs} jobs), trace load ${(100 * s.load).toFixed(1)} %\nwrote ${o.out}\n`,
    );
  }
}

/** Generate (or replay) a workload, schedule it, write the outputs, print a summary. */
async function runSimulate(o: SimulateOptions): Promise<void> {
  const cfg = loadConfig(o.config);
  const outs = { swf: o.outSwf, jobs: o.outJobs, timeline: o.outTimeline };
  const summary: Record<string, unknown> = {};
  const lines: string[] = [];
  let jobs: Awaited<ReturnType<typeof replayJobs>>['jobs'];
  let nodes: number;
  let overrun: Overrun;
  let from: number | undefined;
  let to: number | undefined;
  let timeZone: string;
  if (o.replay) {
    nodes = o.nodes ?? cfg.Simulator.Nodes ?? cfg.Cluster.Nodes;
    const src = await openJobSource(o.replay, { ppn: o.ppn ?? cfg.Cluster.CpusPerNode });
    const r = await replayJobs(src.jobs, nodes);
    jobs = r.jobs;
    overrun = o.overrun ?? 'honour';
    timeZone = src.meta.timeZone ?? cfg.Cluster.TimeZone;
    summary.mode = 'replay';
    summary.trace = o.replay;
    summary.replay = r.report;
    lines.push(formatReport(src.report), `replay on ${nodes} nodes: ${formatReplayReport(r.report, nodes)}`);
  } else {
    const setup = resolveSimulator(cfg.Simulator, cfg.Cluster, {
      nodes: o.nodes,
      days: o.days,
      start: o.start,
      seed: o.seed,
    });
    const w = generateWorkload(setup);
    jobs = w.jobs;
    nodes = setup.nodes;
    overrun = o.overrun ?? cfg.Simulator.Overrun;
    from = w.start;
    to = w.end;
    timeZone = setup.timeZone;
    summary.mode = 'generate';
    summary.seed = setup.seed;
    summary.days = setup.days;
    summary.generated = w.stats;
    const s = w.stats;
    lines.push(
      `generated ${s.jobs} jobs (${s.burstJobs} in ${s.bursts} bursts; short ${s.byClass.Short}, regular ${s.byClass.Regular}, long ${s.byClass.Long}) ` +
        `over ${setup.days} days from ${new Date(w.start * 1000).toISOString()} on ${nodes} nodes, seed ${setup.seed}`,
    );
  }
  const bar = startProgress('simulate', jobs.length);
  let res: Awaited<ReturnType<typeof runSimulation>>;
  try {
    res = await runSimulation(
      jobs,
      {
        nodes,
        cpusPerNode: cfg.Cluster.CpusPerNode,
        overrun,
        backfill: o.backfill,
        from,
        to,
        meta: {
          timeZone,
          header: {
            Computer: `pcm simulate (${o.replay ? `replay of ${o.replay}` : 'synthetic workload'})`,
            Note: `FCFS${o.backfill ? ' with EASY backfilling' : ''}, overrun=${overrun}`,
            ...(from !== undefined ? { UnixStartTime: String(from) } : {}),
          },
        },
        onProgress: (n) => bar.update(n),
      },
      outs,
    );
  } finally {
    bar.stop();
  }
  const st = res.stats;
  summary.nodes = nodes;
  summary.overrun = overrun;
  summary.backfill = o.backfill;
  summary.stats = st;
  summary.written = res.written;
  if (o.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  lines.push(
    `scheduled ${st.ran} jobs (${st.rejected} rejected as too large; ${st.killed} killed at their limit, ${st.overran} ran past it; ` +
      `${st.backfilled} backfilled): mean wait ${hours(st.meanWait)}, utilisation ${(100 * st.utilisation).toFixed(1)} %`,
  );
  const w = Object.values(res.written);
  if (w.length) lines.push(`wrote ${w.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      'simulate a cluster (FCFS + EASY backfilling) on a synthetic workload, a replayed trace (--replay), ' +
        'or fit the workload generator to a trace (--calibrate)',
    )
    .option('--config <file>', 'YAML config (its Simulator and Cluster sections)')
    .option(
      '--nodes <n>',
      'cluster nodes (default Simulator.Nodes, else Cluster.Nodes)',
      intArg('--nodes', 1),
    )
    .option('--days <d>', 'days of submissions to generate (default Simulator.Days)', daysArg)
    .option('--start <date>', 'first day, YYYY-MM-DD, local midnight (default Simulator.Start)')
    .option('--seed <s>', 'random seed (default Simulator.Seed)', intArg('--seed', 0))
    .option(
      '--replay <trace>',
      'replay the submissions of a job trace (SWF, job CSV, sacct) instead of generating',
    )
    .option('--calibrate <trace>', 'fit the generator to a job trace and write a Simulator section to --out')
    .option('--ppn <p>', 'processors per node of the trace (default Cluster.CpusPerNode)', intArg('--ppn', 1))
    .option('--out <file>', 'with --calibrate: the YAML file to write')
    .option(
      '--overrun <mode>',
      'jobs running past their limit: kill | honour (default: kill when generating, honour when replaying)',
      overrunArg,
    )
    .option('--no-backfill', 'plain FCFS without EASY backfilling (for comparison)')
    .option('--out-swf <file>', 'write the scheduled jobs as SWF')
    .option('--out-jobs <file>', 'write the scheduled jobs as the job CSV')
    .option('--out-timeline <file>', 'write the minute timeline CSV')
    .option('--json', 'print the summary as JSON')
    .action(async (o: SimulateOptions) => {
      if (o.calibrate && o.replay) throw new UserError('give either --calibrate or --replay, not both');
      if (o.calibrate) await runCalibrate(o);
      else {
        if (o.out)
          throw new UserError('--out is for --calibrate; use --out-swf, --out-jobs or --out-timeline');
        await runSimulate(o);
      }
    });
}
