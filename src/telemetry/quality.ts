import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../timeline/columns.js';
import { InputError } from '../util/errors.js';
import type { TelemetryRow } from './schema.js';

/**
 * Data quality of a live series, checked on every read, and the series put on a clean minute grid.
 *
 * Grid: the `lookbackMinutes` minute instants ending at floor(now / 60) * 60. A point belongs to the minute
 * it falls in (floor); a point not on the minute is counted `misaligned`.
 * Checks: duplicated minutes (the last one read wins, as InfluxDB's last write), out-of-order points (in
 * the order given), points in the future beyond `futureToleranceS` (clock skew: dropped), values out of
 * range (negatives -> 0, busy_nodes > capacity -> capacity, cpu_util > 1 -> 1: clamped and counted),
 * non-finite values (filled from the minute before), stale data (last point older than `staleMinutes`).
 * Gap rule: a missing minute is forward-filled from the last real point while the gap is at most
 * `maxFillMinutes` long; later minutes of a longer gap stay missing (NaN, state MISSING). A leading gap of
 * at most `maxFillMinutes` is back-filled from the first point; a longer one is the cold start (history
 * shorter than the lookback, state BEFORE_HISTORY, not counted as missing).
 * Verdict: `no_forecast` (with reasons) when there is no data, the data is stale, the history is shorter
 * than `minHistoryMinutes`, or more than `maxMissingFraction` of the history is missing: those findings
 * are made `fatal` where they are found; `degraded` when any other flag is raised; `ok` otherwise.
 */

export const ROW_PRESENT = 0;
export const ROW_FILLED = 1;
export const ROW_MISSING = 2;
export const ROW_BEFORE_HISTORY = 3;

export interface QualityOptions {
  /** The forecast origin, epoch seconds. */
  now: number;
  lookbackMinutes: number;
  /** Nodes of the series (busy_nodes upper bound); default: the last finite `capacity` read. */
  capacity?: number;
  maxFillMinutes?: number;
  staleMinutes?: number;
  maxMissingFraction?: number;
  futureToleranceS?: number;
  /** Less history than this -> no_forecast (default: the whole lookback). */
  minHistoryMinutes?: number;
}

const QUALITY_DEFAULTS = {
  maxFillMinutes: 5,
  staleMinutes: 5,
  maxMissingFraction: 0.1,
  futureToleranceS: 60,
} as const;

export type QualityFlag =
  | 'no_data'
  | 'stale'
  | 'cold_start'
  | 'missing_minutes'
  | 'filled_minutes'
  | 'incomplete_rows'
  | 'out_of_range'
  | 'duplicates'
  | 'out_of_order'
  | 'clock_skew'
  | 'misaligned';

export interface QualityProblem {
  time: number;
  column: TimelineColumn | 'time';
  value: number;
  why: string;
}

/** One thing found about the series: its flag, a short sentence, and whether it rules out a forecast. */
export interface QualityFinding {
  flag: QualityFlag;
  message: string;
  /** True: no forecast from this data (no data, stale, too little history, too much missing). */
  fatal: boolean;
}

export interface QualityReport {
  verdict: 'ok' | 'degraded' | 'no_forecast';
  /** Everything found, in the order checked; each finding says whether it is fatal. */
  findings: QualityFinding[];
  /** The findings' messages, fatal ones first: why no_forecast / degraded, one short sentence each. */
  reasons: string[];
  /** The findings' flags, in the order checked. */
  flags: QualityFlag[];
  window: { start: number; end: number; minutes: number };
  /** Minutes from the first data point to the window end (<= lookback). */
  historyMinutes: number;
  lastPointTime: number | null;
  lastPointAgeS: number | null;
  counts: {
    points: number;
    present: number;
    filled: number;
    missing: number;
    beforeHistory: number;
    duplicates: number;
    outOfOrder: number;
    future: number;
    outOfRange: number;
    incompleteRows: number;
    misaligned: number;
  };
  /** Fraction of the history's minutes that are missing after filling. */
  missingFraction: number;
  /** The first few problems found, for logs and responses. */
  examples: QualityProblem[];
  rule: {
    maxFillMinutes: number;
    staleMinutes: number;
    maxMissingFraction: number;
    futureToleranceS: number;
  };
}

export interface QualityResult {
  report: QualityReport;
  /** The series on the grid: filled values where the rule allows, NaN where missing / before history. */
  timeline: Timeline;
  /** Per minute: ROW_PRESENT, ROW_FILLED, ROW_MISSING or ROW_BEFORE_HISTORY. */
  state: Uint8Array;
}

const MAX_EXAMPLES = 10;
const NC = TIMELINE_COLUMNS.length;
const I_BUSY = TIMELINE_COLUMNS.indexOf('busy_nodes');
const I_UTIL = TIMELINE_COLUMNS.indexOf('cpu_util');

export function checkQuality(rows: readonly TelemetryRow[], o: QualityOptions): QualityResult {
  const maxFill = o.maxFillMinutes ?? QUALITY_DEFAULTS.maxFillMinutes;
  const staleMin = o.staleMinutes ?? QUALITY_DEFAULTS.staleMinutes;
  const maxMissing = o.maxMissingFraction ?? QUALITY_DEFAULTS.maxMissingFraction;
  const tol = o.futureToleranceS ?? QUALITY_DEFAULTS.futureToleranceS;
  const M = o.lookbackMinutes;
  if (!(Number.isInteger(M) && M > 0))
    throw new InputError(`lookbackMinutes: expected a positive whole number, got ${M}`);
  if (!Number.isFinite(o.now)) throw new InputError(`now: expected epoch seconds, got ${o.now}`);
  const minHistory = Math.min(o.minHistoryMinutes ?? M, M);
  const end = Math.floor(o.now / 60) * 60;
  const start = end - 60 * (M - 1);

  // capacity / total CPUs of the series: given, else the last finite value read
  let capacity = o.capacity ?? Number.NaN;
  let totalCpus = Number.NaN;
  for (let k = rows.length - 1; k >= 0 && (Number.isNaN(capacity) || Number.isNaN(totalCpus)); k--) {
    if (Number.isNaN(capacity) && Number.isFinite(rows[k].capacity) && rows[k].capacity > 0)
      capacity = rows[k].capacity;
    if (Number.isNaN(totalCpus) && Number.isFinite(rows[k].totalCpus) && rows[k].totalCpus > 0)
      totalCpus = rows[k].totalCpus;
  }

  const counts = {
    points: rows.length,
    present: 0,
    filled: 0,
    missing: 0,
    beforeHistory: 0,
    duplicates: 0,
    outOfOrder: 0,
    future: 0,
    outOfRange: 0,
    incompleteRows: 0,
    misaligned: 0,
  };
  const examples: QualityProblem[] = [];
  const problem = (p: QualityProblem) => {
    if (examples.length < MAX_EXAMPLES) examples.push(p);
  };

  // 1. place points on the grid: vals[M x NC] row-major, state per minute
  const vals = new Float64Array(M * NC).fill(Number.NaN);
  const state = new Uint8Array(M).fill(ROW_MISSING);
  let prevTime = Number.NEGATIVE_INFINITY;
  let lastPoint: number | null = null;
  let before = false; // a point older than the window: history reaches back past it
  for (const r of rows) {
    const t = r.time;
    if (!Number.isFinite(t)) {
      problem({ time: t, column: 'time', value: t, why: 'not a number' });
      counts.incompleteRows++;
      continue;
    }
    if (t < prevTime) {
      counts.outOfOrder++;
      problem({ time: t, column: 'time', value: t, why: `earlier than the point before it (${prevTime})` });
    }
    prevTime = Math.max(prevTime, t);
    if (t > o.now + tol) {
      counts.future++;
      problem({ time: t, column: 'time', value: t, why: `${Math.round(t - o.now)} s in the future` });
      continue;
    }
    if (t % 60 !== 0) counts.misaligned++;
    const i = Math.floor((t - start) / 60);
    if (i < 0) {
      before = true;
      continue;
    }
    if (i >= M) continue; // within the tolerance but past the last minute instant
    if (lastPoint === null || t > lastPoint) lastPoint = t;
    if (state[i] === ROW_PRESENT) counts.duplicates++;
    state[i] = ROW_PRESENT;
    // 2. values: range-check and clamp; non-finite stays NaN and is filled below
    const o2 = i * NC;
    let bad = false;
    let incomplete = false;
    for (let c = 0; c < NC; c++) {
      let v = r.values[TIMELINE_COLUMNS[c]];
      if (!Number.isFinite(v)) {
        incomplete = true;
        vals[o2 + c] = Number.NaN;
        continue;
      }
      let why = '';
      if (v < 0) {
        why = 'negative';
        v = 0;
      } else if (c === I_BUSY && v > capacity) {
        why = `more than the capacity ${capacity}`;
        v = capacity;
      } else if (c === I_UTIL && v > 1) {
        why = 'more than 1';
        v = 1;
      }
      if (why) {
        bad = true;
        problem({ time: t, column: TIMELINE_COLUMNS[c], value: r.values[TIMELINE_COLUMNS[c]], why });
      }
      vals[o2 + c] = v;
    }
    if (bad) counts.outOfRange++;
    if (incomplete) counts.incompleteRows++;
  }

  // 3. history start: first present minute (0 when older points exist); short leading gaps are back-filled
  let first = state.indexOf(ROW_PRESENT);
  if (first < 0) first = M;
  if (before) first = Math.min(first, 0);
  let histStart = first;
  if (first > 0 && first < M && first <= maxFill) histStart = 0;
  for (let i = 0; i < histStart; i++) state[i] = ROW_BEFORE_HISTORY;
  if (histStart === 0 && first > 0 && first < M) {
    for (let i = 0; i < first; i++) {
      vals.copyWithin(i * NC, first * NC, first * NC + NC);
      state[i] = ROW_FILLED;
    }
  }

  // 4. forward fill: gaps up to maxFill minutes, then missing; NaN cells of present rows from the row before
  let lastReal = -1;
  for (let i = histStart; i < M; i++) {
    const o2 = i * NC;
    if (state[i] === ROW_PRESENT) {
      if (i > 0 && state[i - 1] !== ROW_MISSING && state[i - 1] !== ROW_BEFORE_HISTORY) {
        for (let c = 0; c < NC; c++) if (Number.isNaN(vals[o2 + c])) vals[o2 + c] = vals[o2 - NC + c];
      }
      lastReal = i;
    } else if (state[i] === ROW_MISSING) {
      if (lastReal >= 0 && i - lastReal <= maxFill) {
        vals.copyWithin(o2, lastReal * NC, lastReal * NC + NC);
        state[i] = ROW_FILLED;
      }
    }
  }
  for (let i = 0; i < M; i++) {
    if (state[i] === ROW_PRESENT) counts.present++;
    else if (state[i] === ROW_FILLED) counts.filled++;
    else if (state[i] === ROW_MISSING) counts.missing++;
    else counts.beforeHistory++;
  }

  // 5. flags and verdict
  const historyMinutes = M - histStart;
  const lastAge = lastPoint === null ? null : o.now - lastPoint;
  const missingFraction = historyMinutes > 0 ? counts.missing / historyMinutes : 1;
  const findings: QualityFinding[] = [];
  const found = (flag: QualityFlag, message: string, fatal = false): void => {
    findings.push({ flag, message, fatal });
  };
  if (lastPoint === null) {
    found('no_data', `no data in the last ${M} minutes`, true);
  } else {
    if (lastAge !== null && lastAge > staleMin * 60) {
      found(
        'stale',
        `stale: the last point is ${Math.round(lastAge / 60)} min old (limit ${staleMin} min)`,
        true,
      );
    }
    if (historyMinutes < M) {
      const msg = `cold start: ${historyMinutes} of ${M} minutes of history`;
      if (historyMinutes < minHistory) found('cold_start', `${msg} (need ${minHistory})`, true);
      else found('cold_start', msg);
    }
    if (counts.missing > 0) {
      const pct = (100 * missingFraction).toFixed(1);
      if (missingFraction > maxMissing)
        found('missing_minutes', `${pct}% of minutes missing (limit ${100 * maxMissing}%)`, true);
      else found('missing_minutes', `${counts.missing} minutes missing (${pct}%)`);
    }
  }
  if (counts.filled > 0) found('filled_minutes', `${counts.filled} minutes filled from a neighbour`);
  if (counts.incompleteRows > 0)
    found('incomplete_rows', `${counts.incompleteRows} points with missing values`);
  if (counts.outOfRange > 0)
    found('out_of_range', `${counts.outOfRange} points with values out of range (clamped)`);
  if (counts.duplicates > 0) found('duplicates', `${counts.duplicates} duplicated minutes (last kept)`);
  if (counts.outOfOrder > 0) found('out_of_order', `${counts.outOfOrder} points out of order`);
  if (counts.future > 0)
    found('clock_skew', `${counts.future} points more than ${tol} s in the future (dropped; check clocks)`);
  if (counts.misaligned > 0) found('misaligned', `${counts.misaligned} points not on a whole minute`);
  const fatal = findings.filter((f) => f.fatal);
  const verdict = fatal.length ? 'no_forecast' : findings.length ? 'degraded' : 'ok';

  const columns = {} as Record<TimelineColumn, Float64Array>;
  TIMELINE_COLUMNS.forEach((c, k) => {
    const col = new Float64Array(M);
    for (let i = 0; i < M; i++) col[i] = vals[i * NC + k];
    columns[c] = col;
  });
  const cap = capacity > 0 ? capacity : Number.NaN;
  return {
    report: {
      verdict,
      findings,
      reasons: [...fatal, ...findings.filter((f) => !f.fatal)].map((f) => f.message),
      flags: findings.map((f) => f.flag),
      window: { start, end, minutes: M },
      historyMinutes,
      lastPointTime: lastPoint,
      lastPointAgeS: lastAge,
      counts,
      missingFraction,
      examples,
      rule: {
        maxFillMinutes: maxFill,
        staleMinutes: staleMin,
        maxMissingFraction: maxMissing,
        futureToleranceS: tol,
      },
    },
    timeline: { start, minutes: M, capacity: cap, totalCpus: totalCpus > 0 ? totalCpus : cap, columns },
    state,
  };
}

/** Why there is no forecast: the messages of the findings made fatal (empty unless the verdict is no_forecast). */
export function fatalReasons(r: QualityReport): string[] {
  return r.findings.filter((f) => f.fatal).map((f) => f.message);
}
