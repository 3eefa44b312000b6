import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { slurmDbOpenOptions } from '../../config/slurmdb.js';
import { compress, expand } from '../../jobs/hostlist.js';
import { openJobSource } from '../../jobs/open.js';
import { formatReport, type JobRecord } from '../../jobs/record.js';
import { baselineName } from '../../model/baselines/index.js';
import type { Constraint } from '../../power/frontier.js';
import { defaultGrid, type PlanGrid, type PlanResult, powerPlan } from '../../power/plan.js';
import { planChart } from '../../power/plots.js';
import { chainsFromConfig } from '../../power/policies/user-chains.js';
import { type PlannedSetting, slurmConfSnippet } from '../../power/slurm-conf.js';
import { powerModelFromConfig } from '../../power/watts.js';
import { formatReplayReport, replayJobs } from '../../sim/replay.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { intOption, numberListOption, numberOption } from '../options.js';
import { forecasterOption, nodesOption, ppnOption, trainFractionOption } from './power-options.js';

/**
 * `pcm power plan`: read a site's job history, replay the grid of static slurm.conf settings (and the
 * predictive policy), print the frontier, the recommended setting and its slurm.conf lines
 * (src/power/plan.ts). With several partitions whose nodes the history names (Slurm DB, sacct), each
 * partition is planned on its own nodes; otherwise the cluster is planned as one.
 */

interface PlanOpts {
  jobs: string;
  nodes?: number;
  ppn?: number;
  partition?: string;
  nodeNames?: string;
  maxBootWait?: number;
  minSaving?: number;
  suspendTimes?: number[];
  excNodes?: number[];
  margins?: number[];
  minIdle?: number[];
  predictive: boolean;
  forecaster: string;
  model?: string;
  config?: string;
  cluster?: string;
  trainFraction: number;
  workers?: number;
  out?: string;
  json?: boolean;
}

/** One group of jobs planned on its own nodes. */
interface Group {
  partition: string | null;
  records: JobRecord[];
  /** Node names the history (or --node-names) gives; null when unknown. */
  names: string[] | null;
}

/** The nodes a set of records ran on (null when any record lacks a node list). */
function namesOf(records: readonly JobRecord[]): string[] | null {
  const seen = new Set<string>();
  for (const r of records) {
    if (r.start === null) continue;
    if (!r.nodeList) return null;
    for (const n of expand(r.nodeList)) seen.add(n);
  }
  return seen.size ? [...seen] : null;
}

/** Per-partition groups when the history has several partitions on disjoint, named node sets; else one. */
function groupsOf(records: JobRecord[], o: PlanOpts, notes: string[]): Group[] {
  const given = o.nodeNames ? expand(o.nodeNames) : null;
  if (o.partition !== undefined) {
    const mine = records.filter((r) => r.partition === o.partition);
    if (mine.length === 0) {
      const seen = [...new Set(records.map((r) => r.partition ?? '(none)'))].slice(0, 10).join(', ');
      throw new UserError(
        `--partition ${o.partition}: no job of the history ran in it (partitions: ${seen})`,
      );
    }
    return [{ partition: o.partition, records: mine, names: given ?? namesOf(mine) }];
  }
  const byPart = new Map<string, JobRecord[]>();
  for (const r of records) {
    const p = r.partition ?? '';
    const list = byPart.get(p);
    if (list) list.push(r);
    else byPart.set(p, [r]);
  }
  const whole: Group[] = [{ partition: null, records, names: given ?? namesOf(records) }];
  if (byPart.size < 2 || byPart.has('')) return whole;
  const parts = [...byPart].map(([p, rs]) => ({ partition: p, records: rs, names: namesOf(rs) }));
  const list = parts.map((g) => `${g.partition} (${g.records.length} jobs)`).join(', ');
  if (o.nodes !== undefined || given) {
    notes.push(`the history has partitions ${list}; planned as one cluster (--nodes/--node-names given)`);
    return whole;
  }
  if (parts.some((g) => g.names === null)) {
    notes.push(
      `the history has partitions ${list} but does not name their nodes: planned as one cluster; plan one with --partition P --nodes N`,
    );
    return whole;
  }
  const owner = new Map<string, string>();
  for (const g of parts)
    for (const n of g.names!) {
      const other = owner.get(n);
      if (other !== undefined && other !== g.partition) {
        notes.push(
          `partitions ${other} and ${g.partition} share node ${n}: planned as one cluster; plan one with --partition P`,
        );
        return whole;
      }
      owner.set(n, g.partition!);
    }
  return parts;
}

const pct = (v: number) => `${v.toFixed(2)} %`;
const sec = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} s` : 'n/a');

function describeConstraint(c: Constraint): string {
  return 'maxBootWaitS' in c ? `mean boot wait <= ${c.maxBootWaitS} s` : `saving >= ${c.minSavingPct} %`;
}

function planText(res: PlanResult, group: Group, seconds: number): string {
  const lines: string[] = [];
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
  lines.push(
    `${group.partition === null ? 'cluster' : `partition ${group.partition}`}: ${res.nodes} nodes, evaluation window ${iso(res.window.start)} .. ${iso(res.window.end)} UTC (${res.window.jobs} jobs)`,
  );
  const sts = [...new Set(res.grid.map((p) => p.suspend_time_s))];
  const exc = [...new Set(res.grid.map((p) => p.exc_nodes))];
  const onFrontier = new Set(res.frontier);
  const cell = (st: number, n: number) => {
    const p = res.grid.find((q) => q.suspend_time_s === st && q.exc_nodes === n)!;
    return `${p.saved_pct.toFixed(2)}/${p.mean_boot_wait_s.toFixed(0)}${onFrontier.has(p) ? '*' : ' '}`;
  };
  const head = ['SuspendTime \\ ExcNodes', ...exc.map(String)];
  const rows = [head, ...sts.map((st) => [`${st} s`, ...exc.map((n) => cell(st, n))])];
  const w = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  lines.push('static settings: saved % / mean boot wait s (* = on the frontier)');
  for (const r of rows) lines.push(`  ${r.map((x, c) => x.padStart(w[c])).join('  ')}`);
  lines.push(
    `frontier: ${res.frontier.map((p) => `${p.suspend_time_s} s x ${p.exc_nodes} -> ${pct(p.saved_pct)} / ${sec(p.mean_boot_wait_s)}`).join(', ')}`,
  );
  lines.push(
    `oracle (perfect foresight): ${pct(res.oracle.saved_pct)} / ${sec(res.oracle.mean_boot_wait_s)}; all idle time off, free: ${pct(res.all_idle_off_saved_pct)}`,
  );
  if (res.predictive.length) {
    lines.push('predictive policy against the frontier at equal saving:');
    for (const p of res.predictive)
      lines.push(
        `  margin ${p.margin}${res.predictive.some((q) => q.min_idle_s !== p.min_idle_s) ? `, MinIdleSeconds ${p.min_idle_s}` : ''}: ${pct(p.saved_pct)} / ${sec(p.mean_boot_wait_s)}; frontier ${sec(p.frontier_boot_wait_s)} -> ${Number.isFinite(p.boot_wait_ratio) ? `${(100 * p.boot_wait_ratio).toFixed(0)} % of its wait` : 'outside the frontier'}`,
      );
  }
  const r = res.recommendation;
  if (r) {
    const p = r.point;
    lines.push(
      `recommended for ${describeConstraint(res.constraint)}${r.met ? '' : ' (NOT met by any setting; the nearest)'}: SuspendTime ${p.suspend_time_s} s, SuspendExcNodes count ${p.exc_nodes} -> saves ${pct(p.saved_pct)}, mean boot wait ${sec(p.mean_boot_wait_s)}, ${p.jobs_delayed_300s_pct.toFixed(2)} % of jobs delayed >= 300 s, ${p.boots} boots`,
    );
    if (res.predictive.length) {
      const less = Number.isFinite(r.predictive_wait_less_s)
        ? `${r.predictive_wait_less_s.toFixed(0)} s less mean boot wait at this saving`
        : 'its margin curve does not reach this saving';
      const more = Number.isFinite(r.predictive_saving_more_pts)
        ? `${r.predictive_saving_more_pts.toFixed(2)} points more saving at this wait`
        : 'its margin curve does not reach this wait';
      lines.push(`the predictive controller on top of it: ${less}; ${more} (negative: it does worse)`);
      const pr = r.predictive;
      if (pr)
        lines.push(
          `the predictive policy's own best setting for ${describeConstraint(res.constraint)}${pr.met ? '' : ' (NOT met; the nearest)'}: Power.WarmPoolMargin ${pr.point.margin}, Power.Predictive.MinIdleSeconds ${pr.point.min_idle_s} -> saves ${pct(pr.point.saved_pct)}, mean boot wait ${sec(pr.point.mean_boot_wait_s)}`,
        );
    }
  }
  lines.push(`${res.runs} replays on ${res.workers} worker thread(s) in ${seconds.toFixed(1)} s`);
  return lines.join('\n');
}

async function runPlan(o: PlanOpts): Promise<void> {
  if (o.maxBootWait !== undefined && o.minSaving !== undefined)
    throw new UserError('--max-boot-wait and --min-saving: give one of them, not both');
  const constraint: Constraint =
    o.minSaving !== undefined ? { minSavingPct: o.minSaving } : { maxBootWaitS: o.maxBootWait ?? 60 };
  const cfg = loadConfig(o.config);
  const ppn = o.ppn ?? cfg.Cluster.CpusPerNode;
  const model = powerModelFromConfig(cfg.Power, o.cluster ?? cfg.Cluster.Name);
  // a Slurm DB URL reads <cluster>_job_table: --cluster, else SlurmDB.Cluster
  const src = await openJobSource(o.jobs, {
    ppn,
    cluster: o.cluster ?? cfg.SlurmDB.Cluster,
    ...slurmDbOpenOptions(cfg.SlurmDB),
  });
  const records: JobRecord[] = [];
  for await (const r of src.jobs) records.push(r);
  const notes: string[] = [];
  const groups = groupsOf(records, o, notes);
  const timeZone = src.meta.timeZone ?? cfg.Cluster.TimeZone;
  const forecaster = !o.predictive
    ? null
    : o.model
      ? { dir: o.model }
      : { baseline: baselineName(o.forecaster, '--forecaster') };
  const out: Array<{
    partition: string | null;
    node_names: string | null;
    result: PlanResult;
    seconds: number;
  }> = [];
  const texts: string[] = [];
  for (const g of groups) {
    const nodes = g.names && o.nodes === undefined ? g.names.length : (o.nodes ?? cfg.Cluster.Nodes);
    const { jobs, report } = await replayJobs(g.records, nodes);
    if (jobs.length === 0)
      throw new UserError(`${o.jobs}: no replayable jobs (${formatReplayReport(report, nodes)})`);
    const base = defaultGrid(nodes);
    const grid: PlanGrid = {
      suspendTimes: o.suspendTimes ?? base.suspendTimes,
      excNodes: o.excNodes ?? base.excNodes,
      margins: o.margins ?? base.margins,
      minIdle: o.minIdle ?? base.minIdle,
    };
    const runs =
      grid.suspendTimes.length * grid.excNodes.length +
      1 +
      (forecaster ? grid.margins.length * (grid.minIdle?.length ?? 1) : 0);
    const bar = startProgress(`power plan${g.partition === null ? '' : ` ${g.partition}`}`, runs, '{what}');
    let done = 0;
    const t0 = performance.now();
    let res: PlanResult;
    try {
      res = await powerPlan(
        {
          jobs,
          nodes,
          totalCpus: nodes * ppn,
          model,
          reactive: cfg.Power.Reactive,
          predictive: {
            margin: cfg.Power.WarmPoolMargin,
            peakQuantile: cfg.Power.Predictive.PeakQuantile,
            intervalS: cfg.Power.Predictive.IntervalSeconds,
            minIdleS: cfg.Power.Predictive.MinIdleSeconds,
            chains: chainsFromConfig(cfg.Power.Predictive),
          },
          forecaster,
          horizon: cfg.Predictor.ForecastMinutes,
          trainFraction: o.trainFraction,
          features: { timeZone, holidayCountry: cfg.Cluster.HolidayCountry },
        },
        grid,
        constraint,
        {
          workers: o.workers,
          onDone: (t) =>
            bar.update(++done, {
              what: `${t.policy} ${Object.entries(t.knobs)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}`,
            }),
        },
      );
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const names = g.names ? compress(g.names) : null;
    out.push({
      partition: g.partition,
      node_names: names,
      result: res,
      seconds: Math.round(seconds * 10) / 10,
    });
    texts.push(
      `replay on ${nodes} nodes: ${formatReplayReport(report, nodes)}\n${planText(res, g, seconds)}`,
    );
  }
  const settings: PlannedSetting[] = out
    .filter((p) => p.result.recommendation)
    .map((p) => ({
      partition: p.partition,
      nodeNames: p.node_names,
      suspendTime: p.result.recommendation!.point.suspend_time_s,
      excNodes: p.result.recommendation!.point.exc_nodes,
    }));
  const m = model;
  const snippet = slurmConfSnippet(
    settings,
    { suspendRate: cfg.Power.Reactive.SuspendRate, resumeRate: cfg.Power.Reactive.ResumeRate },
    [
      `pcm power plan on ${o.jobs.split('/').pop()}: the static setting with the most saving for ${describeConstraint(constraint)}`,
      `node figures: ${m.idleW} W idle, ${m.busyW} W busy, ${m.offW} W off, ${m.bootW} W x ${m.bootS} s boots (Power section); the result scales with them`,
      'SuspendProgram, ResumeProgram and SuspendTimeout must already be set; apply with: scontrol reconfigure',
    ],
  );
  const written: string[] = [];
  const doc = { trace: o.jobs, notes, plans: out, slurm_conf: snippet };
  if (o.out) {
    const files: Array<[string, string]> = [
      ['plan.json', `${JSON.stringify(doc, null, 2)}\n`],
      ['slurm.conf.snippet', snippet],
    ];
    for (const p of out)
      files.push([
        `frontier${p.partition === null ? '' : `-${p.partition}`}.svg`,
        planChart(
          p.result,
          `Energy saved vs boot wait: static settings and policies (${o.jobs.split('/').pop()}${p.partition === null ? '' : `, ${p.partition}`})`,
        ),
      ]);
    for (const [name, text] of files) {
      await writeFileAtomic(join(o.out, name), text);
      written.push(join(o.out, name));
    }
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatReport(src.report)}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`${texts.join('\n\n')}\n\nslurm.conf:\n${snippet}`);
  if (written.length) process.stdout.write(`wrote ${written.join(', ')}\n`);
}

export function registerPlan(power: Command): void {
  power
    .command('plan')
    .description(
      "the best static slurm.conf power settings (SuspendTime x SuspendExcNodes) from a site's job history, the predictive policy judged against them, and the slurm.conf lines",
    )
    .requiredOption('--jobs <source>', 'job history: Slurm DB URL, sacct export, SWF or job CSV (.gz ok)')
    .addOption(nodesOption('nodes of the cluster (or of --partition)'))
    .addOption(ppnOption())
    .option('--partition <p>', "plan only this partition's jobs (on --nodes nodes, or the nodes they ran on)")
    .option(
      '--node-names <hostlist>',
      'the nodes the setting covers, for SuspendExcNodes (default: from the history)',
    )
    .addOption(
      numberOption(
        '--max-boot-wait <s>',
        'recommend the most saving with at most this mean boot wait (default 60)',
        {
          minimum: 0,
          unit: 'seconds',
        },
      ),
    )
    .addOption(
      numberOption('--min-saving <pct>', 'recommend the least boot wait with at least this saving', {
        minimum: 0,
        maximum: 100,
      }),
    )
    .addOption(
      numberListOption(
        '--suspend-times <list>',
        'SuspendTime values, s (default 60,120,300,600,1200,1800,3600)',
        {
          integer: true,
          minimum: 1,
        },
      ),
    )
    .addOption(
      numberListOption(
        '--exc-nodes <list>',
        'SuspendExcNodes counts (default 0 and powers of two up to a tenth of the nodes)',
        { integer: true, minimum: 0 },
      ),
    )
    .addOption(
      numberListOption('--margins <list>', 'predictive margins, nodes (default 0,1,2,4,8)', {
        integer: true,
        minimum: 0,
      }),
    )
    .addOption(
      numberListOption(
        '--min-idle <list>',
        'predictive MinIdleSeconds values, each with every margin (default 0,600,1800)',
        { integer: true, minimum: 0, unit: 'seconds' },
      ),
    )
    .option('--no-predictive', 'plan the static settings only')
    .addOption(forecasterOption())
    .option('--model <dir>', 'use this trained model as the forecaster')
    .option('--config <file>', 'YAML config (Power, Cluster, Predictor sections)')
    .option(
      '--cluster <name>',
      'Slurm ClusterName of a Slurm DB history (default SlurmDB.Cluster); Power.Clusters.<name> overrides (default Cluster.Name)',
    )
    .addOption(
      trainFractionOption(
        'first fraction of the history that trains the forecaster (every figure is over the rest; with --no-predictive, the whole history counts)',
      ),
    )
    .addOption(
      intOption('--workers <n>', 'worker threads (default: the CPUs available)', {
        minimum: 1,
        maximum: 256,
      }),
    )
    .option('--out <dir>', 'write plan.json, slurm.conf.snippet and frontier.svg here')
    .option('--json', 'print the plans as JSON instead of the tables')
    .action((opts: PlanOpts) => runPlan(opts));
}
