import type { JobRecord } from '../jobs/record.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { mean, median, normalCdf, quantileSorted, std } from '../util/stats.js';
import { localHourWeekday, zoneFormatter } from './calendar.js';
import { DEFAULT_ROUND_LIMITS } from './config.js';

/**
 * Fit the generator's main parameters to a real trace, so that `pcm simulate` can make a synthetic
 * twin of a cluster. What is fitted, and how:
 * - Bursts: runs of >= minBurstJobs (10) submissions by one user with one size, each <= burstGap (60) s
 *   after the previous; MaxJobs and GapSeconds from those runs. PerDay and MeanJobs undo the cut at
 *   minBurstJobs assuming geometric sizes (as generated) when the corrected mean is itself >= the cut;
 *   otherwise they are the runs as seen. Burst jobs are left out of the background fit.
 * - Arrivals: JobsPerDay = background submissions / span days; HourWeights per local hour and
 *   WeekdayWeights per local weekday (rates per occurrence, normalised to mean 1).
 * - Sizes: SerialShare, Pow2Share (among parallel jobs), MaxNodes = the largest job; Log2Med and
 *   LowShare by maximum likelihood of the two-stage log2-uniform over a grid, Log2Low = log2(smallest
 *   parallel size) - 0.5 (the rounding margin). Then the empirical shares per log2 band (Log2Shares),
 *   which the generator uses instead of the two-stage model, and the class shares per band
 *   (Classes.SharesBySize): big jobs are rarely short, and the load depends on that.
 * - Classes by run time (< 900 s short, < 4 h regular, else long): Share; the observed range; per class
 *   a least-squares fit of ln(runtime) = ln(median) + SizeExponent * ln(nodes), with median and Sigma
 *   corrected for the generator's cut to the range (the normal whose truncation matches the residuals'
 *   mean and deviation, kept within bounds for bands filled about evenly). Then, for classes of >= 20
 *   jobs, the empirical run-time distribution itself: RuntimeQuantiles = quantiles of runtime / nodes^
 *   SizeExponent at 21 evenly spaced probabilities, which the generator uses instead of the log-normal
 *   (a log-normal cannot reproduce a band filled evenly, e.g. KTH's 900 s - 4 h jobs, and got the load wrong).
 * - Limits: HitLimitShare = share of jobs that ran to >= 98 % of their limit; RoundValues = the most
 *   used limits covering >= 90 %; OverestimateSigma = sd of ln(limit / runtime) of the others, and
 *   OverestimateMedian such that the generator (factor, then round up) gives their median ratio.
 * Jobs without a run time are skipped, and counted.
 * Over 450 lines as one unit: every section of the generator is fitted from the same pass over the trace
 * and the same summaries; the fits are small and read best side by side.
 */

export interface CalibrateOptions {
  /** Cluster nodes (default: the trace's MaxNodes, else its largest job). */
  nodes?: number;
  timeZone?: string;
  minBurstJobs?: number;
  burstGap?: number;
  /** Knots of each class's empirical run-time quantile function (default 21; 0 = log-normal fit only). */
  quantiles?: number;
}

export interface CalibrationSummary {
  jobs: number;
  skipped: number;
  days: number;
  nodes: number;
  bursts: number;
  burstJobs: number;
  /** Busy node-seconds / (nodes * span) of the trace's recorded runs. */
  load: number;
}

export interface Calibration {
  /** The `Simulator` section (plain data, ready for YAML). */
  simulator: Record<string, unknown>;
  summary: CalibrationSummary;
}

interface Row {
  submit: number;
  nodes: number;
  runtime: number;
  limit: number | null;
  user: string;
}

const DEFAULT_QUANTILES = 21;
/** Classes with fewer jobs keep the log-normal fit only. */
const MIN_QUANTILE_JOBS = 20;
/** Size bands with fewer jobs of a class use the class's size-free quantiles. */
const MIN_BAND_QUANTILE_JOBS = 100;
/** Size bands with fewer jobs use the overall class shares. */
const MIN_BAND_JOBS = 20;
const SHORT_MAX = 900;
const REGULAR_MAX = 14_400;

export async function calibrate(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  meta: { maxNodes?: number; timeZone?: string },
  o: CalibrateOptions = {},
): Promise<Calibration> {
  const rows: Row[] = [];
  let skipped = 0;
  for await (const j of jobs) {
    const submit = j.submit ?? j.start;
    if (submit === null || j.start === null || j.end === null || j.end < j.start || j.nodes < 1) {
      skipped++;
      continue;
    }
    rows.push({ submit, nodes: j.nodes, runtime: j.end - j.start, limit: j.timeLimit, user: j.user ?? '?' });
  }
  if (rows.length < 10)
    throw new InputError(`calibrate: need at least 10 jobs with a run time, found ${rows.length}`);
  rows.sort((a, b) => a.submit - b.submit);
  const first = rows[0].submit;
  const last = rows[rows.length - 1].submit;
  const days = Math.max(1 / 24, (last - first) / 86_400);
  const maxJob = rows.reduce((m, r) => Math.max(m, r.nodes), 1);
  const nodes = o.nodes ?? meta.maxNodes ?? maxJob;
  const timeZone = o.timeZone ?? meta.timeZone ?? 'UTC';

  // bursts: same user and size, short gaps
  const minBurst = o.minBurstJobs ?? 10;
  const gap = o.burstGap ?? 60;
  const inBurst = new Uint8Array(rows.length);
  const lastOf = new Map<string, { idx: number[]; t: number }>();
  const bursts: number[][] = [];
  const close = (run: { idx: number[] }) => {
    if (run.idx.length >= minBurst) bursts.push(run.idx);
  };
  rows.forEach((r, i) => {
    const key = `${r.user}\u0000${r.nodes}`;
    const run = lastOf.get(key);
    if (run && r.submit - run.t <= gap) {
      run.idx.push(i);
      run.t = r.submit;
    } else {
      if (run) close(run);
      lastOf.set(key, { idx: [i], t: r.submit });
    }
  });
  for (const run of lastOf.values()) close(run);
  let gapSum = 0;
  let gapN = 0;
  let maxBurst = 0;
  for (const b of bursts) {
    maxBurst = Math.max(maxBurst, b.length);
    for (let k = 0; k < b.length; k++) {
      inBurst[b[k]] = 1;
      if (k > 0) {
        gapSum += rows[b[k]].submit - rows[b[k - 1]].submit;
        gapN++;
      }
    }
  }
  const burstJobs = bursts.reduce((s, b) => s + b.length, 0);
  // the generator's burst sizes are geometric; only those >= minBurst were seen, and a geometric
  // cut at k has mean (k - 1) + m and keeps a share (1 - 1/m)^(k - 1) of the bursts
  // (when that gives a mean below the cut, the runs are not a geometric burst process: keep them as seen)
  const seenMean = bursts.length ? burstJobs / bursts.length : 1;
  const cutMean = seenMean - (minBurst - 1);
  const burstMean = cutMean >= minBurst ? cutMean : seenMean;
  const seenShare = cutMean >= minBurst ? (1 - 1 / burstMean) ** (minBurst - 1) : 1;
  const burstRate = bursts.length / seenShare / days;

  // arrivals by local hour and weekday (background jobs only), per occurrence of that hour/weekday
  const fmt = zoneFormatter(timeZone, 'Cluster.TimeZone');
  const hourCount = new Float64Array(24);
  const dayCount = new Float64Array(7);
  for (let i = 0; i < rows.length; i++) {
    if (inBurst[i]) continue;
    const [h, d] = localHourWeekday(fmt, rows[i].submit);
    hourCount[h]++;
    dayCount[d]++;
  }
  const hourOcc = new Float64Array(24);
  const dayOcc = new Float64Array(7);
  for (let t = Math.floor(first / 3600) * 3600; t <= last; t += 3600) {
    const [h, d] = localHourWeekday(fmt, t);
    hourOcc[h]++;
    dayOcc[d] += 1 / 24;
  }
  const hourW = meanOne(Array.from(hourCount, (c, h) => (hourOcc[h] ? c / hourOcc[h] : 0)));
  const dayW = meanOne(Array.from(dayCount, (c, d) => (dayOcc[d] ? c / dayOcc[d] : 0)));

  // sizes
  const parallel = rows.filter((r) => r.nodes > 1).map((r) => r.nodes);
  const serialShare = 1 - parallel.length / rows.length;
  const pow2Share = parallel.length
    ? parallel.filter((n) => (n & (n - 1)) === 0).length / parallel.length
    : 0.5;
  const hi = Math.log2(maxJob);
  const minPar = parallel.reduce((m, n) => Math.min(m, n), Number.POSITIVE_INFINITY);
  const log2Low = Number.isFinite(minPar) ? Math.max(0, Math.log2(minPar) - 0.5) : 0.8;
  const { med, lowShare } = fitTwoStage(
    parallel.map((n) => Math.log2(n)),
    log2Low,
    hi,
  );

  // classes by run time
  const classRows: Row[][] = [[], [], []];
  for (const r of rows) classRows[r.runtime < SHORT_MAX ? 0 : r.runtime < REGULAR_MAX ? 1 : 2].push(r);
  const bounds: Array<[number, number]> = [
    [1, SHORT_MAX],
    [SHORT_MAX, REGULAR_MAX],
    [REGULAR_MAX, 172_800],
  ];
  const classes: Record<string, unknown> = {};
  const nq = o.quantiles ?? DEFAULT_QUANTILES;
  const shares = classRows.map((c) => c.length / rows.length);
  // make the rounded shares sum to exactly 1
  const rounded = shares.map((s) => round(s, 4));
  rounded[1] = round(1 - rounded[0] - rounded[2], 4);
  // class shares per log2 size band (bands with fewer than MIN_BAND_JOBS jobs use the overall shares)
  const bandCounts: number[][] = [];
  for (let k = 0; k < 3; k++) {
    for (const r of classRows[k]) {
      const b = Math.floor(Math.log2(r.nodes));
      while (bandCounts.length <= b) bandCounts.push([0, 0, 0]);
      bandCounts[b][k]++;
    }
  }
  const sharesBySize = bandCounts.map((cnt) => {
    const n = cnt[0] + cnt[1] + cnt[2];
    const sh = n >= MIN_BAND_JOBS ? cnt.map((x) => round(x / n, 4)) : [...rounded];
    sh[1] = round(1 - sh[0] - sh[2], 4);
    return sh;
  });
  if (nq >= 2) classes.SharesBySize = sharesBySize;
  ['Short', 'Regular', 'Long'].forEach((name, k) => {
    const c = classRows[k];
    const [lo, hiR] = bounds[k];
    const minR = c.length
      ? Math.max(
          1,
          c.reduce((m, r) => Math.min(m, r.runtime), hiR),
        )
      : lo;
    const maxR = c.length ? c.reduce((m, r) => Math.max(m, r.runtime), lo) : hiR;
    const fit = fitLogRuntime(c, Math.max(1, minR), Math.max(maxR, minR + 1));
    const slope = round(Math.min(2, Math.max(-2, fit.slope)), 3);
    const cls: Record<string, unknown> = {
      Share: rounded[k],
      MinRuntime: minR,
      MaxRuntime: Math.max(maxR, minR + 1),
      MedianRuntime: round(fit.median, 1) || lo,
      Sigma: round(fit.sigma, 3),
      SizeExponent: slope,
    };
    if (nq >= 2 && c.length >= MIN_QUANTILE_JOBS) {
      cls.RuntimeQuantiles = sizeFreeQuantiles(c, slope, nq);
      // per size band, where the band has enough jobs of this class
      const bands: Row[][] = [];
      for (const r of c) {
        const b = Math.floor(Math.log2(r.nodes));
        while (bands.length <= b) bands.push([]);
        bands[b].push(r);
      }
      const byBand = bands.map((rs) =>
        rs.length >= MIN_BAND_QUANTILE_JOBS ? sizeFreeQuantiles(rs, 0, nq) : null,
      );
      if (byBand.some((q) => q !== null)) cls.RuntimeQuantilesBySize = byBand;
    }
    classes[name] = cls;
  });

  // limits
  const withLimit = rows.filter((r) => r.limit !== null && r.limit > 0);
  const hit = withLimit.filter((r) => r.runtime >= 0.98 * (r.limit as number));
  const ratios = withLimit
    .filter((r) => r.runtime < 0.98 * (r.limit as number))
    .map((r) => Math.log((r.limit as number) / Math.max(1, r.runtime)));
  const limitCounts = new Map<number, number>();
  for (const r of withLimit)
    limitCounts.set(r.limit as number, (limitCounts.get(r.limit as number) ?? 0) + 1);
  const byUse = [...limitCounts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const roundValues: number[] = [];
  let covered = 0;
  for (const [v, c] of byUse) {
    if (covered >= 0.9 * withLimit.length || roundValues.length >= 24) break;
    roundValues.push(v);
    covered += c;
  }
  roundValues.sort((a, b) => a - b);
  // fewer than two ratios: sigma 1 and ln 3 (limits about three times the run time)
  const sigma = ratios.length >= 2 ? std(ratios) : 1;
  const overMedian = fitOverestimate(
    withLimit.filter((r) => r.runtime < 0.98 * (r.limit as number)).map((r) => Math.max(1, r.runtime)),
    ratios.length ? median(ratios) : Math.log(3),
    sigma,
    roundValues.length ? roundValues : DEFAULT_ROUND_LIMITS,
  );

  // load of the recorded runs
  let busy = 0;
  let lastEnd = last;
  for (const r of rows) {
    busy += r.nodes * r.runtime;
    lastEnd = Math.max(lastEnd, r.submit + r.runtime);
  }
  const load = busy / (nodes * Math.max(1, lastEnd - first));
  const users = new Set(rows.map((r) => r.user)).size;

  const simulator = {
    Nodes: nodes,
    Seed: 1,
    Days: round(days, 2),
    Start: new Date(first * 1000).toISOString().slice(0, 10),
    TimeZone: timeZone,
    Users: Math.max(1, users),
    Overrun: 'kill',
    Arrivals: {
      JobsPerDay: round((rows.length - burstJobs) / days, 2),
      HourWeights: hourW.map((w) => round(w, 3)),
      WeekdayWeights: dayW.map((w) => round(w, 3)),
    },
    Bursts: {
      PerDay: round(burstRate, 4),
      MeanJobs: round(burstMean, 2),
      MaxJobs: Math.max(1, maxBurst),
      GapSeconds: gapN ? round(gapSum / gapN, 2) : 0,
    },
    Sizes: {
      SerialShare: round(serialShare, 4),
      Pow2Share: round(pow2Share, 4),
      Log2Low: round(log2Low, 3),
      Log2Med: round(med, 3),
      LowShare: round(lowShare, 4),
      MaxNodes: maxJob,
      ...(nq >= 2 ? { Log2Shares: log2Shares(rows.map((r) => r.nodes)) } : {}),
    },
    Classes: classes,
    Limits: {
      OverestimateMedian: round(overMedian, 3),
      OverestimateSigma: round(sigma, 3),
      HitLimitShare: withLimit.length ? round(hit.length / withLimit.length, 4) : 0,
      RoundValues: roundValues.length ? roundValues : DEFAULT_ROUND_LIMITS,
    },
  };
  return {
    simulator,
    summary: { jobs: rows.length, skipped, days, nodes, bursts: bursts.length, burstJobs, load },
  };
}

/** Share of jobs per log2 size band (b = floor(log2 nodes)), rounded, summing to 1 (the largest band absorbs the rounding). */
function log2Shares(nodes: number[]): number[] {
  const cnt: number[] = [];
  for (const n of nodes) {
    const b = Math.floor(Math.log2(n));
    while (cnt.length <= b) cnt.push(0);
    cnt[b]++;
  }
  const sh = cnt.map((c) => round(c / nodes.length, 5));
  const big = sh.indexOf(Math.max(...sh));
  sh[big] = round(1 - sh.reduce((a, x, i) => (i === big ? a : a + x), 0), 5);
  return sh;
}

/**
 * A class's run times with the size effect taken out (runtime / nodes^slope, the run time of a 1-node job
 * of the same rank) at probabilities 0, 1/(k-1), ..., 1: order statistics interpolated linearly (the
 * "type 7" sample quantile), in seconds to 3 significant digits (<= 0.5 %), non-decreasing. The generator draws from this
 * piecewise-linear quantile function in log run time and puts the size effect back.
 */
export function sizeFreeQuantiles(
  rows: ReadonlyArray<{ nodes: number; runtime: number }>,
  slope: number,
  k: number,
): number[] {
  const e = rows
    .map((r) => Math.log(Math.max(1, r.runtime)) - slope * Math.log(r.nodes))
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    const v = Math.max(0.1, roundSig(Math.exp(quantileSorted(e, j / (k - 1))), 3));
    out.push(j > 0 ? Math.max(v, out[j - 1]) : v);
  }
  return out;
}

/**
 * The generator draws f ~ lognormal(ln m, sigma) and then rounds runtime * f up to a round value, so
 * the observed median of ln(limit / runtime) is larger than ln m. Find m (bisection on ln m, with a
 * fixed-seed set of draws) that reproduces the observed median over the trace's own run times.
 */
function fitOverestimate(
  runtimes: number[],
  observedLnMedian: number,
  sigma: number,
  rounds: number[],
): number {
  if (runtimes.length < 10) return Math.max(1, Math.exp(observedLnMedian));
  const step = Math.max(1, Math.floor(runtimes.length / 20_000));
  const sample = runtimes.filter((_, i) => i % step === 0);
  const rng = new Rng(12345);
  const z = sample.map(() => rng.normal());
  const sorted = [...rounds].sort((a, b) => a - b);
  const lnMedianFor = (lnM: number): number => {
    const lr = sample.map((r, i) => {
      const want = r * Math.max(1, Math.exp(lnM + sigma * z[i]));
      let limit = Math.ceil(want / 3600) * 3600;
      for (const v of sorted) {
        if (v >= want) {
          limit = v;
          break;
        }
      }
      return Math.log(limit / r);
    });
    return median(lr);
  };
  let lo = 0;
  let hi = Math.max(0.1, observedLnMedian);
  if (lnMedianFor(lo) >= observedLnMedian) return 1;
  for (let k = 0; k < 30; k++) {
    const mid = (lo + hi) / 2;
    if (lnMedianFor(mid) < observedLnMedian) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

/** Max-likelihood split point of a two-stage uniform on [lo, med] and [med, hi]. */
function fitTwoStage(x: number[], lo: number, hi: number): { med: number; lowShare: number } {
  if (x.length === 0 || hi - lo < 0.1) return { med: (lo + hi) / 2, lowShare: 0.5 };
  const sorted = [...x].sort((a, b) => a - b);
  let best = { med: (lo + hi) / 2, lowShare: 0.5, ll: Number.NEGATIVE_INFINITY };
  const steps = 200;
  for (let s = 1; s < steps; s++) {
    const med = lo + ((hi - lo) * s) / steps;
    const k = upperBound(sorted, med);
    const p = k / sorted.length;
    if (p === 0 || p === 1) continue;
    const ll = k * Math.log(p / (med - lo)) + (sorted.length - k) * Math.log((1 - p) / (hi - med));
    if (ll > best.ll) best = { med, lowShare: p, ll };
  }
  return { med: best.med, lowShare: best.lowShare };
}

function upperBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] <= v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * ln(runtime) = a + b ln(nodes) + e by least squares; then (a, sigma) are corrected for the cut to
 * [minR, maxR] the generator applies: the normal whose truncation to that band (shifted by b x the
 * class's mean ln(nodes)) has the residuals' mean and deviation, found by fixed-point iteration.
 */
function fitLogRuntime(
  rows: Row[],
  minR: number,
  maxR: number,
): { median: number; slope: number; sigma: number } {
  if (rows.length === 0) return { median: 0, slope: 0, sigma: 0 };
  const n = rows.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const r of rows) {
    const x = Math.log(r.nodes);
    const y = Math.log(Math.max(1, r.runtime));
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const vx = sxx / n - (sx / n) ** 2;
  const b = vx > 1e-9 ? (sxy / n - (sx / n) * (sy / n)) / vx : 0;
  const a = sy / n - b * (sx / n);
  let rss = 0;
  for (const r of rows) {
    const e = Math.log(Math.max(1, r.runtime)) - a - b * Math.log(r.nodes);
    rss += e * e;
  }
  const sd = Math.sqrt(rss / n);
  // the band in residual space, for a job of the class's mean size
  const shift = a + b * (sx / n);
  const [mu, sigma] = untruncate(0, sd, Math.log(minR) - shift, Math.log(maxR) - shift);
  return { median: Math.exp(a + mu), slope: b, sigma };
}

/** Mean and deviation of N(mu, sigma^2) cut to [lo, hi]. */
function truncatedMoments(mu: number, sigma: number, lo: number, hi: number): [number, number] {
  const al = (lo - mu) / sigma;
  const be = (hi - mu) / sigma;
  const z = Math.max(1e-12, normalCdf(be) - normalCdf(al));
  const pa = Math.exp(-0.5 * al * al) / Math.sqrt(2 * Math.PI);
  const pb = Math.exp(-0.5 * be * be) / Math.sqrt(2 * Math.PI);
  const d = (pa - pb) / z;
  const v = 1 + (al * pa - be * pb) / z - d * d;
  return [mu + sigma * d, sigma * Math.sqrt(Math.max(1e-12, v))];
}

/**
 * The (mu, sigma) whose cut to [lo, hi] has mean m and deviation s. A band filled about evenly has no
 * such normal (mu and sigma run off to infinity), so mu stays within one band width of the band and
 * sigma below two band widths (and 10): the result is then the flattest shape allowed.
 */
function untruncate(m: number, s: number, lo: number, hi: number): [number, number] {
  if (!(s > 0) || !(hi > lo)) return [m, s];
  const w = hi - lo;
  let mu = m;
  let sigma = s;
  for (let k = 0; k < 500; k++) {
    const [tm, ts] = truncatedMoments(mu, sigma, lo, hi);
    mu = Math.min(hi + w, Math.max(lo - w, mu + m - tm));
    sigma = Math.min(10, 2 * w, Math.max(1e-3, sigma * (s / ts)));
    if (Math.abs(m - tm) < 1e-6 && Math.abs(s - ts) < 1e-6) break;
  }
  return [mu, sigma];
}

function meanOne(w: number[]): number[] {
  const m = mean(w);
  return w.map((x) => (m > 0 ? x / m : 1));
}

/** x to `d` significant digits. */
function roundSig(x: number, d: number): number {
  if (x === 0) return 0;
  const f = 10 ** (d - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * f) / f;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
