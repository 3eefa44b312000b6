import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { readTimelineCsv } from '../../timeline/csv.js';
import { ModelSchema, type ModelSection, TrainSchema, type TrainSection } from '../../train/config.js';
import { train } from '../../train/trainer.js';
import { UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { configOption } from '../options.js';

interface TrainCliOptions {
  timeline: string[];
  out: string;
  config?: string;
  resume?: boolean;
  maxMinutes?: number;
  threads?: number;
  epochs?: number;
  batch?: number;
  samplesPerEpoch?: number;
  lr?: number;
  hidden?: number;
  resolution?: number;
  lastStepSkip?: boolean;
  seed?: number;
  timeZone?: string;
  holidays?: string;
  nodes?: number;
  json?: boolean;
}

/** Config sections with the command-line overrides applied (re-validated, so limits hold). */
function sections(
  opts: TrainCliOptions,
  cfg: Record<string, unknown>,
): { model: ModelSection; train: TrainSection } {
  const m = { ...(cfg.Model as ModelSection) };
  const t = { ...(cfg.Train as TrainSection) };
  if (opts.hidden !== undefined) m.Hidden = opts.hidden;
  if (opts.resolution !== undefined) m.ResolutionMinutes = opts.resolution;
  if (opts.lastStepSkip !== undefined) m.LastStepSkip = opts.lastStepSkip;
  if (opts.epochs !== undefined) t.Epochs = opts.epochs;
  if (opts.batch !== undefined) t.BatchSize = opts.batch;
  if (opts.samplesPerEpoch !== undefined) t.SamplesPerEpoch = opts.samplesPerEpoch;
  if (opts.lr !== undefined) t.LearningRate = opts.lr;
  if (opts.threads !== undefined) t.Threads = opts.threads;
  if (opts.maxMinutes !== undefined) t.MaxMinutes = opts.maxMinutes;
  if (opts.seed !== undefined) t.Seed = opts.seed;
  const mr = ModelSchema.safeParse(m);
  if (!mr.success)
    throw new UserError(
      `Model: ${mr.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const tr = TrainSchema.safeParse(t);
  if (!tr.success)
    throw new UserError(
      `Train: ${tr.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { model: mr.data, train: tr.data };
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train the neural forecaster (BiLSTM + attention, P10/P50/P90) on minute timelines')
    .requiredOption('--timeline <files...>', 'timeline CSV file(s) (consecutive, e.g. one per year)')
    .requiredOption('--out <dir>', 'model directory to write (best model; last/ holds the resume state)')
    .option(
      '--config <file>',
      'YAML config (sections Model, Train, Cluster.TimeZone, Cluster.HolidayCountry)',
    )
    .option('--resume', 'continue from <out>/last after an interruption')
    .addOption(
      configOption(
        '--max-minutes <n>',
        'stop after this many minutes, 0 = no limit (the best checkpoint is kept)',
        'Train.MaxMinutes',
      ),
    )
    .addOption(configOption('--threads <n>', 'data-parallel worker threads', 'Train.Threads'))
    .addOption(configOption('--epochs <n>', 'epochs at most', 'Train.Epochs'))
    .addOption(configOption('--batch <n>', 'samples per step', 'Train.BatchSize'))
    .addOption(configOption('--samples-per-epoch <n>', 'training windows per epoch', 'Train.SamplesPerEpoch'))
    .addOption(configOption('--lr <rate>', 'peak learning rate', 'Train.LearningRate'))
    .addOption(configOption('--hidden <n>', 'LSTM hidden size per direction', 'Model.Hidden'))
    .addOption(configOption('--resolution <minutes>', 'minutes per LSTM step', 'Model.ResolutionMinutes'))
    .addOption(
      configOption(
        '--last-step-skip <on|off>',
        'the head also sees the origin step directly (off = the seed head)',
        'Model.LastStepSkip',
      ),
    )
    .addOption(configOption('--seed <n>', 'random seed', 'Train.Seed'))
    .option('--time-zone <tz>', 'site time zone for calendar features (overrides Cluster.TimeZone)')
    .option('--holidays <country>', 'holiday country, e.g. SE or DE-BY (overrides Cluster.HolidayCountry)')
    .addOption(
      configOption('--nodes <n>', 'cluster nodes, if the timeline has no capacity column', 'Cluster.Nodes', {
        defaultText: "default: the timeline's capacity",
      }),
    )
    .option('--json', 'print the result (history, best epoch) as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  pcm train --timeline kth.csv --out model/ --time-zone Europe/Stockholm\n  pcm train --timeline kth.csv --out model/ --resume\n  pcm evaluate --timeline kth.csv --model model/ --time-zone Europe/Stockholm',
    )
    .action(async (opts: TrainCliOptions) => {
      const cfg = loadConfig(opts.config);
      const { model, train: tc } = sections(opts, cfg as unknown as Record<string, unknown>);
      const tl = await readTimelineCsv(opts.timeline, opts.nodes ? { capacity: opts.nodes } : {});
      const bar = startProgress('train', 0, 'epoch {epoch} loss {loss} lr {lr} {sps} samples/s', {});
      let res: Awaited<ReturnType<typeof train>>;
      try {
        res = await train(tl, {
          model,
          train: tc,
          features: {
            timeZone: opts.timeZone ?? cfg.Cluster.TimeZone,
            holidayCountry: opts.holidays ?? cfg.Cluster.HolidayCountry,
          },
          out: opts.out,
          resume: opts.resume,
          source: opts.timeline,
          onStep: (p) => {
            bar.setTotal(p.epochs * p.stepsPerEpoch);
            bar.update(p.epoch * p.stepsPerEpoch + p.step, {
              epoch: `${p.epoch + 1}/${p.epochs}`,
              loss: p.loss.toFixed(4),
              lr: p.lr.toExponential(1),
              sps: p.samplesPerSecond.toFixed(0),
            });
          },
          onEpoch: (h) => {
            if (!opts.json && !process.stderr.isTTY)
              process.stderr.write(
                `epoch ${h.epoch + 1}: loss ${h.train_loss.toFixed(4)} val ${h.val_loss.toFixed(4)} val MAE ${h.val_mae.toFixed(2)} (persistence ${h.val_mae_persistence.toFixed(2)}) coverage ${(100 * h.val_coverage).toFixed(1)}% lr ${h.lr.toExponential(1)} ${h.samples_per_s.toFixed(0)} samples/s ${h.epoch_seconds.toFixed(1)} s${h.improved ? ' *' : ''}\n`,
              );
          },
        });
      } finally {
        bar.stop();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(res, null, 1)}\n`);
        return;
      }
      const best = res.history.find((h) => h.epoch === res.bestEpoch);
      const lines = [
        `trained ${res.history.length} epochs in ${(res.seconds / 60).toFixed(1)} min (stopped by ${res.stoppedBy}); best epoch ${res.bestEpoch + 1}: val loss ${best?.val_loss.toFixed(4)}, val MAE ${best?.val_mae.toFixed(2)} nodes, coverage ${best ? (100 * best.val_coverage).toFixed(1) : '-'}%`,
      ];
      if (res.beatsUntrained === false)
        lines.push(
          `warning: no epoch beat the untrained model (persistence) on validation ${res.untrained ? `(val MAE ${res.untrained.val_mae.toFixed(2)} nodes)` : ''}`,
        );
      const sh = res.shrink;
      if (sh) {
        const a = sh.alpha;
        const mean = a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
        lines.push(
          `shrinkage toward persistence (validation): α mean ${mean.toFixed(2)} (h=1 ${a[0]}, h=${a.length} ${a[a.length - 1]}); val MAE ${sh.val_mae_before.toFixed(2)} → ${sh.val_mae_after.toFixed(2)} nodes (persistence ${sh.val_mae_persistence.toFixed(2)}), coverage ${(100 * sh.val_coverage_before).toFixed(1)}% → ${(100 * sh.val_coverage_after).toFixed(1)}%`,
        );
      }
      lines.push(`model: ${opts.out}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
