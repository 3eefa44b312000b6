import type { Command } from 'commander';
import { Document, isSeq, visit } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { openJobSource } from '../../jobs/open.js';
import { formatReport } from '../../jobs/record.js';
import { calibrate } from '../../sim/calibrate.js';
import { generateWorkload, resolveSimulator } from '../../sim/generate.js';
import { startLiveSimulation } from '../../sim/live.js';
import { formatReplayReport, replayJobs } from '../../sim/replay.js';
import { runSimulation, type SimOutputs } from '../../sim/run.js';
import type { Overrun } from '../../sim/scheduler.js';
import { nodeNamesFrom } from '../../sim/slurmdbOut.js';
import { openTelemetry } from '../../telemetry/index.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { checkOutputFile } from '../output.js';

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
  outSlurmdb?: string;
  cluster?: string;
  nodeNames?: string;
  replace?: boolean;
  partition?: string;
  memPerNode?: number;
  live?: boolean;
  speed?: number;
  preroll?: number;
  origin?: number;
  influx?: string;
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

function positiveArg(flag: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new UserError(`${flag}: expected a number in (0, ${max}], got '${v}'`);
    return n;
  };
}

function nonNegativeArg(flag: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > max)
      throw new UserError(`${flag}: expected a number from 0 to ${max}, got '${v}'`);
    return n;
  };
}

/** `--origin`: ISO date-time (UTC unless it has an offset) or epoch seconds. */
function originArg(v: string): number {
  const t = /^\d+$/.test(v)
    ? Number(v) * 1000
    : // redos-safe: quadratic only in the length of this process's own --origin argument
      Date.parse(/T.*([Zz]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v}Z`);
  if (!Number.isFinite(t))
    throw new UserError(`--origin: expected an ISO date-time or epoch seconds, got '${v}'`);
  return Math.floor(t / 1000);
}

function isoMinute(t: number): string {
  return new Date(t * 1000).toISOString().replace(':00.000Z', 'Z');
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
  let dbBar: ReturnType<typeof startProgress> | undefined;
  const outs: SimOutputs = { swf: o.outSwf, jobs: o.outJobs, timeline: o.outTimeline };
  if (o.outSlurmdb) {
    outs.slurmdb = {
      url: o.outSlurmdb,
      cluster: o.cluster ?? cfg.SlurmDB.Cluster,
      password: cfg.SlurmDB.Password,
      replace: o.replace,
      partition: o.partition,
      memPerNodeMb: o.memPerNode,
      onProgress: (n) => {
        dbBar ??= startProgress('write slurmdb', jobs.length);
        dbBar.update(n);
      },
    };
  } else if (o.replace) throw new UserError('--replace is for --out-slurmdb');
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
  const nodeNames = o.nodeNames ? nodeNamesFrom(o.nodeNames, nodes) : undefined;
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
        nodeNames,
        onProgress: (n) => bar.update(n),
      },
      outs,
    );
  } finally {
    bar.stop();
    dbBar?.stop();
  }
  const st = res.stats;
  summary.nodes = nodes;
  summary.overrun = overrun;
  summary.backfill = o.backfill;
  summary.stats = st;
  summary.written = res.written;
  if (res.slurmdb) summary.slurmdb = res.slurmdb;
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

/** `--live`: run the generated workload in (accelerated) wall-clock time, one telemetry row per minute. */
async function runLive(o: SimulateOptions): Promise<void> {
  const cfg = loadConfig(o.config);
  if (o.influx !== undefined) cfg.InfluxDB.URL = o.influx;
  const tel = openTelemetry(cfg);
  if (tel.kind === 'influx') {
    // fail now, with one line, when the InfluxDB is not there (rather than after the first minute)
    await tel.http.ping();
  }
  const speed = o.speed ?? 1;
  const ac = new AbortController();
  let why = '';
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130); // second signal: stop now
    why = sig;
    process.stderr.write(`pcm simulate: ${sig}, writing the last rows (again to stop at once)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interactive = Boolean(process.stderr.isTTY);
  try {
    const h = startLiveSimulation(
      {
        sim: cfg.Simulator,
        cluster: cfg.Cluster,
        nodes: o.nodes,
        seed: o.seed,
        days: o.days,
        speed,
        origin: o.origin,
        prerollHours: o.preroll,
        overrun: o.overrun,
        backfill: o.backfill,
        clusterName: o.cluster,
        signal: ac.signal,
        onRows: (rows) => {
          if (o.json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
          if (interactive) {
            const r = rows[rows.length - 1];
            const v = r.values;
            process.stderr.write(
              `${isoMinute(r.time)} ${r.cluster}: busy ${v.busy_nodes}/${r.capacity} nodes, ${v.running_jobs} running, ${v.queued_jobs} queued${rows.length > 1 ? ` (${rows.length} rows)` : ''}\n`,
            );
          }
        },
        onError: (m) => process.stderr.write(`pcm simulate: ${m}\n`),
      },
      tel.writer,
    );
    process.stderr.write(
      `pcm simulate: live on ${h.nodes} nodes, speed ${speed}x, simulated clock from ${isoMinute(h.origin)}` +
        `${h.firstRow < h.origin ? ` (pre-roll from ${isoMinute(h.firstRow)})` : ''}, writing to ${tel.describe}\n`,
    );
    const res = await h.done;
    const span =
      res.firstRowTime !== null && res.lastRowTime !== null
        ? `${isoMinute(res.firstRowTime)} .. ${isoMinute(res.lastRowTime)}, last row at ${res.lastRowTime}`
        : 'none';
    process.stderr.write(
      `pcm simulate: ${res.reason === 'exhausted' ? 'workload ended' : `stopped${why ? ` by ${why}` : ''}`}; ` +
        `wrote ${res.rowsWritten} rows (${span})${res.pending ? `, ${res.pending} not written` : ''}\n`,
    );
    if (res.pending > 0 || res.dropped > 0)
      throw new UserError(`stopped with rows not written (${res.pending} pending, ${res.dropped} dropped)`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
    .option(
      '--days <d>',
      'days of submissions to generate (default Simulator.Days; with --live: days to run after the origin, default 365)',
      daysArg,
    )
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
    .option(
      '--out-slurmdb <url>',
      'write the scheduled jobs into a Slurm accounting DB (mysql://user@host:3306/slurm_acct_db), table <cluster>_job_table; ' +
        'password from the URL or PCM_SLURMDB_PASSWORD',
    )
    .option(
      '--cluster <name>',
      'cluster name: the DB table (default SlurmDB.Cluster) or the live series tag (default Cluster.Name)',
    )
    .option('--node-names <hostlist>', 'node names for nodelists, e.g. node[01-16] (default node01..nodeNN)')
    .option('--partition <name>', 'with --out-slurmdb: partition of jobs that have none (default batch)')
    .option(
      '--mem-per-node <mb>',
      'with --out-slurmdb: memory per node in the TRES strings (default: left out)',
      intArg('--mem-per-node', 1),
    )
    .option(
      '--replace',
      'with --out-slurmdb: first delete rows an earlier pcm simulate wrote in the same time range',
    )
    .option(
      '--live',
      'run the generated workload in (accelerated) wall-clock time, writing one telemetry row per minute',
    )
    .option(
      '--speed <x>',
      'with --live: simulated seconds per wall second (default 1)',
      positiveArg('--speed', 1e7),
    )
    .option(
      '--preroll <hours>',
      'with --live: write this many hours of history at once at start (default 0)',
      nonNegativeArg('--preroll', 8784),
    )
    .option(
      '--origin <time>',
      'with --live: the simulated clock starts here (ISO time or epoch s; default now)',
      originArg,
    )
    .option(
      '--influx <url>',
      'with --live: write to this InfluxDB (default InfluxDB.URL; none = the embedded store)',
    )
    .option('--json', 'print the summary as JSON (with --live: every row as a JSON line)')
    .addHelpText(
      'after',
      '\nLive mode stops cleanly on SIGINT/SIGTERM: the current minute is finished and every pending row written.\n' +
        'Without an InfluxDB the rows go to an embedded store (useful in-process, see startLiveSimulation; print them with --json).',
    )
    .action(async (o: SimulateOptions) => {
      for (const [flag, path] of [
        ['--out-swf', o.outSwf],
        ['--out-jobs', o.outJobs],
        ['--out-timeline', o.outTimeline],
        ['--out', o.out],
      ] as const)
        if (path) checkOutputFile(path, flag);
      if (o.calibrate && o.replay) throw new UserError('give either --calibrate or --replay, not both');
      if (o.live && (o.calibrate || o.replay))
        throw new UserError('--live runs a generated workload: not with --calibrate or --replay');
      if (!o.live) {
        for (const [k, v] of [
          ['--speed', o.speed],
          ['--preroll', o.preroll],
          ['--origin', o.origin],
          ['--influx', o.influx],
        ] as const)
          if (v !== undefined) throw new UserError(`${k} is for --live`);
      }
      if (o.live) {
        if (o.outSwf || o.outJobs || o.outTimeline || o.outSlurmdb || o.out)
          throw new UserError('--live writes telemetry rows only: not with --out-* options');
        await runLive(o);
      } else if (o.calibrate) await runCalibrate(o);
      else {
        if (o.out)
          throw new UserError('--out is for --calibrate; use --out-swf, --out-jobs or --out-timeline');
        await runSimulate(o);
      }
    });
}
