import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { normalCdf, normalQuantile } from '../util/stats.js';
import { holidayDates, hourCalendar, localMidnight } from './calendar.js';
import { CLASS_NAMES, type JobClass, type SimulatorConfig, simulatorProblems } from './config.js';
import { type SimJob, sortBySubmit } from './job.js';

/**
 * The workload generator: a seeded synthetic job stream from a `Simulator` config section.
 *
 * Arrivals are a non-homogeneous Poisson process with a rate that is constant within each hour:
 * JobsPerDay/24 x hour-of-day weight x weekday weight (both normalised to mean 1) x holiday factor.
 * Per hour we draw a Poisson count and place the submissions uniformly in the hour. Bursts (sweeps,
 * array jobs) arrive the same way at PerDay, each a run of ~geometric(MeanJobs) submissions by one
 * user with one size and class, GapSeconds apart on average.
 * Each job: class by share; size Lublin-style (serial share, log2-uniform two-stage sizes, rounded to
 * a power of two by share); runtime log-normal in the class, scaled by nodes^SizeExponent and cut to
 * the class range; limit = the smallest round value >= runtime x overestimate factor (log-normal, >= 1);
 * a HitLimitShare of jobs would run past their limit (limit = largest round value <= runtime).
 * Everything is integer seconds; the same config and seed give the same jobs.
 */

export interface SimSetup {
  sim: SimulatorConfig;
  nodes: number;
  maxJobNodes: number;
  log2Med: number;
  cpusPerNode: number;
  timeZone: string;
  /** Epoch s of the first simulated instant (local midnight of Start). */
  start: number;
  days: number;
  seed: number;
}

export interface SetupOverrides {
  nodes?: number;
  days?: number;
  start?: string;
  seed?: number;
}

/** Combine the Simulator section, Cluster defaults and CLI overrides; cross-key errors name the key. */
export function resolveSimulator(
  sim: SimulatorConfig,
  cluster: { Nodes: number; CpusPerNode: number; TimeZone: string },
  o: SetupOverrides = {},
): SimSetup {
  const nodes = o.nodes ?? sim.Nodes ?? cluster.Nodes;
  const problems = simulatorProblems(sim, nodes);
  if (problems.length) {
    const msg = problems.map((p) => `Simulator.${p.path.join('.')}: ${p.message}`).join('; ');
    throw new UserError(
      `invalid simulator setup: ${msg}${o.nodes !== undefined ? ` (with --nodes ${o.nodes})` : ''}`,
      2,
    );
  }
  const maxJobNodes = sim.Sizes.MaxNodes ?? nodes;
  const timeZone = sim.TimeZone ?? cluster.TimeZone;
  const startDate = o.start ?? sim.Start;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate))
    throw new UserError(`--start: expected YYYY-MM-DD, got '${startDate}'`, 2);
  return {
    sim,
    nodes,
    maxJobNodes,
    log2Med: sim.Sizes.Log2Med ?? 0.5 * Math.log2(maxJobNodes),
    cpusPerNode: cluster.CpusPerNode,
    timeZone,
    start: localMidnight(startDate, timeZone),
    days: o.days ?? sim.Days,
    seed: o.seed ?? sim.Seed,
  };
}

export interface GenerateStats {
  jobs: number;
  bursts: number;
  burstJobs: number;
  byClass: Record<(typeof CLASS_NAMES)[number], number>;
  hitLimit: number;
}

export interface Workload {
  jobs: SimJob[];
  stats: GenerateStats;
  /** Epoch s: [start, end) of the generated submissions. */
  start: number;
  end: number;
}

/** Relative arrival rate per local hour of day (24, mean 1). */
function hourProfile(a: SimulatorConfig['Arrivals']): Float64Array {
  const w = new Float64Array(24);
  for (let h = 0; h < 24; h++) {
    w[h] = a.HourWeights ? a.HourWeights[h] : h >= a.WorkStart && h < a.WorkEnd ? a.DayNightRatio : 1;
  }
  return normalise(w);
}

/** Relative arrival rate per weekday, Monday first (7, mean 1). */
function weekdayProfile(a: SimulatorConfig['Arrivals']): Float64Array {
  const w = new Float64Array(7);
  for (let d = 0; d < 7; d++) w[d] = a.WeekdayWeights ? a.WeekdayWeights[d] : d >= 5 ? a.WeekendFactor : 1;
  return normalise(w);
}

function normalise(w: Float64Array): Float64Array {
  let s = 0;
  for (const x of w) s += x;
  const mean = s / w.length;
  for (let i = 0; i < w.length; i++) w[i] = mean > 0 ? w[i] / mean : 0;
  return w;
}

/** Draws one job's attributes: class, size, runtime, limit. */
class JobSampler {
  private readonly classShares: number[];
  private readonly classes: JobClass[];
  private readonly rounds: number[];
  private readonly userCdf: Float64Array;
  /** Per class: ln of RuntimeQuantiles, or null for the log-normal. */
  private readonly logQuantiles: Array<Float64Array | null>;
  /** Per class and log2 size band: ln of RuntimeQuantilesBySize entries. */
  private readonly logQuantilesBySize: Array<Array<Float64Array | null> | null>;

  constructor(
    private readonly setup: SimSetup,
    private readonly rng: Rng,
  ) {
    const c = setup.sim.Classes;
    this.classes = CLASS_NAMES.map((k) => c[k]);
    this.classShares = this.classes.map((k) => k.Share);
    this.logQuantilesBySize = this.classes.map(
      (k) =>
        k.RuntimeQuantilesBySize?.map((q) => (q ? Float64Array.from(q, (v) => Math.log(v)) : null)) ?? null,
    );
    this.logQuantiles = this.classes.map((k) =>
      k.RuntimeQuantiles ? Float64Array.from(k.RuntimeQuantiles, (v) => Math.log(v)) : null,
    );
    this.rounds = [...setup.sim.Limits.RoundValues].sort((a, b) => a - b);
    // Zipf(1) users: user k has weight 1/(k+1)
    const n = setup.sim.Users;
    this.userCdf = new Float64Array(n);
    let acc = 0;
    for (let k = 0; k < n; k++) this.userCdf[k] = acc += 1 / (k + 1);
    for (let k = 0; k < n; k++) this.userCdf[k] /= acc;
  }

  user(): string {
    const u = this.rng.uniform();
    let lo = 0;
    let hi = this.userCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.userCdf[mid] <= u) lo = mid + 1;
      else hi = mid;
    }
    return `u${lo + 1}`;
  }

  cls(): number {
    return this.rng.choose(this.classShares);
  }

  /** [class, nodes]: class then size, or (with Classes.SharesBySize) size then class by its size. */
  classAndSize(): [number, number] {
    const bySize = this.setup.sim.Classes.SharesBySize;
    if (!bySize) {
      const c = this.cls();
      return [c, this.size()];
    }
    const nodes = this.size();
    const shares = bySize[Math.floor(Math.log2(nodes))] ?? this.classShares;
    return [this.rng.choose(shares), nodes];
  }

  /** Lublin–Feitelson size: serial, else two-stage log2-uniform, rounded to a power of two by share. */
  size(): number {
    const z = this.setup.sim.Sizes;
    const max = this.setup.maxJobNodes;
    if (z.Log2Shares) {
      // empirical: a log2 band by its share, then 2^b or log-uniform within the band
      const b = this.rng.choose(z.Log2Shares);
      if (b === 0 || max === 1) return 1;
      const lo = 2 ** b;
      const hiBand = Math.min(max, 2 * lo - 1);
      if (this.rng.bernoulli(z.Pow2Share) || hiBand <= lo) return Math.min(max, lo);
      return Math.min(
        hiBand,
        Math.max(lo, Math.round(2 ** (b + this.rng.range(0, Math.log2(hiBand + 1) - b)))),
      );
    }
    if (max === 1 || this.rng.bernoulli(z.SerialShare)) return 1;
    const hi = Math.log2(max);
    const med = this.setup.log2Med;
    const u = this.rng.bernoulli(z.LowShare) ? this.rng.range(z.Log2Low, med) : this.rng.range(med, hi);
    const n = this.rng.bernoulli(z.Pow2Share) ? 2 ** Math.round(u) : Math.round(2 ** u);
    return Math.min(max, Math.max(2, n));
  }

  /**
   * Runtime of class k for a job of `nodes`, cut to the class range: log-normal by inverse-CDF sampling,
   * or the class's empirical quantile function (RuntimeQuantiles). One uniform draw either way.
   */
  runtime(k: number, nodes: number): number {
    const c = this.classes[k];
    const mu = Math.log(c.MedianRuntime) + c.SizeExponent * Math.log(nodes);
    const lo = Math.log(c.MinRuntime);
    const hi = Math.log(c.MaxRuntime);
    let x: number;
    const qb = this.logQuantilesBySize[k]?.[Math.floor(Math.log2(nodes))];
    const q = this.logQuantiles[k];
    if (qb) {
      // empirical for this size band: piecewise-linear quantile function in log run time, then the cut
      const pos = this.rng.uniform() * (qb.length - 1);
      const i = Math.min(qb.length - 2, Math.floor(pos));
      x = Math.min(hi, Math.max(lo, qb[i] + (qb[i + 1] - qb[i]) * (pos - i)));
    } else if (q) {
      // empirical: piecewise-linear quantile function in log run time, then the size scaling and the cut
      const pos = this.rng.uniform() * (q.length - 1);
      const i = Math.min(q.length - 2, Math.floor(pos));
      x = q[i] + (q[i + 1] - q[i]) * (pos - i) + c.SizeExponent * Math.log(nodes);
      x = Math.min(hi, Math.max(lo, x));
    } else if (c.Sigma === 0) x = Math.min(hi, Math.max(lo, mu));
    else {
      const pa = normalCdf((lo - mu) / c.Sigma);
      const pb = normalCdf((hi - mu) / c.Sigma);
      if (pb - pa < 1e-9)
        x = pb < 0.5 ? hi : lo; // the whole mass is beyond one end
      else x = mu + c.Sigma * normalQuantile(pa + (pb - pa) * this.rng.uniform());
      x = Math.min(hi, Math.max(lo, x));
    }
    return Math.max(1, Math.round(Math.exp(x)));
  }

  /** A user's limit for a job that really needs `runtime`; returns [limit, runtime] (runtime > limit for jobs that hit it). */
  limit(runtime: number): [number, number] {
    const l = this.setup.sim.Limits;
    const r = this.rounds;
    if (this.rng.bernoulli(l.HitLimitShare)) {
      // the job would run past its limit: the limit is the largest round value below the runtime
      let i = r.length - 1;
      while (i >= 0 && r[i] >= runtime) i--;
      if (i >= 0) return [r[i], runtime];
      return [r[0], Math.round(r[0] * (1 + 0.5 * this.rng.uniformPos()))];
    }
    const f = Math.max(1, this.rng.lognormal(Math.log(l.OverestimateMedian), l.OverestimateSigma));
    const want = runtime * f;
    for (const v of r) if (v >= want) return [v, runtime];
    // beyond the largest round value: whole hours
    return [Math.ceil(want / 3600) * 3600, runtime];
  }
}

/** Generate the configured workload. */
export function generateWorkload(setup: SimSetup): Workload {
  const rng = new Rng(setup.seed);
  const a = setup.sim.Arrivals;
  const b = setup.sim.Bursts;
  const hours = Math.ceil(setup.days * 24);
  const end = setup.start + Math.round(setup.days * 86_400);
  const years: number[] = [];
  for (
    let y = new Date(setup.start * 1000).getUTCFullYear();
    y <= new Date(end * 1000).getUTCFullYear() + 1;
    y++
  ) {
    years.push(y);
  }
  const holidays = holidayDates(a.HolidayCountry, years);
  for (const d of a.HolidayDates) holidays.add(d);
  const cal = hourCalendar(setup.start, hours, setup.timeZone, holidays);
  const hw = hourProfile(a);
  const dw = weekdayProfile(a);
  const sampler = new JobSampler(setup, rng);
  const jobs: SimJob[] = [];
  const stats: GenerateStats = {
    jobs: 0,
    bursts: 0,
    burstJobs: 0,
    byClass: { Short: 0, Regular: 0, Long: 0 },
    hitLimit: 0,
  };
  const cpn = setup.cpusPerNode;

  const push = (
    submit: number,
    nodes: number,
    k: number,
    runtime: number,
    limit: number,
    user: string,
  ): void => {
    jobs.push({ id: '', submit, nodes, cpus: nodes * cpn, runtime, limit, user, partition: null });
    stats.byClass[CLASS_NAMES[k]]++;
    if (runtime > limit) stats.hitLimit++;
  };

  for (let i = 0; i < hours; i++) {
    const t0 = setup.start + 3600 * i;
    const span = Math.min(3600, end - t0);
    if (span <= 0) break;
    // rate multiplier of this hour: hour-of-day x weekday x holiday
    const m =
      hw[cal.localHour[i]] * dw[cal.weekday[i]] * (cal.holiday[i] ? a.HolidayFactor : 1) * (span / 3600);
    // background submissions: Poisson count, uniform in the hour
    const n = rng.poisson((a.JobsPerDay / 24) * m);
    for (let k = 0; k < n; k++) {
      const submit = t0 + Math.floor(rng.uniform() * span);
      const [c, nodes] = sampler.classAndSize();
      const [limit, runtime] = sampler.limit(sampler.runtime(c, nodes));
      push(submit, nodes, c, runtime, limit, sampler.user());
    }
    // bursts: one user submits many like jobs in quick succession
    const nb = rng.poisson((b.PerDay / 24) * m);
    for (let k = 0; k < nb; k++) {
      let t = t0 + rng.uniform() * span;
      const count = Math.min(b.MaxJobs, rng.geometric(b.MeanJobs));
      const [c, nodes] = sampler.classAndSize();
      const base = sampler.runtime(c, nodes);
      const [limit] = sampler.limit(base);
      const user = sampler.user();
      stats.bursts++;
      for (let q = 0; q < count; q++) {
        if (t >= end) break;
        // sweep members run about as long as each other (+-10 %)
        const runtime = Math.max(1, Math.round(base * Math.exp(0.1 * rng.normal())));
        push(Math.floor(t), nodes, c, runtime, limit, user);
        stats.burstJobs++;
        t += b.GapSeconds > 0 ? rng.exponential(1 / b.GapSeconds) : 0;
      }
    }
  }
  const sorted = sortBySubmit(jobs);
  for (let i = 0; i < sorted.length; i++) sorted[i].id = String(i + 1);
  stats.jobs = sorted.length;
  return { jobs: sorted, stats, start: setup.start, end };
}
