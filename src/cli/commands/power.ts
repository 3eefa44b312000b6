import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { compress } from '../../jobs/hostlist.js';
import { openJobSource } from '../../jobs/open.js';
import { formatReport } from '../../jobs/record.js';
import { baselineName } from '../../model/baselines/index.js';
import { openForecaster } from '../../model/open.js';
import { ADVISE_POLICIES, formatAdvice } from '../../power/advise.js';
import { fetchForecast, readForecastFile } from '../../power/forecast-input.js';
import { sampleWeekChart, tradeoffChart } from '../../power/plots.js';
import { chainsFromConfig } from '../../power/policies/user-chains.js';
import { ALLOCATION_ORDERS, type AllocationOrder } from '../../power/powered-nodes.js';
import {
  DEFAULT_SWEEP,
  POLICY_NAMES,
  type PolicyName,
  type PowerReplayResult,
  powerReplay,
} from '../../power/replay.js';
import { applyAdvice, type NodeOutcome } from '../../power/run/apply.js';
import { decide } from '../../power/run/decide.js';
import { acquireControllerLock } from '../../power/run/lock.js';
import { RateLedger } from '../../power/run/rate-ledger.js';
import { savedChains } from '../../power/run/state-file.js';
import { serviceToken } from '../../power/service-token.js';
import { readSlurm, runSlurm } from '../../power/slurm-nodes.js';
import { powerModelFromConfig } from '../../power/watts.js';
import { formatReplayReport, replayJobs } from '../../sim/replay.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { configOption, enumOption, intOption, numberListOption, valueOption } from '../options.js';
import { forecasterOption, nodesOption, ppnOption, trainFractionOption } from './power-options.js';
import { registerPlan } from './power-plan.js';
import { type LiveOpts, registerRun } from './power-run.js';

interface ReplayOpts {
  jobs: string;
  nodes?: number;
  ppn?: number;
  policy: PolicyName[];
  forecaster: string;
  model?: string;
  out: string;
  json?: boolean;
  config?: string;
  cluster?: string;
  suspendTime?: number;
  allocOrder?: AllocationOrder;
  margin?: number;
  trainFraction: number;
  jitterSeeds: number;
  sweep: boolean;
  sweepReactive?: number[];
  sweepPredictive?: number[];
}

/** `all` or a comma list of policy names; always-on first, the baseline every figure is relative to. */
function policiesOf(p: string): PolicyName[] | undefined {
  if (p === 'all') return [...POLICY_NAMES];
  const names = p.split(',').map((s) => s.trim());
  if (names.some((n) => !(POLICY_NAMES as readonly string[]).includes(n))) return undefined;
  return ['always_on', ...POLICY_NAMES.filter((n) => n !== 'always_on' && names.includes(n))];
}

function table(res: PowerReplayResult): string {
  const head = [
    'policy',
    'kWh',
    'saved %',
    'node-h off',
    'boots',
    'boot wait s',
    'added wait s (mean ± sd)',
    'p95 added s',
    'delayed>=300s %',
  ];
  const rows = [head];
  for (const [name, p] of Object.entries(res.policies)) {
    if (!p) continue;
    rows.push([
      name + (p.knob ? ` (${p.knob.name} ${p.knob.value})` : ''),
      p.energy_kwh.toFixed(0),
      p.saved_pct.toFixed(2),
      p.node_hours_off.toFixed(0),
      String(p.boots),
      p.mean_boot_wait_s.toFixed(1),
      `${p.mean_added_wait_s.toFixed(1)} ± ${p.mean_added_wait_spread_s.toFixed(1)}`,
      p.p95_added_wait_s.toFixed(0),
      p.jobs_delayed_300s_pct.toFixed(2),
    ]);
  }
  const w = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((x, c) => x.padEnd(w[c])).join('  '));
  for (const [name, pts] of Object.entries(res.curves)) {
    if (pts.length === 0) continue;
    lines.push(
      `curve ${name}: ${pts.map((p) => `${p.knob} -> ${p.saved_pct.toFixed(2)} % / ${p.mean_boot_wait_s.toFixed(0)} s`).join(', ')}`,
    );
  }
  lines.push(`bound (all idle time off, free): ${res.all_idle_off_saved_pct.toFixed(2)} %`);
  if (res.target) {
    const t = res.target;
    lines.push(
      `target: predictive/oracle saving ${(100 * t.oracle_ratio).toFixed(1)} % (>= 90 %), boot wait ${(100 * t.boot_wait_ratio).toFixed(1)} % of the reactive timeout saving as much (${t.reactive_equal_saving_boot_wait_s.toFixed(1)} s; <= 25 %): ${t.met ? 'met' : 'NOT met'}`,
    );
  }
  if (res.target?.best_on_curve) {
    const b = res.target.best_on_curve;
    lines.push(
      `best predictive margin for the target: ${b.knob} (oracle saving ${(100 * b.oracle_ratio).toFixed(1)} %, boot wait ${(100 * b.boot_wait_ratio).toFixed(1)} % of reactive's at equal saving): ${b.met ? 'met' : 'NOT met'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function runReplay(o: ReplayOpts): Promise<void> {
  const cfg = loadConfig(o.config);
  const nodes = o.nodes ?? cfg.Cluster.Nodes;
  const ppn = o.ppn ?? cfg.Cluster.CpusPerNode;
  const policies = o.policy;
  const baseline = baselineName(o.forecaster, '--forecaster');
  const model = powerModelFromConfig(cfg.Power, o.cluster ?? cfg.Cluster.Name);
  const src = await openJobSource(o.jobs, { ppn });
  const { jobs, report } = await replayJobs(src.jobs, nodes);
  if (jobs.length === 0)
    throw new UserError(`${o.jobs}: no replayable jobs (${formatReplayReport(report, nodes)})`);
  const timeZone = src.meta.timeZone ?? cfg.Cluster.TimeZone;
  const loaded = o.model ? openForecaster({ dir: o.model }) : null;
  const withPred = policies.includes('predictive');
  const sweep = o.sweep
    ? {
        reactive: policies.includes('reactive') ? (o.sweepReactive ?? DEFAULT_SWEEP.reactive) : [],
        predictive: withPred ? (o.sweepPredictive ?? DEFAULT_SWEEP.predictive) : [],
      }
    : { reactive: [], predictive: [] };
  const seeds = o.jitterSeeds;
  const total =
    2 + seeds + (policies.length - 1) * (1 + seeds) + sweep.reactive.length + sweep.predictive.length;
  const bar = startProgress('power replay', total, '{what}');
  let done = 0;
  let res: PowerReplayResult;
  try {
    res = await powerReplay({
      jobs,
      nodes,
      totalCpus: nodes * ppn,
      model,
      reactive: {
        ...cfg.Power.Reactive,
        SuspendTime: o.suspendTime ?? cfg.Power.Reactive.SuspendTime,
        AllocationOrder: o.allocOrder ?? cfg.Power.Reactive.AllocationOrder,
      },
      predictive: {
        margin: o.margin ?? cfg.Power.WarmPoolMargin,
        peakQuantile: cfg.Power.Predictive.PeakQuantile,
        intervalS: cfg.Power.Predictive.IntervalSeconds,
        minIdleS: cfg.Power.Predictive.MinIdleSeconds,
        chains: chainsFromConfig(cfg.Power.Predictive),
      },
      policies,
      forecaster: withPred
        ? loaded
          ? { make: () => loaded, fit: false }
          : { make: () => openForecaster({ baseline }), fit: true }
        : undefined,
      horizon: cfg.Predictor.ForecastMinutes,
      trainFraction: o.trainFraction,
      features: { timeZone, holidayCountry: cfg.Cluster.HolidayCountry },
      jitterSeeds: seeds,
      sweep,
      onProgress: (what) => bar.update(done++, { what }),
    });
  } finally {
    bar.stop();
  }
  const out = {
    trace: o.jobs,
    ppn,
    replay: report,
    ...res,
  };
  const { sample, ...summary } = out;
  await writeFileAtomic(join(o.out, 'power.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const written = [join(o.out, 'power.json')];
  for (const name of policies) {
    const svg = sampleWeekChart(res, name, timeZone);
    if (!svg) continue;
    const path = join(o.out, `week-${name}.svg`);
    await writeFileAtomic(path, svg);
    written.push(path);
  }
  const trade = join(o.out, 'tradeoff.svg');
  await writeFileAtomic(trade, tradeoffChart(res, `Energy saved vs boot wait (${o.jobs.split('/').pop()})`));
  written.push(trade);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${formatReport(src.report)}\nreplay on ${nodes} nodes: ${formatReplayReport(report, nodes)}\n`,
  );
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
  process.stdout.write(
    `evaluation window ${iso(res.window.start)} .. ${iso(res.window.end)} UTC (${res.window.jobs} jobs; the first ${res.window.train_minutes} minutes trained the forecaster${res.forecaster ? ` ${res.forecaster}` : ''})\n`,
  );
  process.stdout.write(table(res));
  process.stdout.write(`wrote ${written.join(', ')}\n`);
}

interface AdviseOpts extends LiveOpts {
  apply?: boolean;
  maxActions?: number;
  fallback?: 'reactive';
  json?: boolean;
}

async function runAdvise(o: AdviseOpts): Promise<void> {
  if (o.service && o.forecast) throw new UserError('--service and --forecast: give one of them, not both');
  const cfg = loadConfig(o.config);
  const cluster = o.cluster ?? cfg.Cluster.Name;
  // --apply acts like the controller: under its lock, spending only what the shared rate ledger left
  const lock = o.apply
    ? await acquireControllerLock(
        cfg.Power.Run.StateDir,
        'pcm power advise --apply',
        cfg.Power.Run.LockWaitSeconds,
      )
    : null;
  try {
    const ledger = o.apply ? await RateLedger.open(cfg.Power.Run.StateDir) : null;
    const token = o.forecast ? undefined : serviceToken(cfg);
    const { nodes, config: slurm } = await readSlurm(runSlurm, o.partition);
    const now = Date.now() / 1000;
    const getForecast = () =>
      o.forecast
        ? readForecastFile(o.forecast)
        : fetchForecast(
            o.service ?? cfg.Predictor.URL,
            { cluster: o.cluster, partition: o.partition },
            cfg.Power.Advise.TimeoutSeconds,
            token,
          );
    // the users' chains the live controller keeps, if it runs here: advise decides as it would
    const { chains, note } = await savedChains(
      cfg.Power.Run.StateDir,
      o.partition ?? null,
      cfg.Power.Predictive,
    );
    let { adv } = await decide({
      nodes,
      slurm,
      power: cfg.Power,
      policy: o.policy,
      getForecast,
      fallback: o.fallback === 'reactive',
      now,
      cluster,
      maxActions: o.maxActions,
      rateUsed: ledger?.used(now),
      arrivals: chains,
    });
    if (note) adv.warnings.push(note);
    let outcomes: NodeOutcome[] = [];
    if (o.apply && adv.commands.length > 0 && ledger) {
      if (!slurm.powerSave) {
        throw new UserError(
          `--apply: Slurm power saving is off (SuspendProgram/ResumeProgram unset or SuspendTime ${slurm.suspendTime}), scontrol would refuse power_down/power_up`,
        );
      }
      const ran = await applyAdvice(adv, {
        run: runSlurm,
        reread: () => readSlurm(runSlurm, o.partition),
        excludeNodes: cfg.Power.Advise.ExcludeNodes,
        groupSize: cfg.Power.Run.ApplyGroupSize,
      });
      ledger.recordDone(now, ran.outcomes, 'advise');
      await ledger.save(now);
      outcomes = ran.outcomes;
      adv = { ...adv, commands: ran.commands };
      for (const x of ran.outcomes.filter((y) => y.outcome !== 'done'))
        adv.warnings.push(
          `${x.outcome === 'refused' ? 'state changed before apply, left out' : 'scontrol failed'}: ${x.node} (${x.why})`,
        );
    }
    const report = { ...adv, applied: Boolean(o.apply), outcomes, slurm_version: slurm.version };
    process.stdout.write(
      o.json ? `${JSON.stringify(report, null, 2)}\n` : formatAdvice(adv, Boolean(o.apply)),
    );
    const failed = outcomes.filter((x) => x.outcome === 'failed').map((x) => x.node);
    if (failed.length > 0)
      throw new UserError(
        `--apply: scontrol failed for ${compress(failed)} (the others ran; see the warnings)`,
      );
  } finally {
    lock?.release();
  }
}

export function register(program: Command): void {
  const power = program
    .command('power')
    .description('node power control: replay policies on job traces, advise a live Slurm');
  power
    .command('replay')
    .description(
      'replay a job trace under power policies (always_on, reactive, predictive, oracle) with simulated boots; report energy, boot waits and added waits',
    )
    .requiredOption('--jobs <trace>', 'job trace (SWF, sacct export or job CSV; .gz ok)')
    .addOption(nodesOption('cluster nodes'))
    .addOption(ppnOption())
    .addOption(
      valueOption(
        '--policy <p>',
        `all, or a comma list of ${POLICY_NAMES.join(', ')}`,
        policiesOf,
        `all or one of ${POLICY_NAMES.join(', ')}`,
      ).default([...POLICY_NAMES], 'all'),
    )
    .addOption(forecasterOption())
    .option(
      '--model <dir>',
      'use this trained model as the forecaster (trained on data before the evaluation window)',
    )
    .requiredOption('--out <dir>', 'directory for power.json and the SVG plots')
    .option('--json', 'print the figures as JSON instead of the table')
    .option('--config <file>', 'YAML config (Power, Cluster, Predictor sections)')
    .option('--cluster <name>', 'apply Power.Clusters.<name> overrides (default Cluster.Name)')
    .addOption(
      configOption('--suspend-time <s>', 'reactive SuspendTime', 'Power.Reactive.SuspendTime', {
        unit: 'seconds',
      }),
    )
    .addOption(
      configOption(
        '--alloc-order <order>',
        `which free nodes a job gets: ${ALLOCATION_ORDERS.join(' or ')} (docs/power.md)`,
        'Power.Reactive.AllocationOrder',
      ),
    )
    .addOption(configOption('--margin <n>', 'predictive margin, nodes', 'Power.WarmPoolMargin'))
    .addOption(trainFractionOption('first fraction of the trace that trains the forecaster'))
    .addOption(
      intOption(
        '--jitter-seeds <k>',
        'paired replays with +-1 s run-time jitter, for the added wait',
        { minimum: 0 },
        3,
      ),
    )
    .option('--no-sweep', 'skip the trade-off curves')
    .addOption(
      numberListOption(
        '--sweep-reactive <list>',
        `SuspendTime values (default ${DEFAULT_SWEEP.reactive.join(',')})`,
        { minimum: 0 },
      ),
    )
    .addOption(
      numberListOption(
        '--sweep-predictive <list>',
        `margins (default ${DEFAULT_SWEEP.predictive.join(',')})`,
        { minimum: 0 },
      ),
    )
    .action((opts: ReplayOpts) => runReplay(opts));
  power
    .command('advise')
    .description(
      'one decision of a power policy on the live Slurm cluster: print (default) or --apply the scontrol power_down/power_up commands that realise it',
    )
    .option('--config <file>', 'YAML config (Power, Predictor, Cluster sections)')
    .option('--service <url>', 'prediction service to ask for GET /forecast/latest (default Predictor.URL)')
    .option('--forecast <file>', "a saved forecast JSON (the service's answer) instead of the service")
    .addOption(
      enumOption(
        '--policy <p>',
        'predictive (forecast warm pool) or reactive (Slurm-like idle timeout)',
        ADVISE_POLICIES,
        'predictive',
      ),
    )
    .option('--partition <p>', "only this partition's nodes (and its forecast series)")
    .option('--cluster <name>', 'forecast series and Power.Clusters overrides (default Cluster.Name)')
    .option('--apply', 'run the commands (default: dry run, print them)')
    .addOption(configOption('--max-actions <n>', 'node actions per run at most', 'Power.Advise.MaxActions'))
    .addOption(
      enumOption(
        '--fallback <policy>',
        'when no forecast is usable (service down, stale): apply this policy',
        ['reactive'] as const,
      ),
    )
    .option('--json', 'print the decision as JSON')
    .action((opts: AdviseOpts) => runAdvise(opts));
  registerPlan(power);
  registerRun(power);
}
