import { availableParallelism } from 'node:os';
import { type ForecasterSpec, openForecaster } from '../model/open.js';
import { UserError } from '../util/errors.js';
import { spawnModuleWorker } from '../util/worker.js';
import {
  bootWaitAtSaving,
  type Constraint,
  paretoFrontier,
  recommend,
  savingAtBootWait,
} from './frontier.js';
import type { PlanTask, PlanWorkerReply } from './plan-worker.js';
import {
  type PointFigures,
  type PowerReplayOptions,
  prepareForecaster,
  type ReplayBase,
  replayBase,
  runPoint,
} from './replay.js';

/**
 * `pcm power plan`: the best slurm.conf power settings from a site's own history. Every point of the grid
 * SuspendTime x SuspendExcNodes count is replayed (the reactive policy, ./policies/reactive.ts, on the
 * power replay, ./replay.ts), and so is the predictive policy at each margin and the oracle; the static
 * points' Pareto frontier is what a site can already have from slurm.conf, so the predictive policy is
 * judged against it at equal saving.
 *
 * The replays are independent: they run on worker threads (./plan-worker.ts), each of which makes the shared
 * start (the always-on runs, the split) once and fits the forecaster once, on its first predictive point.
 * Every figure is the same for any number of workers. Forecasts are not shared between margins: each
 * predictive run forecasts from its own live timeline, which its own boots shape.
 */

/** What a worker needs to rebuild the replay: plain data only (it crosses a thread boundary). */
export interface PlanSpec
  extends Omit<PowerReplayOptions, 'policies' | 'forecaster' | 'sweep' | 'onProgress'> {
  /** The predictive policy's forecaster; null = no predictive points. */
  forecaster: ForecasterSpec | null;
}

export interface PlanGrid {
  suspendTimes: number[];
  excNodes: number[];
  /** Predictive margins (empty = no predictive curve). */
  margins: number[];
  /** Predictive MinIdleSeconds values, each run with every margin (default: the configured one). */
  minIdle?: number[];
}

/** One static setting's figures. */
export interface StaticPoint extends PointFigures {
  suspend_time_s: number;
  exc_nodes: number;
}

/** One predictive margin's figures, and the static frontier's boot wait at the same saving. */
export interface PredictivePoint extends PointFigures {
  margin: number;
  min_idle_s: number;
  /** The frontier's mean boot wait at this point's saving (NaN = outside the frontier's savings). */
  frontier_boot_wait_s: number;
  /** This point's boot wait / that (NaN when the frontier does not reach this saving). */
  boot_wait_ratio: number;
}

export interface PlanResult {
  nodes: number;
  window: { start: number; end: number; jobs: number; train_minutes: number };
  all_idle_off_saved_pct: number;
  oracle: PointFigures;
  grid: StaticPoint[];
  frontier: StaticPoint[];
  predictive: PredictivePoint[];
  /** The predictive points no other predictive point beats (its curve, over all its knobs). */
  predictive_frontier: PredictivePoint[];
  constraint: Constraint;
  recommendation: {
    point: StaticPoint;
    /** False when no frontier point meets the constraint (the nearest one is given). */
    met: boolean;
    /**
     * What the predictive controller adds on top of the recommended setting (interpolated on its own
     * frontier): seconds of mean boot wait less at the same saving, points of saving more at the same wait.
     * NaN where its curve does not reach; negative = it does worse.
     */
    predictive_wait_less_s: number;
    predictive_saving_more_pts: number;
    /** The predictive policy's own best setting (margin, MinIdleSeconds) for the same constraint. */
    predictive: { point: PredictivePoint; met: boolean } | null;
  } | null;
  runs: number;
  workers: number;
}

/**
 * Default grid: Slurm's usual timeouts x 0 and powers of two up to about a tenth of the nodes; the predictive
 * policy's margins x its MinIdleSeconds (docs/benchmarks.md, "Power plan").
 */
export function defaultGrid(nodes: number): PlanGrid {
  const exc = [0];
  for (let n = 1; n <= Math.max(2, Math.floor(nodes / 10)); n *= 2) exc.push(n);
  return {
    suspendTimes: [60, 120, 300, 600, 1200, 1800, 3600],
    excNodes: exc,
    margins: [0, 1, 2, 4, 8],
    // the predictive policy's idle timeout: measured to move its curve down on all four public traces
    minIdle: [0, 600, 1800],
  };
}

/** The replay options a worker (or the main thread) runs with. */
export function replayOptions(spec: PlanSpec): PowerReplayOptions {
  const f = spec.forecaster;
  return {
    ...spec,
    policies: [],
    forecaster: f ? { make: () => openForecaster(f), fit: !('dir' in f) } : undefined,
    // without the predictive policy nothing is trained: the whole history is the evaluation window
    trainFraction: f ? spec.trainFraction : 0,
  };
}

/** Runs tasks on one prepared replay: the shared start once, the forecaster on the first predictive task. */
export class PlanRunner {
  private base: ReplayBase | null = null;
  private fitted = false;

  constructor(private readonly spec: PlanSpec) {}

  async start(): Promise<ReplayBase> {
    this.base ??= await replayBase(replayOptions(this.spec));
    return this.base;
  }

  async run(t: PlanTask): Promise<PointFigures> {
    const base = await this.start();
    if (t.policy === 'predictive' && !this.fitted) {
      await prepareForecaster(base);
      this.fitted = true;
    }
    return runPoint(base, t.policy, t.knobs);
  }
}

/** The grid as tasks, the longest (predictive) first so that the workers finish together. */
function tasksOf(grid: PlanGrid, withPredictive: boolean): PlanTask[] {
  const tasks: PlanTask[] = [];
  if (withPredictive)
    for (const mi of grid.minIdle ?? [undefined])
      for (const m of grid.margins) tasks.push({ policy: 'predictive', knobs: { margin: m, minIdleS: mi } });
  tasks.push({ policy: 'oracle', knobs: {} });
  for (const st of grid.suspendTimes)
    for (const n of grid.excNodes)
      tasks.push({ policy: 'reactive', knobs: { suspendTime: st, excNodes: n } });
  return tasks;
}

/** The window and bound every point shares. */
export interface PlanSummary {
  window: PlanResult['window'];
  all_idle_off_saved_pct: number;
}

export function summaryOf(base: ReplayBase): PlanSummary {
  return {
    window: {
      start: base.ctx.window.start,
      end: base.ctx.window.end,
      jobs: base.windowJobs,
      train_minutes: base.trainRows,
    },
    all_idle_off_saved_pct: Math.round(10_000 * (1 - base.ideal / base.aoE)) / 100,
  };
}

/** Run the tasks on `workers` threads (in this thread for 1); results in task order. */
async function runTasks(
  spec: PlanSpec,
  tasks: PlanTask[],
  workers: number,
  onDone: (t: PlanTask) => void,
): Promise<{ summary: PlanSummary; points: PointFigures[] }> {
  const points: PointFigures[] = new Array(tasks.length);
  if (workers <= 1) {
    const runner = new PlanRunner(spec);
    const summary = summaryOf(await runner.start());
    for (const [i, t] of tasks.entries()) {
      points[i] = await runner.run(t);
      onDone(t);
    }
    return { summary, points };
  }
  let next = 0;
  let summary: PlanSummary | null = null;
  const entry = new URL(
    import.meta.url.endsWith('.ts') ? './plan-worker.ts' : './plan-worker.js',
    import.meta.url,
  );
  const pool = Array.from({ length: workers }, () => spawnModuleWorker(entry.href, spec));
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            let finished = false;
            const feed = () => {
              if (next >= tasks.length) {
                finished = true;
                resolve();
                return;
              }
              const id = next++;
              w.postMessage({ id, task: tasks[id] });
            };
            w.on('message', (m: PlanWorkerReply) => {
              if (m.type === 'error') reject(m.user ? new UserError(m.message) : new Error(m.message));
              else if (m.type === 'ready') {
                summary ??= m.summary;
                feed();
              } else {
                points[m.id] = m.point;
                onDone(tasks[m.id]);
                feed();
              }
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (!finished) reject(new Error(`power plan: a worker stopped (exit code ${code})`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  if (!summary) throw new Error('power plan: no worker started');
  return { summary, points };
}

/** Replay the grid and judge the predictive policy against the static frontier. */
export async function powerPlan(
  spec: PlanSpec,
  grid: PlanGrid,
  constraint: Constraint,
  opts: { workers?: number; onDone?: (t: PlanTask) => void } = {},
): Promise<PlanResult> {
  if (grid.suspendTimes.length === 0 || grid.excNodes.length === 0)
    throw new UserError('power plan: the grid needs at least one SuspendTime and one SuspendExcNodes count');
  for (const n of grid.excNodes)
    if (n >= spec.nodes)
      throw new UserError(`--exc-nodes: ${n} is not below the cluster's ${spec.nodes} nodes`);
  const withPredictive = spec.forecaster !== null && grid.margins.length > 0;
  const tasks = tasksOf(grid, withPredictive);
  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), tasks.length));
  const { summary, points } = await runTasks(spec, tasks, workers, opts.onDone ?? (() => {}));

  const staticPts: StaticPoint[] = [];
  const predictive: Array<PointFigures & { min_idle_s: number }> = [];
  let oracle: PointFigures | null = null;
  for (const [i, t] of tasks.entries()) {
    if (t.policy === 'reactive')
      staticPts.push({ ...points[i], suspend_time_s: t.knobs.suspendTime!, exc_nodes: t.knobs.excNodes! });
    else if (t.policy === 'predictive')
      predictive.push({ ...points[i], min_idle_s: t.knobs.minIdleS ?? spec.predictive.minIdleS ?? 0 });
    else oracle = points[i];
  }
  const frontier = paretoFrontier(staticPts);
  const r4 = (v: number) => Math.round(v * 10_000) / 10_000;
  const pred: PredictivePoint[] = predictive.map((p) => {
    const ref = bootWaitAtSaving(frontier, p.saved_pct);
    return {
      ...p,
      margin: p.knob,
      frontier_boot_wait_s: Math.round(ref * 100) / 100,
      boot_wait_ratio: ref > 0 ? r4(p.mean_boot_wait_s / ref) : Number.NaN,
    };
  });
  // the predictive policy's own best settings (over margins and MinIdleSeconds): a curve to read off
  const predFrontier = paretoFrontier(pred);
  const rec = recommend(frontier, constraint);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    nodes: spec.nodes,
    ...summary,
    oracle: oracle!,
    grid: staticPts,
    frontier,
    predictive: pred,
    predictive_frontier: predFrontier,
    constraint,
    recommendation: rec
      ? {
          point: rec.point,
          met: rec.met,
          predictive_wait_less_s: r2(
            rec.point.mean_boot_wait_s - bootWaitAtSaving(predFrontier, rec.point.saved_pct),
          ),
          predictive_saving_more_pts: r2(
            savingAtBootWait(predFrontier, rec.point.mean_boot_wait_s) - rec.point.saved_pct,
          ),
          predictive: recommend(predFrontier, constraint),
        }
      : null,
    runs: tasks.length,
    workers,
  };
}
