import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import {
  baselineFactories,
  type EvaluateOptions,
  evaluate,
  type ForecasterFactory,
} from '../../evaluate/evaluate.js';
import { errorByHorizonChart, sampleWeekChart } from '../../evaluate/plots.js';
import { formatTable, resultToJson } from '../../evaluate/report.js';
import { makeDataset } from '../../model/dataset.js';
import { buildFeatures } from '../../model/features.js';
import { NeuralForecaster } from '../../model/neural.js';
import { openForecaster } from '../../model/open.js';
import { isoMinute, readTimelineCsv } from '../../timeline/csv.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { startProgress } from '../../util/progress.js';
import { configOption, instantOption, intOption, numberOption, optionError } from '../options.js';
import { checkOutputDir, checkOutputFile } from '../output.js';

interface EvaluateCliOptions {
  timeline: string;
  model?: string;
  config?: string;
  timeZone?: string;
  holidays?: string;
  nodes?: number;
  from?: number;
  testFraction?: number;
  validFraction: number;
  backtest?: number;
  horizon?: number;
  gap: number;
  stride: number;
  json?: string;
  plots?: string;
  shrink: boolean;
}

/** A share of the timeline: 0 (none) up to, not including, all of it. */
const FRACTION = { minimum: 0, exclusiveMaximum: 1 };

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'evaluate forecasters on the last part of a timeline: the baselines (persistence, seasonal day/week, ridge) and optionally a trained model',
    )
    .requiredOption('--timeline <file>', 'timeline CSV (or a directory of job_timeline_*.csv)')
    .option('--model <dir>', 'also evaluate the trained model in this directory')
    .option(
      '--no-shrink',
      "evaluate --model without its fitted shrinkage toward persistence (α = 1: the network's raw forecast)",
    )
    .option(
      '--config <file>',
      'YAML config (Cluster.TimeZone, Cluster.HolidayCountry, Predictor.ForecastMinutes)',
    )
    .option('--time-zone <tz>', 'site time zone for calendar features (overrides the config)')
    .option('--holidays <country>', 'holiday country, e.g. SE or DE-BY (overrides the config; "" = none)')
    .addOption(
      configOption('--nodes <n>', 'cluster nodes, if the timeline has no capacity column', 'Cluster.Nodes', {
        defaultText: "default: the timeline's capacity",
      }),
    )
    .addOption(
      instantOption('--from <date>', 'test period starts at this date (ISO, UTC)').conflicts('testFraction'),
    )
    .addOption(
      numberOption('--test-fraction <f>', 'last fraction of the time used for test (default 0.2)', FRACTION),
    )
    .addOption(
      numberOption(
        '--valid-fraction <f>',
        'fraction of the time before the test used for validation',
        FRACTION,
        0.1,
      ),
    )
    .addOption(
      intOption(
        '--backtest <n>',
        'rolling-origin backtest: N successive test folds, models refit before each',
        { minimum: 1 },
      ),
    )
    .addOption(configOption('--horizon <minutes>', 'forecast horizon H', 'Predictor.ForecastMinutes'))
    .addOption(
      intOption(
        '--gap <minutes>',
        'skip this many origins at the start of validation and test (leakage guard)',
        { minimum: 0 },
        0,
      ),
    )
    .addOption(
      intOption('--stride <n>', 'evaluate every n-th test origin (default every minute)', { minimum: 1 }, 1),
    )
    .option('--json <out>', 'write the metrics as JSON to this file ("-" = stdout instead of the table)')
    .option('--plots <dir>', 'write SVG plots (error by horizon, sample week) into this directory')
    .action(async (opts: EvaluateCliOptions) => {
      if (opts.json && opts.json !== '-') checkOutputFile(opts.json, '--json');
      if (opts.plots) checkOutputDir(opts.plots, '--plots');
      const cfg = loadConfig(opts.config);
      const timeZone = opts.timeZone ?? cfg.Cluster.TimeZone;
      const holidayCountry = opts.holidays ?? cfg.Cluster.HolidayCountry;
      const horizon = opts.horizon ?? cfg.Predictor.ForecastMinutes;
      // 0 reads as a fraction but leaves no test period (the split says so too, after reading the timeline)
      if (opts.testFraction === 0) throw optionError('--test-fraction', 'a number in (0, 1)', '0');

      const tl = await readTimelineCsv(opts.timeline, opts.nodes ? { capacity: opts.nodes } : {});
      const features = buildFeatures(tl, { timeZone, holidayCountry, historyLead: horizon });
      const data = makeDataset(tl, features, horizon);
      const factories: ForecasterFactory[] = baselineFactories();
      if (opts.model) {
        const model = openForecaster({ dir: opts.model });
        if (!opts.shrink && model instanceof NeuralForecaster) model.shrink = null;
        factories.push(() => model);
      }
      const bar = startProgress('evaluate', 0, '{what}');
      bar.update(0, { what: 'starting' });
      const evalOpts: EvaluateOptions = {
        split: { testFrom: opts.from, testFraction: opts.testFraction, validFraction: opts.validFraction },
        backtest: opts.backtest,
        gap: opts.gap,
        evalStride: opts.stride,
        onProgress: (done, total, what) => {
          bar.setTotal(total);
          bar.update(done, { what });
        },
      };
      let res: Awaited<ReturnType<typeof evaluate>>;
      try {
        res = await evaluate(data, factories, evalOpts);
      } finally {
        bar.stop();
      }

      for (const w of res.warnings) process.stderr.write(`pcm: warning: ${w}\n`);
      const json = resultToJson(res, {
        timeline_file: opts.timeline,
        model_dir: opts.model ?? null,
        model_shrink: opts.model ? opts.shrink : null,
        time_zone: timeZone,
        holiday_country: holidayCountry,
        options: {
          valid_fraction: opts.validFraction,
          gap: opts.gap,
          stride: opts.stride,
          backtest: opts.backtest ?? 1,
        },
      });
      const text = `${JSON.stringify(json, null, 2)}\n`;
      if (opts.json === '-') process.stdout.write(text);
      else {
        const f = res.folds;
        const at = (row: number) => isoMinute(tl.start + 60 * row);
        process.stdout.write(
          `${opts.timeline}: ${tl.minutes} minutes, capacity ${tl.capacity}; train until ${at(f[0].validStart)}, ` +
            `validation from ${at(f[0].validStart)}, test ${at(f[0].testStart)} .. ${at(f[f.length - 1].end)}` +
            `${f.length > 1 ? ` in ${f.length} folds` : ''}; ${res.testSamples} test origins, H=${horizon}\n\n`,
        );
        process.stdout.write(formatTable(res));
        if (opts.json) {
          await writeFileAtomic(opts.json, text);
          process.stdout.write(`\nwrote ${opts.json}\n`);
        }
      }
      if (opts.plots) {
        await mkdir(opts.plots, { recursive: true });
        const files: Array<[string, string]> = [
          ['mae_by_horizon.svg', errorByHorizonChart(res, 'mae')],
          ['rmse_by_horizon.svg', errorByHorizonChart(res, 'rmse')],
        ];
        for (const name of res.order) {
          const svg = sampleWeekChart(res, name, timeZone);
          if (svg) files.push([`sample_week_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.svg`, svg]);
        }
        for (const [f, svg] of files) await writeFileAtomic(join(opts.plots, f), svg);
        const msg = `wrote ${files.length} plots to ${opts.plots}\n`;
        if (opts.json === '-') process.stderr.write(msg);
        else process.stdout.write(msg);
      }
    });
}
