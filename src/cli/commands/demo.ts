import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Document, isSeq, parse, visit } from 'yaml';
import { DEFAULT_SERVICE_PORT } from '../../config/schema.js';
import { rescaleSimulator } from '../../sim/rescale.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { probePort } from '../listen.js';
import { configOption, intOption, numberOption } from '../options.js';
import { prepareDemoDir } from './demo-dir.js';
import { FEED_SPEED } from './serve.js';

/**
 * `pcm demo` (what `npm start` runs): the main job end to end on an embedded default, as a sequence of
 * ordinary `pcm` sub-commands in one working directory. Each step is skipped when its output is already
 * there, so re-running reuses the simulated history and the trained model; the directory records the
 * options it was built with (demo-dir.ts), and other options are refused unless `--rebuild`.
 *
 *   1. simulate  a year of a 120-node cluster          -> DIR/timeline.csv (+ DIR/jobs.csv)
 *   2. train     the forecaster on it                 -> DIR/model/ (with training-curves.svg)
 *   3. evaluate  it next to the baselines              -> table on stdout, DIR/eval.json, DIR/plots/*.svg
 *   4. serve     the API and dashboard on a live simulated feed (until Ctrl-C)
 *
 * The workload is a twin of a real cluster's (the KTH SP2 log), rescaled to --nodes, and the model a half-width
 * one trained for a fixed number of epochs: config/demo-workload.yaml says what and why.
 */

interface DemoOptions {
  dir: string;
  nodes: number;
  days: number;
  seed: number;
  trainMinutes: number;
  port: number;
  speed: number;
  serve: boolean;
  rebuild: boolean;
}

/**
 * The demo's recipe: bump it when the demo's workload or model settings change in code, so that a
 * directory built by an earlier recipe is not silently reused (demo-dir.ts compares it like an option).
 */
const RECIPE = 2;

/** Where the demo serves (its config's Predictor.URL host). */
const DEMO_HOST = '127.0.0.1';

/** config/demo-workload.yaml: from dist/cli/commands or src/cli/commands, three levels up. */
const WORKLOAD_FILE = new URL('../../../config/demo-workload.yaml', import.meta.url);

/** The demo's Simulator (rescaled to `nodes`), Model and Train sections as YAML, number lists on one line. */
function demoWorkloadYaml(nodes: number): string {
  const w = parse(readFileSync(WORKLOAD_FILE, 'utf8')) as Record<string, Record<string, unknown>>;
  const doc = new Document({
    Simulator: rescaleSimulator(w.Simulator, nodes),
    Model: w.Model,
    Train: w.Train,
  });
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node)) node.flow = true;
    },
  });
  doc.commentBefore = ` The demo's workload and model: config/demo-workload.yaml (a twin of the KTH SP2 log's workload, rescaled to ${nodes} nodes)`;
  return doc.toString({ lineWidth: 0 });
}

/** The demo's config: the defaults plus the working directory's model, the cluster, its workload and model. */
function demoConfigYaml(o: Pick<DemoOptions, 'nodes' | 'port'>): string {
  return [
    '# Config of `pcm demo` (npm start). Edit and re-run; see config/pcm.example.yaml for every key.',
    'Predictor:',
    `  URL: "http://${DEMO_HOST}:${o.port}"`,
    '  CheckpointFile: "model"   # relative to this file\'s directory when run by pcm demo',
    '  ForecastMinutes: 30',
    '  LookbackMinutes: 240',
    'Cluster:',
    '  Name: demo',
    `  Nodes: ${o.nodes}`,
    '  CpusPerNode: 32',
    '  TimeZone: Europe/Berlin',
    '  HolidayCountry: DE',
    demoWorkloadYaml(o.nodes),
  ].join('\n');
}

/**
 * One line on what the trained model does at the last horizon of the test window, from the evaluation's
 * JSON: better than persistence, or not (then it serves persistence where it learned nothing).
 */
function verdict(evalJson: string): string {
  const e = JSON.parse(readFileSync(evalJson, 'utf8')) as {
    horizons: number[];
    models: Record<string, { mae: number[]; rmse: number[] }>;
  };
  const k = e.horizons.length - 1;
  const h = e.horizons[k];
  const n = e.models.neural;
  const p = e.models.persistence;
  if (!n || !p) return 'pcm demo: no trained model was evaluated';
  const r = n.mae[k] / p.mae[k];
  const figures = `P50 MAE ${n.mae[k].toFixed(2)} vs persistence ${p.mae[k].toFixed(2)} nodes (${r.toFixed(3)}x), RMSE ${n.rmse[k].toFixed(2)} vs ${p.rmse[k].toFixed(2)}`;
  return r < 1
    ? `pcm demo: the trained forecaster beats persistence ${h} minutes ahead on the test window: ${figures}`
    : `pcm demo: the trained forecaster does not beat persistence ${h} minutes ahead on the test window (${figures}); where it learned nothing it serves persistence (docs/model.md, shrinkage)`;
}

async function step(title: string, args: string[]): Promise<void> {
  process.stderr.write(`\n== pcm demo: ${title}\n   pcm ${args.join(' ')}\n`);
  // the sub-commands are the real CLI commands, run in this process (main.ts imports this module)
  const { buildProgram } = await import('../main.js');
  const program = buildProgram();
  program.exitOverride();
  await program.parseAsync(['node', 'pcm', ...args]);
}

async function demo(o: DemoOptions): Promise<void> {
  const dir = resolve(o.dir);
  // a taken port fails now, not after the minutes of simulation and training before the serve step
  if (o.serve) await probePort(DEMO_HOST, o.port, 'choose another with --port N (npm start -- --port N)');
  mkdirSync(dir, { recursive: true });
  const build = {
    nodes: o.nodes,
    days: o.days,
    seed: o.seed,
    'train-minutes': o.trainMinutes,
    recipe: RECIPE,
  };
  const state = prepareDemoDir(dir, o.dir, build, o.rebuild);
  if (state === 'rebuilt') process.stderr.write(`pcm demo: --rebuild: ${dir} emptied of the demo's files\n`);
  const config = join(dir, 'config.yaml');
  if (!existsSync(config)) writeFileAtomicSync(config, demoConfigYaml(o));
  const timeline = join(dir, 'timeline.csv');
  const model = join(dir, 'model');
  process.stderr.write(`pcm demo: working directory ${dir}\n`);

  if (existsSync(timeline)) process.stderr.write(`\n== pcm demo: simulate: reusing ${timeline}\n`);
  else
    await step(`simulate ${o.days} days of a ${o.nodes}-node cluster`, [
      'simulate',
      '--config',
      config,
      '--nodes',
      String(o.nodes),
      '--days',
      String(o.days),
      '--seed',
      String(o.seed),
      '--out-jobs',
      join(dir, 'jobs.csv'),
      '--out-timeline',
      timeline,
    ]);

  const haveModel = existsSync(join(model, 'model.json'));
  if (haveModel) process.stderr.write(`\n== pcm demo: train: reusing ${model}\n`);
  else
    await step(`train the forecaster (at most ${o.trainMinutes} min)`, [
      'train',
      '--timeline',
      timeline,
      '--out',
      model,
      '--config',
      config,
      '--max-minutes',
      String(o.trainMinutes),
    ]);

  await step('evaluate against the baselines', [
    'evaluate',
    '--timeline',
    timeline,
    '--model',
    model,
    '--config',
    config,
    '--stride',
    '5',
    '--json',
    join(dir, 'eval.json'),
    '--plots',
    join(dir, 'plots'),
  ]);
  process.stderr.write(`\n${verdict(join(dir, 'eval.json'))}\n`);

  if (!o.serve) return;
  process.chdir(dir); // Predictor.CheckpointFile "model" is relative to the working directory
  await step('serve the API and dashboard on a live simulated feed (Ctrl-C to stop)', [
    'serve',
    '--config',
    config,
    '--speed',
    String(o.speed),
    '--port',
    String(o.port),
  ]);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job on an embedded default: simulate a cluster, build its timeline, train and evaluate the forecaster against the baselines, then serve the API and dashboard on a live simulated feed',
    )
    .option(
      '--dir <dir>',
      'working directory (re-running with the same options reuses what is there)',
      'pcm-demo',
    )
    .addOption(configOption('--nodes <n>', 'cluster nodes', 'Cluster.Nodes', { fallback: 120 }))
    .addOption(
      configOption('--days <d>', 'days of simulated history', 'Simulator.Days', {
        unit: 'days',
        fallback: 365,
      }),
    )
    .addOption(configOption('--seed <s>', 'simulation seed', 'Simulator.Seed', { fallback: 1 }))
    .addOption(
      configOption(
        '--train-minutes <m>',
        'training time cap in minutes (0 = none); training runs Train.Epochs of the demo config unless the cap stops it first',
        'Train.MaxMinutes',
        { fallback: 6 },
      ),
    )
    .addOption(
      intOption('--port <p>', 'port of the service', { minimum: 1, maximum: 65_535 }, DEFAULT_SERVICE_PORT),
    )
    .addOption(
      numberOption('--speed <n>', 'live feed speed: simulated minutes per wall minute', FEED_SPEED, 1),
    )
    .option('--no-serve', 'stop after the evaluation')
    .option('--rebuild', 'start the directory over when it was built with other options')
    .action(demo);
}
