import { FEATURE_NAMES, type FeatureOptions } from '../model/features.js';
import type { Forecaster } from '../model/forecaster.js';
import { LiveFeatures } from '../model/live-features.js';
import type { SimJob } from '../sim/job.js';
import { LiveTimeline } from '../timeline/live-timeline.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { mean, quantile, std } from '../util/stats.js';
import { PowerSim } from './cluster.js';
import type { ReactiveConfig } from './config.js';
import { bootWaitAtSaving } from './frontier.js';
import { calibratePeak, fitOnPrefix, OnlineForecast } from './online-forecast.js';
import type { PeakBand } from './peak-band.js';
import { AlwaysOn } from './policies/always-on.js';
import { oraclePolicy, StepPeak } from './policies/oracle.js';
import { bootSlackS, predictivePolicy } from './policies/predictive.js';
import { Reactive } from './policies/reactive.js';
import type { UserChainsOptions } from './policies/user-chains.js';
import type { PowerPolicy } from './policy.js';
import { energyJ, J_PER_KWH, type NodePowerModel } from './watts.js';

/**
 * The energy replay: a real trace's jobs scheduled by the power-aware EASY scheduler (./cluster.ts) under
 * each policy, compared with always-on on the same jobs.
 *
 * - Time split: the first `trainFraction` of the always-on run's minutes is the training prefix (the forecaster
 *   is fitted on the always-on live timeline of those minutes only); every figure is taken over the
 *   evaluation window after it (energy integrated over the window, jobs submitted in it), for every policy.
 * - Predictive forecasts come online from the policy's own live timeline, rows <= now only (./live.ts).
 * - The oracle knows the always-on run's nodes-held series of the same jobs (perfect demand foresight).
 * - Added wait per job = wait under the policy - wait under always-on, paired job by job. Because one second
 *   of run-time noise reshuffles EASY schedules, it is reported over `jitterSeeds` paired replays whose run
 *   times are jittered by +-1 s (both sides of a pair get the same jitter): mean and spread over the pairs.
 *   The boot wait (time a job waits, once given nodes, for them to boot) is the low-noise delay measure.
 * Over 450 lines as one unit: the replay's runs (always-on, each policy, jitter pairs, sweeps) share one
 * context and one set of figures; splitting them would pass that context through every function.
 */

export type PolicyName = 'always_on' | 'reactive' | 'predictive' | 'oracle';
export const POLICY_NAMES: readonly PolicyName[] = ['always_on', 'reactive', 'predictive', 'oracle'];

export interface PolicyFigures {
  energy_kwh: number;
  saved_pct: number;
  node_hours_off: number;
  boots: number;
  mean_boot_wait_s: number;
  /** Mean over the jittered pairs of the mean added wait per job (s). */
  mean_added_wait_s: number;
  /** Standard deviation of that mean over the pairs. */
  mean_added_wait_spread_s: number;
  /** Per-pair mean added wait (s), for the record. */
  mean_added_wait_pairs_s: number[];
  p95_added_wait_s: number;
  jobs_delayed_300s_pct: number;
  /** The policy's knob at this run (SuspendTime s, margin nodes). */
  knob?: { name: string; value: number };
}

export interface CurvePoint {
  knob: number;
  saved_pct: number;
  mean_boot_wait_s: number;
}

export interface SampleSeries {
  t: number[];
  powered: number[];
  busy: number[];
}

export interface PowerReplayResult {
  policies: Partial<Record<PolicyName, PolicyFigures>>;
  curves: { reactive: CurvePoint[]; predictive: CurvePoint[] };
  window: { start: number; end: number; jobs: number; train_minutes: number };
  /** Saving if every idle node-second of always-on were spent off at no cost (the bound). */
  all_idle_off_saved_pct: number;
  forecaster: string | null;
  /** Whether the predictive policy met the target on this trace (null when not run). */
  target: TargetCheck | null;
  /** Powered vs busy nodes over the sample week, per policy. */
  sample: Partial<Record<PolicyName, SampleSeries>>;
  model: NodePowerModel;
  nodes: number;
}

export interface TargetCheck {
  /** predictive saving / oracle saving. */
  oracle_ratio: number;
  /** mean_boot_wait_s of the reactive timeout saving as much (interpolated on its curve; NaN if none does). */
  reactive_equal_saving_boot_wait_s: number;
  /** predictive boot wait / that. */
  boot_wait_ratio: number;
  met: boolean;
  /**
   * The best point of the predictive curve for the target: the lowest boot-wait ratio among margins that keep
   * >= 90 % of the oracle's saving (null when no margin does).
   */
  best_on_curve: { knob: number; oracle_ratio: number; boot_wait_ratio: number; met: boolean } | null;
}

export interface PowerReplayOptions {
  jobs: SimJob[];
  nodes: number;
  /** CPUs in the cluster (cpu_util of the live timeline). */
  totalCpus: number;
  model: NodePowerModel;
  reactive: ReactiveConfig;
  predictive: {
    margin: number;
    peakQuantile: number;
    intervalS: number;
    minIdleS?: number;
    /** Users' submission chains (./policies/user-chains.ts); null or windowS 0 = the forecast alone. */
    chains?: UserChainsOptions | null;
  };
  policies: readonly PolicyName[];
  /** Makes the predictive policy's forecaster; `fit` false for a trained model loaded from disk. */
  forecaster?: { make: () => Forecaster | Promise<Forecaster>; fit: boolean };
  horizon?: number;
  trainFraction?: number;
  features?: FeatureOptions;
  jitterSeeds?: number;
  /** Knob values for the trade-off curves (empty = no curve). */
  sweep?: { reactive: number[]; predictive: number[] };
  /** Oracle decision interval (s); default 10. */
  oracleIntervalS?: number;
  onProgress?: (what: string) => void;
  /** Wraps each run's policy, e.g. to record its decisions (the controller identity test). */
  tap?: (policy: PowerPolicy) => PowerPolicy;
}

export const DEFAULT_SWEEP = {
  reactive: [60, 120, 300, 600, 1200, 1800, 3600],
  predictive: [0, 1, 2, 3, 4, 6, 8, 12],
};

/** One run's raw outcome. */
interface Run {
  sim: PowerSim;
  energyJ: number;
}

interface Context {
  o: PowerReplayOptions;
  window: { start: number; end: number };
  sample: { start: number; end: number };
  forecaster: Forecaster | null;
  band: PeakBand | null;
  /** How the live features are built (the config's, or a loaded model's own spec). */
  features: FeatureOptions;
}

/** A copy of the jobs with run times jittered by a uniform amount in [-amp, amp] s (never below 0). */
function jitterJobs(jobs: readonly SimJob[], seed: number, amp = 1): SimJob[] {
  const rng = new Rng(seed);
  return jobs.map((j) => ({ ...j, runtime: Math.max(0, j.runtime + rng.range(-amp, amp)) }));
}

/** Change points of the nodes held by jobs in a finished run (for the oracle). */
export function demandSteps(sim: PowerSim): StepPeak {
  const ev: Array<[number, number]> = [];
  for (let j = 0; j < sim.n; j++) {
    if (Number.isNaN(sim.alloc[j])) continue;
    // a zero-length job still needs its nodes at its instant: hold them for a second
    ev.push([sim.alloc[j], sim.need[j]], [Math.max(sim.end[j], sim.alloc[j] + 1), -sim.need[j]]);
  }
  ev.sort((a, b) => a[0] - b[0]);
  const times: number[] = [];
  const values: number[] = [];
  let level = 0;
  for (let i = 0; i < ev.length; ) {
    const t = ev[i][0];
    while (i < ev.length && ev[i][0] === t) level += ev[i++][1];
    times.push(t);
    values.push(level);
  }
  return new StepPeak(Float64Array.from(times), Float64Array.from(values));
}

async function simulate(
  ctx: Context,
  jobs: SimJob[],
  policy: PowerPolicy,
  extra: { live?: LiveTimeline; forecast?: OnlineForecast; features?: LiveFeatures; trace?: boolean } = {},
): Promise<Run> {
  const { o } = ctx;
  const sim = new PowerSim(jobs, {
    nodes: o.nodes,
    model: o.model,
    policy: o.tap ? o.tap(policy) : policy,
    resumeRate: o.reactive.ResumeRate,
    suspendRate: o.reactive.SuspendRate,
    order: o.reactive.AllocationOrder,
    window: ctx.window,
    traceWindow: extra.trace ? ctx.sample : undefined,
    minuteHook: extra.live
      ? (s, t) => {
          extra.live!.write(s, t);
          if (extra.features) extra.features.update();
          return extra.forecast?.update();
        }
      : undefined,
  });
  await sim.runAll();
  return { sim, energyJ: energyJ(o.model, sim.seconds) };
}

function liveFor(ctx: Context, jobs: readonly SimJob[]): LiveTimeline {
  let first = Number.POSITIVE_INFINITY;
  for (const j of jobs) if (j.submit < first) first = j.submit;
  let last = first;
  for (const j of jobs) if (j.submit > last) last = j.submit;
  const end = Number.isFinite(ctx.window.end) ? ctx.window.end : last;
  const span = Math.max(16, Math.ceil((end - first) / 60) + 1440);
  return new LiveTimeline(Math.ceil(first / 60) * 60, ctx.o.nodes, ctx.o.totalCpus, span);
}

/** Boot lead for rate-limited boots (policies/predictive.ts). */
function bootSlack(o: PowerReplayOptions): number {
  return bootSlackS(o.nodes, o.reactive.ResumeRate);
}

/** A policy's knobs for one run; unset = the configured value. */
export interface Knobs {
  /** Reactive SuspendTime (s). */
  suspendTime?: number;
  /** Reactive SuspendExcNodes count. */
  excNodes?: number;
  /** Predictive margin (nodes). */
  margin?: number;
  /** Predictive MinIdleSeconds: power down only nodes idle at least this long. */
  minIdleS?: number;
}

/** Build the policy `name` for one run on `jobs` (whose always-on run is `base`). */
async function policyRun(
  ctx: Context,
  name: PolicyName,
  jobs: SimJob[],
  base: Run,
  knobs: Knobs,
  trace: boolean,
): Promise<Run> {
  const { o } = ctx;
  switch (name) {
    case 'always_on':
      return simulate(ctx, jobs, new AlwaysOn(), { trace });
    case 'reactive': {
      const cfg = {
        ...o.reactive,
        SuspendTime: knobs.suspendTime ?? o.reactive.SuspendTime,
        SuspendExcNodes: knobs.excNodes ?? o.reactive.SuspendExcNodes,
      };
      return simulate(ctx, jobs, new Reactive(cfg), { trace });
    }
    case 'oracle':
      return simulate(
        ctx,
        jobs,
        oraclePolicy(demandSteps(base.sim), o.model, o.oracleIntervalS ?? 10, bootSlack(o)),
        { trace },
      );
    case 'predictive': {
      if (!ctx.forecaster) throw new UserError('predictive: no forecaster');
      const live = liveFor(ctx, jobs);
      const features = new LiveFeatures(live, ctx.features);
      const fc = new OnlineForecast(ctx.forecaster, live, features, o.horizon ?? 30, ctx.band);
      const pol = predictivePolicy(
        fc,
        o.model,
        knobs.margin ?? o.predictive.margin,
        o.predictive.intervalS,
        knobs.minIdleS ?? o.predictive.minIdleS ?? 0,
        bootSlack(o),
        o.predictive.chains ?? null,
      );
      return simulate(ctx, jobs, pol, { live, features, forecast: fc, trace });
    }
  }
}

/** Paired added-wait figures of `run` against `base` over the jobs submitted in the window. */
function addedWaits(ctx: Context, run: Run, base: Run): Float64Array {
  const a = run.sim;
  const b = base.sim;
  const out: number[] = [];
  for (let j = 0; j < a.n; j++) {
    if (a.submit[j] < ctx.window.start || a.submit[j] >= ctx.window.end) continue;
    if (Number.isNaN(a.run[j]) || Number.isNaN(b.run[j])) continue;
    out.push(a.run[j] - a.submit[j] - (b.run[j] - b.submit[j]));
  }
  return Float64Array.from(out);
}

function meanBootWait(ctx: Context, run: Run): number {
  const s = run.sim;
  let sum = 0;
  let n = 0;
  for (let j = 0; j < s.n; j++) {
    if (s.submit[j] < ctx.window.start || s.submit[j] >= ctx.window.end || Number.isNaN(s.run[j])) continue;
    sum += s.run[j] - s.alloc[j];
    n++;
  }
  return n ? sum / n : 0;
}

/** A statistic of no samples (NaN) is reported as 0. */
const orZero = (v: number) => (Number.isNaN(v) ? 0 : v);
const r2 = (v: number) => Math.round(v * 100) / 100;
const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * The start every run shares: the always-on run over everything (its live timeline gives the span, the
 * train/evaluation split and the forecaster's training rows), then the always-on run within the window.
 */
export interface ReplayBase {
  ctx: Context;
  /** The always-on live timeline over the whole trace (training rows of the forecaster). */
  live0: LiveTimeline;
  trainRows: number;
  /** The always-on run within the window, and its energy (J). */
  ao: Run;
  aoE: number;
  /** Energy if every idle node-second of always-on were spent off at no cost (J). */
  ideal: number;
  /** Jobs submitted in the window. */
  windowJobs: number;
}

/** Steps 1 and 3 of the replay (always-on over everything, the split, always-on within the window). */
export async function replayBase(o: PowerReplayOptions): Promise<ReplayBase> {
  if (o.jobs.length === 0) throw new UserError('power replay: no jobs to replay');
  const horizon = o.horizon ?? 30;
  const trainFraction = o.trainFraction ?? 0.2;
  // 0 = no training prefix (no forecaster to fit): every figure is over the whole trace
  if (!(trainFraction >= 0 && trainFraction < 1) || (trainFraction === 0 && o.forecaster)) {
    throw new UserError(
      `--train-fraction: expected a number in (0, 1)${o.forecaster ? '' : ' or 0'}, got ${trainFraction}`,
    );
  }
  const progress = o.onProgress ?? (() => {});
  const ctx: Context = {
    o,
    window: { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY },
    sample: { start: 0, end: 0 },
    forecaster: null,
    band: null,
    features: { ...o.features, historyLead: o.features?.historyLead ?? horizon },
  };
  progress('always-on baseline');
  const live0 = liveFor(ctx, o.jobs);
  const ao0 = await simulate(ctx, o.jobs, new AlwaysOn(), { live: live0 });
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < ao0.sim.n; j++) if (ao0.sim.end[j] > lastEnd) lastEnd = ao0.sim.end[j];
  const trainRows = Math.round(trainFraction * live0.minutes);
  // no training prefix: the window opens at the first submission (the timeline's first row may be later)
  const start = trainRows === 0 ? Math.min(...o.jobs.map((j) => j.submit)) : live0.start + 60 * trainRows;
  if (!(lastEnd > start))
    throw new UserError('power replay: the trace is too short to split into training and evaluation');
  ctx.window = { start, end: lastEnd };
  // sample week: the middle of the evaluation window
  const mid = Math.floor((start + lastEnd) / 2 / 86400) * 86400;
  ctx.sample = { start: mid, end: Math.min(lastEnd, mid + 7 * 86400) };
  const ao = await simulate(ctx, o.jobs, new AlwaysOn(), { trace: true });
  const s = ao.sim.seconds;
  let windowJobs = 0;
  for (const j of o.jobs) if (j.submit >= start && j.submit < lastEnd) windowJobs++;
  return {
    ctx,
    live0,
    trainRows,
    ao,
    aoE: ao.energyJ,
    ideal: energyJ(o.model, { off: s.idle, boot: 0, idle: 0, busy: s.busy }),
    windowJobs,
  };
}

/** Step 2: the predictive policy's forecaster, fitted on the training prefix only, and its peak band. */
export async function prepareForecaster(base: ReplayBase): Promise<void> {
  const { ctx, live0, trainRows } = base;
  const { o } = ctx;
  const horizon = o.horizon ?? 30;
  const progress = o.onProgress ?? (() => {});
  if (!o.forecaster) throw new UserError('predictive: give a forecaster');
  const f = await o.forecaster.make();
  // a trained model brings its own feature spec: build the live features the same way
  const spec = f.window?.featureSpec;
  if (spec) {
    if (spec.names.join(',') !== FEATURE_NAMES.join(',')) {
      throw new UserError(
        `model ${f.name}: trained on features this build does not make (${spec.names.join(', ')})`,
      );
    }
    ctx.features = {
      timeZone: spec.timeZone,
      holidayCountry: spec.holidayCountry,
      historyLead: spec.historyLead,
    };
  }
  if (o.forecaster.fit) {
    progress(`fit ${f.name} on the first ${trainRows} minutes`);
    await fitOnPrefix(f, live0, trainRows, horizon, ctx.features);
  }
  ctx.forecaster = f;
  progress('calibrate the peak band');
  ctx.band = await calibratePeak(f, live0, trainRows, horizon, ctx.features, o.predictive.peakQuantile);
}

/** One unjittered run's figures for a trade-off curve or a plan's grid. */
export interface PointFigures extends CurvePoint {
  boots: number;
  node_hours_off: number;
  /** Jobs submitted in the window whose wait grew by >= 300 s against the unjittered always-on run (%). */
  jobs_delayed_300s_pct: number;
}

/** Run `name` with `knobs` on the trace (unjittered) and take its figures against the base's always-on run. */
export async function runPoint(
  base: ReplayBase,
  name: 'reactive' | 'predictive' | 'oracle',
  knobs: Knobs,
): Promise<PointFigures> {
  const { ctx, ao, aoE } = base;
  const run = await policyRun(ctx, name, ctx.o.jobs, ao, knobs, false);
  const added = addedWaits(ctx, run, ao);
  let delayed = 0;
  for (const w of added) if (w >= 300) delayed++;
  return {
    knob:
      name === 'reactive'
        ? (knobs.suspendTime ?? ctx.o.reactive.SuspendTime)
        : name === 'predictive'
          ? (knobs.margin ?? ctx.o.predictive.margin)
          : 0,
    saved_pct: r2(100 * (1 - run.energyJ / aoE)),
    mean_boot_wait_s: r2(meanBootWait(ctx, run)),
    boots: run.sim.boots,
    node_hours_off: r2(run.sim.seconds.off / 3600),
    jobs_delayed_300s_pct: r2(added.length ? (100 * delayed) / added.length : 0),
  };
}

/** Run the whole comparison. */
export async function powerReplay(o: PowerReplayOptions): Promise<PowerReplayResult> {
  const progress = o.onProgress ?? (() => {});
  // 1. always-on over everything: its live timeline gives the span, the split and the training rows
  const base = await replayBase(o);
  const { ctx, ao, aoE, trainRows } = base;
  const { start, end: lastEnd } = ctx.window;

  // 2. the forecaster, fitted on the training prefix only
  const policies = o.policies;
  if (policies.includes('predictive') || (o.sweep?.predictive.length ?? 0) > 0) await prepareForecaster(base);

  // 3. the unjittered runs: always-on (again, within the window) and each policy
  const seeds = Array.from({ length: o.jitterSeeds ?? 3 }, (_, k) => k + 1);
  const jittered = seeds.map((seed) => jitterJobs(o.jobs, seed));
  const aoJ: Run[] = [];
  for (const [k, jobs] of jittered.entries()) {
    progress(`always-on, jitter seed ${seeds[k]}`);
    aoJ.push(await simulate(ctx, jobs, new AlwaysOn()));
  }

  const figures = (
    run: Run,
    pairs: Float64Array[],
    knob?: { name: string; value: number },
  ): PolicyFigures => {
    const perPair = pairs.map((w) => orZero(mean(w)));
    const pooled = pairs.length
      ? Float64Array.from(pairs.flatMap((w) => Array.from(w)))
      : new Float64Array(0);
    let delayed = 0;
    for (const w of pooled) if (w >= 300) delayed++;
    return {
      energy_kwh: r2(run.energyJ / J_PER_KWH),
      saved_pct: r2(100 * (1 - run.energyJ / aoE)),
      node_hours_off: r2(run.sim.seconds.off / 3600),
      boots: run.sim.boots,
      mean_boot_wait_s: r2(meanBootWait(ctx, run)),
      mean_added_wait_s: r2(orZero(mean(perPair))),
      mean_added_wait_spread_s: r2(orZero(std(perPair, 1))),
      mean_added_wait_pairs_s: perPair.map(r2),
      p95_added_wait_s: r2(orZero(quantile(pooled, 0.95))),
      jobs_delayed_300s_pct: r2(pooled.length ? (100 * delayed) / pooled.length : 0),
      ...(knob ? { knob } : {}),
    };
  };

  const result: PowerReplayResult = {
    policies: {},
    curves: { reactive: [], predictive: [] },
    window: { start, end: lastEnd, jobs: base.windowJobs, train_minutes: trainRows },
    all_idle_off_saved_pct: r2(100 * (1 - base.ideal / aoE)),
    forecaster: ctx.forecaster?.name ?? null,
    target: null,
    sample: {},
    model: o.model,
    nodes: o.nodes,
  };
  for (const name of policies) {
    progress(name);
    const run = name === 'always_on' ? ao : await policyRun(ctx, name, o.jobs, ao, {}, true);
    const pairs: Float64Array[] = [];
    for (const [k, jobs] of jittered.entries()) {
      progress(`${name}, jitter seed ${seeds[k]}`);
      const rj = name === 'always_on' ? aoJ[k] : await policyRun(ctx, name, jobs, aoJ[k], {}, false);
      pairs.push(addedWaits(ctx, rj, aoJ[k]));
    }
    result.policies[name] = figures(run, pairs, run.sim.policy.knob);
    result.sample[name] = run.sim.trace;
  }

  // 4. trade-off curves (unjittered runs)
  for (const [name, knobs] of [
    ['reactive', o.sweep?.reactive ?? []],
    ['predictive', o.sweep?.predictive ?? []],
  ] as const) {
    for (const k of knobs) {
      progress(`${name} curve, knob ${k}`);
      const p = await runPoint(base, name, name === 'reactive' ? { suspendTime: k } : { margin: k });
      result.curves[name].push({
        knob: p.knob,
        saved_pct: p.saved_pct,
        mean_boot_wait_s: p.mean_boot_wait_s,
      });
    }
  }

  // 5. the target
  const p = result.policies.predictive;
  const or = result.policies.oracle;
  if (p && or && result.curves.reactive.length > 0) {
    const ratio = or.saved_pct > 0 ? p.saved_pct / or.saved_pct : Number.NaN;
    const ref = bootWaitAtSaving(result.curves.reactive, p.saved_pct);
    const wr = ref > 0 ? p.mean_boot_wait_s / ref : Number.NaN;
    let best: TargetCheck['best_on_curve'] = null;
    for (const c of result.curves.predictive) {
      const cr = or.saved_pct > 0 ? c.saved_pct / or.saved_pct : Number.NaN;
      const cref = bootWaitAtSaving(result.curves.reactive, c.saved_pct);
      const cw = cref > 0 ? c.mean_boot_wait_s / cref : Number.NaN;
      if (!(cr >= 0.9) || Number.isNaN(cw)) continue;
      if (!best || cw < best.boot_wait_ratio) {
        best = { knob: c.knob, oracle_ratio: r4(cr), boot_wait_ratio: r4(cw), met: cw <= 0.25 };
      }
    }
    result.target = {
      oracle_ratio: r4(ratio),
      reactive_equal_saving_boot_wait_s: r2(ref),
      boot_wait_ratio: r4(wr),
      met: ratio >= 0.9 && wr <= 0.25,
      best_on_curve: best,
    };
  }
  return result;
}
