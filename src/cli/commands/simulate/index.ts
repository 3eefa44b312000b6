import type { Command } from 'commander';
import { UserError } from '../../../util/errors.js';
import { configOption, instantOption, intOption, numberOption } from '../../options.js';
import { checkOutputFile } from '../../output.js';
import { runCalibrate } from './calibrate.js';
import { runLive } from './live.js';
import type { SimulateOptions } from './options.js';
import { runSimulate } from './schedule.js';

/**
 * `pcm simulate`: one command, three modes, one file each: schedule a generated or replayed workload
 * (schedule.ts), fit the generator to a trace (calibrate.ts, `--calibrate`), or feed telemetry in
 * wall-clock time (live.ts, `--live`). This file declares the options and picks the mode.
 */
export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      'simulate a cluster (FCFS + EASY backfilling) on a synthetic workload, a replayed trace (--replay), ' +
        'or fit the workload generator to a trace (--calibrate)',
    )
    .option('--config <file>', 'YAML config (its Simulator and Cluster sections)')
    .addOption(
      configOption('--nodes <n>', 'cluster nodes', 'Simulator.Nodes', {
        defaultText: 'default: Simulator.Nodes, else Cluster.Nodes',
      }),
    )
    .addOption(
      configOption(
        '--days <d>',
        'days of submissions to generate (with --live: days to run after the origin, default 365)',
        'Simulator.Days',
        { unit: 'days' },
      ),
    )
    .addOption(configOption('--start <date>', 'first day, YYYY-MM-DD, local midnight', 'Simulator.Start'))
    .addOption(configOption('--seed <s>', 'random seed', 'Simulator.Seed'))
    .option(
      '--replay <trace>',
      'replay the submissions of a job trace (SWF, job CSV, sacct) instead of generating',
    )
    .option('--calibrate <trace>', 'fit the generator to a job trace and write a Simulator section to --out')
    .addOption(configOption('--ppn <p>', 'processors per node of the trace', 'Cluster.CpusPerNode'))
    .option('--out <file>', 'with --calibrate: the YAML file to write')
    .addOption(
      configOption('--overrun <mode>', 'jobs running past their limit: kill | honour', 'Simulator.Overrun', {
        defaultText: 'default: Simulator.Overrun when generating, honour when replaying',
      }),
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
    .addOption(
      intOption(
        '--mem-per-node <mb>',
        'with --out-slurmdb: memory per node in the TRES strings (default: left out)',
        { minimum: 1 },
      ),
    )
    .option(
      '--replace',
      'with --out-slurmdb: first delete rows an earlier pcm simulate wrote in the same time range',
    )
    .option(
      '--live',
      'run the generated workload in (accelerated) wall-clock time, writing one telemetry row per minute',
    )
    .addOption(
      numberOption('--speed <x>', 'with --live: simulated seconds per wall second (default 1)', {
        exclusiveMinimum: 0,
        maximum: 1e7,
      }),
    )
    .addOption(
      numberOption(
        '--preroll <hours>',
        'with --live: write this many hours of history at once at start (default 0)',
        { minimum: 0, maximum: 8784 },
      ),
    )
    .addOption(
      instantOption(
        '--origin <time>',
        'with --live: the simulated clock starts here (ISO time or epoch s; default now)',
      ),
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
