import { median } from '../util/stats.js';

/**
 * Anomaly detection on the live series with robust z-scores: z = (x - median) / (1.4826 * MAD), where
 * MAD is the median absolute deviation (1.4826 makes it the standard deviation for normal data). Medians
 * ignore a minority of outliers, so a burst does not hide itself by inflating the scale the way a mean and
 * standard deviation would. The scale has a floor (`minScale`, in the series' units) so a flat series does
 * not turn a one-node change into an infinite score.
 * Checks: `jump` (first differences of busy_nodes), `level_vs_yesterday` (busy_nodes minus the same minute
 * one day before, when that is available) and `residual` (forecast errors against past errors).
 * Only the last `recentMinutes` are flagged; the whole window is the reference distribution.
 */

/** 1 / Phi^-1(3/4): scales MAD to a standard deviation under normality. */
const MAD_SCALE = 1.4826;
const DEFAULT_THRESHOLD = 3.5;

export interface RobustStats {
  median: number;
  /** Median absolute deviation from the median. */
  mad: number;
  /** max(MAD_SCALE * mad, minScale): the z-score denominator. */
  scale: number;
  /** Finite values used. */
  n: number;
}

export function robustStats(x: ArrayLike<number>, minScale = 0): RobustStats {
  const med = median(x);
  const dev: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) dev.push(Math.abs(x[i] - med));
  const mad = median(dev);
  const s = MAD_SCALE * mad;
  return { median: med, mad, scale: Math.max(s, minScale), n: dev.length };
}

/** z[i] = (x[i] - median(ref)) / scale(ref); NaN where x is not finite or the scale is 0. */
export function robustZ(x: ArrayLike<number>, ref: ArrayLike<number> = x, minScale = 0): Float64Array {
  const st = robustStats(ref, minScale);
  const z = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = st.scale > 0 ? (x[i] - st.median) / st.scale : Number.NaN;
  return z;
}

export type AnomalyKind = 'jump' | 'level_vs_yesterday' | 'residual';

export interface AnomalyFlag {
  kind: AnomalyKind;
  /** Epoch seconds of the minute. */
  time: number;
  /** The value scored: the change, the difference to yesterday, or the residual. */
  value: number;
  score: number;
}

export interface AnomalyReport {
  threshold: number;
  flags: AnomalyFlag[];
  /** Which checks ran (level_vs_yesterday needs yesterday's series; residual needs past errors). */
  checked: AnomalyKind[];
  stats: Partial<Record<AnomalyKind, RobustStats>>;
}

export interface AnomalyOptions {
  threshold?: number;
  /** Flag only the last this many minutes (default 30). */
  recentMinutes?: number;
  /** Scale floor in nodes (default 0.5). */
  minScale?: number;
}

/** Flag recent points of `x` (times start + 60 i) whose |z| against `ref` exceeds the threshold. */
function flagRecent(
  kind: AnomalyKind,
  x: Float64Array,
  ref: ArrayLike<number>,
  start: number,
  o: Required<AnomalyOptions>,
  out: AnomalyReport,
): void {
  const st = robustStats(ref, o.minScale);
  out.stats[kind] = st;
  out.checked.push(kind);
  if (!(st.scale > 0) || st.n < 3) return;
  for (let i = Math.max(0, x.length - o.recentMinutes); i < x.length; i++) {
    if (!Number.isFinite(x[i])) continue;
    const z = (x[i] - st.median) / st.scale;
    if (Math.abs(z) > o.threshold) out.flags.push({ kind, time: start + 60 * i, value: x[i], score: z });
  }
}

function defaults(o: AnomalyOptions): Required<AnomalyOptions> {
  return {
    threshold: o.threshold ?? DEFAULT_THRESHOLD,
    recentMinutes: o.recentMinutes ?? 30,
    minScale: o.minScale ?? 0.5,
  };
}

/**
 * Anomalies of busy_nodes on a minute grid starting at `start` (NaN = missing).
 * @param busy   busy_nodes[M]
 * @param dayAgo busy_nodes[M] of the same minutes one day earlier, or null when not available
 */
export function detectAnomalies(
  start: number,
  busy: Float64Array,
  dayAgo: Float64Array | null = null,
  opts: AnomalyOptions = {},
): AnomalyReport {
  const o = defaults(opts);
  const out: AnomalyReport = { threshold: o.threshold, flags: [], checked: [], stats: {} };
  const M = busy.length;
  // jump: d[i] = busy[i] - busy[i-1] (d[0] = NaN)
  const d = new Float64Array(M).fill(Number.NaN);
  for (let i = 1; i < M; i++) d[i] = busy[i] - busy[i - 1];
  flagRecent('jump', d, d, start, o, out);
  // level vs yesterday: e[i] = busy[i] - dayAgo[i]
  if (dayAgo && dayAgo.length === M) {
    const e = new Float64Array(M);
    let finite = 0;
    for (let i = 0; i < M; i++) {
      e[i] = busy[i] - dayAgo[i];
      if (Number.isFinite(e[i])) finite++;
    }
    if (finite >= 3) flagRecent('level_vs_yesterday', e, e, start, o, out);
  }
  return out;
}

/**
 * Forecast residuals (actual - forecast) of recent minutes scored against past residuals.
 * @param residuals recent residuals, minute grid from `start`
 * @param past      residuals of earlier forecasts (the reference distribution)
 */
export function residualAnomalies(
  start: number,
  residuals: Float64Array,
  past: ArrayLike<number>,
  opts: AnomalyOptions = {},
): AnomalyReport {
  const o = defaults({ recentMinutes: residuals.length, ...opts });
  const out: AnomalyReport = { threshold: o.threshold, flags: [], checked: [], stats: {} };
  flagRecent('residual', residuals, past, start, o, out);
  return out;
}
