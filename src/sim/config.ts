import { z } from 'zod';

/**
 * The `Simulator` config section: a synthetic workload (arrivals with daily/weekly cycles, holidays
 * and bursts; a short/regular/long job mix with Lublin–Feitelson-style sizes and runtimes; user time
 * limits that over-estimate) and the cluster it runs on. Every key has a default, so `Simulator: {}`
 * is valid. Cross-key rules (shares summing to 1, the largest job fitting the cluster, ordered
 * ranges) are checked here and name the key that is wrong.
 */

const rate = z.number().nonnegative();
const share = z.number().min(0).max(1);
const seconds = z.number().positive();

/** One job class: runtimes are log-normal (median of a 1-node job, sigma in ln-seconds) cut to [MinRuntime, MaxRuntime]. */
function jobClass(d: {
  Share: number;
  MinRuntime: number;
  MaxRuntime: number;
  MedianRuntime: number;
  Sigma: number;
}) {
  return z
    .strictObject({
      Share: share.default(d.Share),
      MinRuntime: seconds.default(d.MinRuntime),
      MaxRuntime: seconds.default(d.MaxRuntime),
      MedianRuntime: seconds.default(d.MedianRuntime),
      Sigma: z.number().nonnegative().max(10).default(d.Sigma),
      /** Runtime ~ nodes^SizeExponent: > 0 makes larger jobs run longer (Lublin's pa < 0). */
      SizeExponent: z.number().min(-2).max(2).default(0.1),
      /**
       * Empirical run times instead of the log-normal: the run time (s) of a 1-node job at probabilities
       * 0, 1/(k-1), ..., 1 (k = 2..101, non-decreasing), interpolated linearly in log run time, then scaled
       * by nodes^SizeExponent and cut to [MinRuntime, MaxRuntime]. Written by --calibrate; overrides
       * MedianRuntime and Sigma when given.
       */
      RuntimeQuantiles: z.array(seconds).min(2).max(101).optional(),
      /**
       * Run-time quantiles per job size: entry b (null = none) is like RuntimeQuantiles but for jobs of
       * 2^b .. 2^(b+1) - 1 nodes, used as they are (no SizeExponent scaling); sizes without an entry use
       * RuntimeQuantiles. Written by --calibrate for bands with enough jobs.
       */
      RuntimeQuantilesBySize: z.array(z.array(seconds).min(2).max(101).nullable()).max(32).optional(),
    })
    .prefault({});
}

const ShortSchema = jobClass({ Share: 0.57, MinRuntime: 1, MaxRuntime: 900, MedianRuntime: 60, Sigma: 1.5 });
const RegularSchema = jobClass({
  Share: 0.37,
  MinRuntime: 900,
  MaxRuntime: 14_400,
  MedianRuntime: 1800,
  Sigma: 0.9,
});
const LongSchema = jobClass({
  Share: 0.06,
  MinRuntime: 14_400,
  MaxRuntime: 172_800,
  MedianRuntime: 18_000,
  Sigma: 0.7,
});
export type JobClass = z.infer<typeof ShortSchema>;
export const CLASS_NAMES = ['Short', 'Regular', 'Long'] as const;

/** Default round limits users pick (s): 5, 10, 15, 20, 30 min, 1, 2, 3, 4, 6, 8, 12, 18, 24, 36, 48 h. */
export const DEFAULT_ROUND_LIMITS = [
  300, 600, 900, 1200, 1800, 3600, 7200, 10_800, 14_400, 21_600, 28_800, 43_200, 64_800, 86_400, 129_600,
  172_800,
];

const ArrivalsSchema = z
  .strictObject({
    /** Mean background submissions per day (bursts come on top). */
    JobsPerDay: rate.default(260),
    /** Local work hours [WorkStart, WorkEnd) and how much busier they are than the other hours. */
    WorkStart: z.number().int().min(0).max(23).default(8),
    WorkEnd: z.number().int().min(1).max(24).default(18),
    DayNightRatio: z.number().positive().default(3),
    /** Saturday and Sunday rate relative to weekdays. */
    WeekendFactor: rate.default(0.4),
    /** Relative rate per local hour 0..23; overrides WorkStart/WorkEnd/DayNightRatio when given. */
    HourWeights: z.array(rate).length(24).optional(),
    /** Relative rate per weekday, Monday first; overrides WeekendFactor when given. */
    WeekdayWeights: z.array(rate).length(7).optional(),
    /** Public holidays of this country (`DE`, `DE-BY`; via date-holidays) run at HolidayFactor; empty = none. */
    HolidayCountry: z.string().default(''),
    /** Extra holiday dates, local `YYYY-MM-DD`. */
    HolidayDates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')).default([]),
    HolidayFactor: rate.default(0.3),
  })
  .prefault({});

const BurstsSchema = z
  .strictObject({
    /** Mean bursts (parameter sweeps / array jobs: one user, one size, many submissions) per day. */
    PerDay: rate.default(0.5),
    /** Mean and maximum submissions per burst. */
    MeanJobs: z.number().min(1).default(40),
    MaxJobs: z.number().int().min(1).default(500),
    /** Mean seconds between the submissions of one burst. */
    GapSeconds: rate.default(2),
  })
  .prefault({});

const SizesSchema = z
  .strictObject({
    /** Share of 1-node jobs. */
    SerialShare: share.default(0.244),
    /** Share of parallel jobs rounded to a power of two. */
    Pow2Share: share.default(0.576),
    /** Parallel sizes: log2(nodes) ~ U(Log2Low, Log2Med) w.p. LowShare, else U(Log2Med, log2(MaxNodes)). */
    Log2Low: z.number().nonnegative().default(0.8),
    /** Default: 0.5 * log2(MaxNodes) (Lublin fitted 4.5 of 7 = 0.64; 0.5 gives a moderate default load). */
    Log2Med: z.number().nonnegative().optional(),
    LowShare: share.default(0.86),
    /** Largest job (nodes); default: the cluster size. */
    MaxNodes: z.number().int().positive().optional(),
    /**
     * Empirical sizes instead of the two-stage model: entry b is the share of jobs with 2^b .. 2^(b+1) - 1
     * nodes (b = floor(log2 nodes); entry 0 = serial jobs). Within a band a job has 2^b nodes w.p. Pow2Share,
     * else log-uniform in the band (up to MaxNodes). Written by --calibrate; overrides SerialShare, Log2Low,
     * Log2Med and LowShare when given.
     */
    Log2Shares: z.array(share).min(1).max(32).optional(),
  })
  .prefault({});

const LimitsSchema = z
  .strictObject({
    /** Requested limit = the smallest round value >= runtime * f, f ~ lognormal(median, sigma), f >= 1. */
    OverestimateMedian: z.number().min(1).default(3),
    OverestimateSigma: z.number().nonnegative().default(1),
    /** Share of jobs that would run past their limit (they are killed at it unless Overrun = honour). */
    HitLimitShare: share.default(0.08),
    RoundValues: z.array(z.number().positive()).min(1).default(DEFAULT_ROUND_LIMITS),
  })
  .prefault({});

export const SimulatorSchema = z
  .strictObject({
    /** Cluster size; default: Cluster.Nodes. */
    Nodes: z.number().int().positive().max(10_000_000).optional(),
    Seed: z.number().int().min(0).max(0xffffffff).default(1),
    Days: z.number().positive().max(36_600).default(30),
    /** First day, `YYYY-MM-DD` (local midnight in TimeZone). */
    Start: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
      .default('2026-01-05'),
    /** IANA zone for the daily/weekly cycle; default: Cluster.TimeZone. */
    TimeZone: z.string().optional(),
    /** Number of users (job owners drawn Zipf-like). */
    Users: z.number().int().positive().default(100),
    /** What happens to a job that runs past its limit: killed at the limit, or runs on (as recorded). */
    Overrun: z.enum(['kill', 'honour']).default('kill'),
    Arrivals: ArrivalsSchema,
    Bursts: BurstsSchema,
    Sizes: SizesSchema,
    Classes: z
      .strictObject({
        Short: ShortSchema,
        Regular: RegularSchema,
        Long: LongSchema,
        /**
         * Class shares by job size: entry b is [Short, Regular, Long] for jobs of 2^b .. 2^(b+1) - 1 nodes
         * (b = floor(log2 nodes)); sizes beyond the list use the Share keys. When given, a job's size is
         * drawn first and its class from its size's entry (real traces: big jobs are rarely short).
         * Written by --calibrate.
         */
        SharesBySize: z.array(z.array(share).length(3)).max(32).optional(),
      })
      .prefault({}),
    Limits: LimitsSchema,
  })
  .superRefine((s, ctx) => {
    for (const issue of simulatorProblems(s))
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .prefault({});

export type SimulatorConfig = z.infer<typeof SimulatorSchema>;

export interface ConfigProblem {
  path: string[];
  message: string;
}

/** Cross-key rules; `nodes` is the effective cluster size when known (Simulator.Nodes or an override). */
export function simulatorProblems(s: SimulatorConfig, nodes = s.Nodes): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const c = s.Classes;
  const sum = c.Short.Share + c.Regular.Share + c.Long.Share;
  if (Math.abs(sum - 1) > 1e-6) {
    out.push({
      path: ['Classes'],
      message: `class shares (Short + Regular + Long) must sum to 1, got ${round(sum)}`,
    });
  }
  (c.SharesBySize ?? []).forEach((t, b) => {
    const sb = t[0] + t[1] + t[2];
    if (Math.abs(sb - 1) > 1e-3) {
      out.push({
        path: ['Classes', 'SharesBySize', String(b)],
        message: `shares (Short, Regular, Long) must sum to 1, got ${round(sb)}`,
      });
    }
  });
  for (const name of CLASS_NAMES) {
    const k = c[name];
    const lists: Array<[string[], number[] | null | undefined]> = [
      [['RuntimeQuantiles'], k.RuntimeQuantiles],
    ];
    (k.RuntimeQuantilesBySize ?? []).forEach((q, b) => {
      lists.push([['RuntimeQuantilesBySize', String(b)], q]);
    });
    for (const [where, q] of lists) {
      const down = q ? q.findIndex((v, i) => i > 0 && v < q[i - 1]) : -1;
      if (q && down > 0) {
        out.push({
          path: ['Classes', name, ...where, String(down)],
          message: `must not decrease (${q[down]} after ${q[down - 1]})`,
        });
      }
    }
    if (k.MinRuntime >= k.MaxRuntime) {
      out.push({
        path: ['Classes', name, 'MaxRuntime'],
        message: `must be greater than MinRuntime (${k.MinRuntime})`,
      });
    }
  }
  const a = s.Arrivals;
  if (!a.HourWeights && a.WorkStart >= a.WorkEnd) {
    out.push({ path: ['Arrivals', 'WorkEnd'], message: `must be after WorkStart (${a.WorkStart})` });
  }
  if (a.HourWeights?.every((w) => w === 0)) {
    out.push({ path: ['Arrivals', 'HourWeights'], message: 'at least one weight must be positive' });
  }
  if (a.WeekdayWeights?.every((w) => w === 0)) {
    out.push({ path: ['Arrivals', 'WeekdayWeights'], message: 'at least one weight must be positive' });
  }
  if (s.Bursts.MeanJobs > s.Bursts.MaxJobs) {
    out.push({ path: ['Bursts', 'MeanJobs'], message: `must not exceed MaxJobs (${s.Bursts.MaxJobs})` });
  }
  const z = s.Sizes;
  if (nodes !== undefined && z.MaxNodes !== undefined && z.MaxNodes > nodes) {
    out.push({
      path: ['Sizes', 'MaxNodes'],
      message: `largest job (${z.MaxNodes} nodes) exceeds the cluster (Simulator.Nodes = ${nodes})`,
    });
  }
  if (z.Log2Shares) {
    const sz = z.Log2Shares.reduce((a, b) => a + b, 0);
    if (Math.abs(sz - 1) > 1e-3)
      out.push({ path: ['Sizes', 'Log2Shares'], message: `shares must sum to 1, got ${round(sz)}` });
    const mx = z.MaxNodes ?? nodes;
    const top = z.Log2Shares.length - 1;
    if (mx !== undefined && 2 ** top > mx && z.Log2Shares[top] > 0) {
      out.push({
        path: ['Sizes', 'Log2Shares', String(top)],
        message: `band ${2 ** top}.. nodes is larger than the largest job (${mx} nodes)`,
      });
    }
  }
  const maxNodes = z.MaxNodes ?? nodes;
  if (maxNodes !== undefined) {
    const hi = Math.log2(maxNodes);
    const med = z.Log2Med ?? 0.5 * hi;
    if (z.Log2Med !== undefined && z.Log2Med > hi) {
      out.push({ path: ['Sizes', 'Log2Med'], message: `must be <= log2(MaxNodes) = ${round(hi)}` });
    }
    if (z.Log2Low > med) {
      out.push({ path: ['Sizes', 'Log2Low'], message: `must be <= Log2Med (${round(med)})` });
    }
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
