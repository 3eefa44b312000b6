import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ADVISE_POLICIES, type AdvisePolicyName } from '../../power/advise.js';
import { type RunClock, scaledClock } from '../../power/run/clock.js';
import { Controller, runLoop } from '../../power/run/loop.js';
import { UserError } from '../../util/errors.js';
import { configOption, enumOption, instantOption, numberOption } from '../options.js';

/** The options `power advise` and `power run` share: config, forecast source, policy, partition, cluster. */
export interface LiveOpts {
  config?: string;
  service?: string;
  forecast?: string;
  policy: AdvisePolicyName;
  partition?: string;
  cluster?: string;
}

interface RunOpts extends LiveOpts {
  interval?: number;
  stateDir?: string;
  metricsPort?: number;
  dryRun?: boolean;
  once?: boolean;
  timeScale?: number;
  timeOrigin?: number;
  timeWallStart?: number;
}

/**
 * --time-scale S [--time-origin T] [--time-wall-start W]: policy time runs S times the wall clock, and is T at
 * the wall instant W (a compressed-time trial; W lets the trial's job feeder and forecast share the mapping).
 */
function timeScaleClock(o: RunOpts): RunClock | undefined {
  if (o.timeScale === undefined) {
    if (o.timeOrigin !== undefined) throw new UserError('--time-origin needs --time-scale');
    if (o.timeWallStart !== undefined) throw new UserError('--time-wall-start needs --time-scale');
    return undefined;
  }
  const now = Date.now() / 1000;
  return scaledClock(o.timeScale, o.timeOrigin ?? now, o.timeWallStart ?? now);
}

async function runController(o: RunOpts): Promise<void> {
  if (o.service && o.forecast) throw new UserError('--service and --forecast: give one of them, not both');
  const cfg = loadConfig(o.config);
  const r = cfg.Power.Run;
  if (o.interval !== undefined) r.IntervalSeconds = o.interval;
  if (o.stateDir !== undefined) r.StateDir = o.stateDir;
  if (o.metricsPort !== undefined) r.MetricsPort = o.metricsPort;
  const c = await Controller.start({
    cfg,
    policy: o.policy,
    partition: o.partition,
    cluster: o.cluster,
    service: o.service,
    forecastFile: o.forecast,
    dryRun: o.dryRun,
    clock: timeScaleClock(o),
  });
  // SIGTERM (systemd stop) / SIGINT: the interval in progress finishes its apply and writes its state
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await runLoop(c, ac.signal, o.once ? 1 : Number.POSITIVE_INFINITY);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await c.stop();
  }
}

export function registerRun(power: Command): void {
  power
    .command('run')
    .description(
      "the live power controller: every interval read sinfo/squeue, learn users' submission chains, decide as `power advise` does and apply through scontrol (state, lock and rate ledger in Power.Run.StateDir, /metrics on Power.Run.MetricsPort, one JSON log line per interval)",
    )
    .option('--config <file>', 'YAML config (Power, Predictor, Service, Cluster sections)')
    .option('--service <url>', 'prediction service to ask for GET /forecast/latest (default Predictor.URL)')
    .option('--forecast <file>', 'a saved forecast JSON, read again every interval, instead of the service')
    .addOption(
      enumOption(
        '--policy <p>',
        "predictive (forecast warm pool + users' chains; reactive when no forecast is usable) or reactive",
        ADVISE_POLICIES,
        'predictive',
      ),
    )
    .option('--partition <p>', "only this partition's nodes and jobs (and its forecast series)")
    .option('--cluster <name>', 'forecast series and Power.Clusters overrides (default Cluster.Name)')
    .addOption(configOption('--interval <s>', 'seconds between decisions', 'Power.Run.IntervalSeconds'))
    .option('--state-dir <dir>', 'state, lock and rate ledger (default: Power.Run.StateDir)')
    .addOption(configOption('--metrics-port <n>', 'port of /metrics, 0 = none', 'Power.Run.MetricsPort'))
    .option('--dry-run', 'plan and log every interval, never apply')
    .option('--once', 'run one interval and exit')
    .addOption(
      numberOption(
        '--time-scale <s>',
        'for a trial in compressed time on a test Slurm: policy seconds per wall second (Power settings and the forecast stay in trace time)',
        { exclusiveMinimum: 0, maximum: 3600, unit: 'a factor' },
      ),
    )
    .addOption(
      instantOption('--time-origin <t>', 'with --time-scale: the policy time of the start (default now)'),
    )
    .addOption(
      instantOption(
        '--time-wall-start <t>',
        'with --time-scale: the wall-clock instant that is policy time --time-origin (default now)',
      ),
    )
    .action((opts: RunOpts) => runController(opts));
}
