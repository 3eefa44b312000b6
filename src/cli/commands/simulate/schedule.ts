import { loadConfig } from '../../../config/load.js';
import { openJobSource } from '../../../jobs/open.js';
import { formatReport } from '../../../jobs/record.js';
import { generateWorkload, resolveSimulator } from '../../../sim/generate.js';
import { formatReplayReport, replayJobs } from '../../../sim/replay.js';
import { runSimulation, type SimOutputs } from '../../../sim/run.js';
import type { Overrun } from '../../../sim/scheduler.js';
import { nodeNamesFrom } from '../../../sim/slurmdb-out.js';
import { UserError } from '../../../util/errors.js';
import { startProgress } from '../../../util/progress.js';
import type { SimulateOptions } from './options.js';

function hours(s: number): string {
  return `${(s / 3600).toFixed(2)} h`;
}

/** Generate (or replay) a workload, schedule it, write the outputs, print a summary. */
export async function runSimulate(o: SimulateOptions): Promise<void> {
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
