/**
 * The live power trial: a real trace's job stream replayed on the test Slurm (scripts/services/up.sh) in
 * compressed time, measured from Slurm itself, arm by arm, next to its digital twin (`pcm power replay`'s
 * scheduler on the same unscaled slice). docs/benchmarks.md, "Live trial on the test Slurm".
 *
 *   node --import tsx bench/studies/live-trial.ts KTH_SWF [--trace-nodes 100] [--ppn 1] [--hours 20]
 *     [--scale 60] [--arms predictive,always_on,reactive,reactive2400,reactive_exc2] [--controller CMD]
 *     [--target-util 0.6] [--start EPOCH] [--history-days 28] [--boot-delay 5] [--suspend-timeout 1]
 *     [--sample 0.5] [--out FILE.json]
 *
 * KTH_SWF = KTH-SP2-1996-2.1-cln.swf.gz (100 nodes). Arms (harness/live-trial/arms.ts): always_on;
 * reactive[<SuspendTime s>][_exc<N>] (Slurm's own power saving, SuspendTime 600 s unless given); predictive
 * (`pcm power run --policy predictive`, fed the forecast of a ridge fitted on the `--history-days` before the
 * slice, harness/live-trial/feeder.ts). `--controller CMD` adds an arm that runs CMD (sh -c) for the arm's
 * length on a Slurm without its own power saving (PCM_TRIAL_SCALE, PCM_TRIAL_ORIGIN, PCM_TRIAL_WALL_START in
 * its env).
 * Needs root and the env up.sh wrote (source .pcm/services/env.sh); Slurm is restarted per arm and left with
 * its defaults. `--twin-grid` runs the twin alone (no Slurm): the static settings grid, its frontier, and the
 * predictive arm against it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Arm, parseArm } from '../../harness/live-trial/arms.js';
import { trialStream } from '../../harness/live-trial/stream.js';
import { type ArmReport, runTrial, trialPredictive } from '../../harness/live-trial/trial.js';
import { runTwin, type TwinResult, trialModel } from '../../harness/live-trial/twin.js';
import { openJobSource } from '../../src/jobs/open.js';
import { bootWaitAtSaving, paretoFrontier } from '../../src/power/frontier.js';
import { energyJ, J_PER_KWH } from '../../src/power/watts.js';
import { replayJobs } from '../../src/sim/replay.js';
import { numArg, positionals, strArg, usage } from '../lib/args.js';

const VALUED = [
  'trace-nodes',
  'ppn',
  'hours',
  'scale',
  'arms',
  'controller',
  'target-util',
  'start',
  'history-days',
];
VALUED.push('boot-delay', 'suspend-timeout', 'sample', 'out');
const [trace] = positionals(VALUED);
const twinGrid = process.argv.includes('--twin-grid');
if (!trace || (!twinGrid && !process.env.SLURM_CONF)) {
  usage(import.meta.url, 'KTH_SWF [--hours 20] [--scale 60] [--arms always_on,reactive,reactive_exc2] ...', [
    'KTH_SWF: KTH-SP2-1996-2.1-cln.swf.gz from the Parallel Workloads Archive (any SWF or job CSV works)',
    'needs the test Slurm: bash scripts/services/up.sh && source .pcm/services/env.sh',
  ]);
}
const scale = numArg('scale', 60);
const hours = numArg('hours', 20);
const nodes = 16;
const arms: Arm[] = strArg('arms', 'always_on,reactive,reactive_exc2').split(',').map(parseArm);
const controller = strArg('controller');
if (controller) arms.push(parseArm(`external:${controller}`));
const timing = {
  scale,
  bootDelayS: numArg('boot-delay', 5),
  suspendTimeoutS: numArg('suspend-timeout', 1),
};
const src = await openJobSource(trace, { ppn: numArg('ppn', 1) });
const { jobs } = await replayJobs(src.jobs, numArg('trace-nodes', 100));
const startArg = strArg('start');
const stream = trialStream(jobs, {
  fromNodes: numArg('trace-nodes', 100),
  toNodes: nodes,
  hours,
  targetUtil: numArg('target-util', 0.6),
  start: startArg === undefined ? undefined : Number(startArg),
  historyDays: numArg('history-days', 28),
});
const log = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`);
log(
  `slice ${new Date(stream.start * 1000).toISOString()} + ${hours} h: ${stream.jobs.length} jobs, ` +
    `rescaled demand ${(100 * stream.util).toFixed(1)} % of ${nodes} nodes; scale ${scale}`,
);
if (twinGrid) {
  await printTwinGrid();
  process.exit(0);
}
const reports = await runTrial(stream, arms, timing, { nodes, sampleS: numArg('sample', 0.5), log });
const out = strArg('out');
const result = {
  trace,
  slice: { start: stream.start, hours, jobs: stream.jobs.length, util: stream.util },
  timing,
  reports,
};
if (out) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
printTable(reports);

function printTable(rs: ArmReport[]): void {
  const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '-' : x.toFixed(d));
  console.log(
    'arm | live saved % (unscalable hold out) | twin saved % (slurm / recent) | live boot wait s (launch lag unscaled / all scaled) | twin boot wait s (slurm / recent) | live delayed / started | twin delayed / started (slurm)',
  );
  for (const r of rs) {
    const s = r.twin.slurm;
    const c = r.twin.recent;
    console.log(
      `${r.arm} | ${f(r.live.saved_pct, 2)}${r.live.saved_pct_held_out ? ` (${f(r.live.saved_pct_held_out[0], 2)}–${f(r.live.saved_pct_held_out[1], 2)})` : ''} | ${f(s?.saved_pct, 2)} / ${f(c?.saved_pct, 2)} | ${f(r.live.mean_boot_wait_s)} / ${f(r.live.mean_raw_boot_wait_s)} | ` +
        `${f(s?.mean_boot_wait_s)} / ${f(c?.mean_boot_wait_s)} | ${r.live.jobs_delayed} / ${r.live.jobs_started} | ${s?.jobs_delayed ?? '-'} / ${s?.jobs_started ?? '-'}`,
    );
  }
  for (const r of rs) {
    const c = r.live.controller;
    if (!c) continue;
    console.log(
      `${r.arm}: pcm power run ${JSON.stringify(c.totals)}; forecasts fed ${c.feed.minutes}, ` +
        `at most ${c.feed.max_lag_s.toFixed(2)} s late, errors ${c.feed.errors.length}`,
    );
  }
}

/**
 * `--twin-grid` (no Slurm needed): the twin alone, in Slurm's allocation order, for the static settings a site
 * has (SuspendTime x SuspendExcNodes) and the predictive arm; the static Pareto frontier, and its boot wait at
 * the predictive arm's saving (src/power/frontier.ts, as `pcm power plan` reads it).
 */
async function printTwinGrid(): Promise<void> {
  const model = trialModel(timing);
  const kwh = (r: TwinResult) => energyJ(model, r.seconds) / J_PER_KWH;
  const fig = (r: TwinResult, base: number) => ({
    saved_pct: (100 * (base - kwh(r))) / base,
    mean_boot_wait_s: r.waits.reduce((a, b) => a + b, 0) / Math.max(1, r.waits.length),
  });
  const twin = (arm: Arm, predictive?: Parameters<typeof runTwin>[3]['predictive']) =>
    runTwin(stream, arm, timing, { nodes, order: 'slurm', predictive }) as Promise<TwinResult>;
  const base = kwh(await twin(parseArm('always_on')));
  const grid: Array<{ setting: string; saved_pct: number; mean_boot_wait_s: number }> = [];
  for (const st of [60, 120, 300, 600, 1200, 1800, 2400, 3600, 5400, 7200]) {
    for (const exc of [0, 1, 2, 4]) {
      const name = `reactive${st}${exc ? `_exc${exc}` : ''}`;
      grid.push({ setting: name, ...fig(await twin(parseArm(name)), base) });
    }
  }
  const pred = await trialPredictive(stream, timing, nodes, mkdtempSync(join(tmpdir(), 'pcm-twin-grid-')));
  const pr = fig(await twin(parseArm('predictive'), pred), base);
  const front = paretoFrontier(grid);
  const f = (x: number) => x.toFixed(2);
  console.log('twin, allocation order slurm: setting | saved % | mean boot wait s | on the static frontier');
  for (const g of grid)
    console.log(
      `${g.setting} | ${f(g.saved_pct)} | ${f(g.mean_boot_wait_s)} | ${front.includes(g) ? 'yes' : ''}`,
    );
  const w = bootWaitAtSaving(front, pr.saved_pct);
  console.log(
    `predictive | ${f(pr.saved_pct)} | ${f(pr.mean_boot_wait_s)} | static frontier at that saving: ${f(w)} s ` +
      `(predictive's wait ${f((100 * pr.mean_boot_wait_s) / w)} % of it)`,
  );
}
