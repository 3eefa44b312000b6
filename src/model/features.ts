import Holidays from 'date-holidays';
import type { Timeline, TimelineColumn } from '../timeline/columns.js';
import { UserError } from '../util/errors.js';

/**
 * Input features for the forecasters: one row per timeline minute, F columns, row-major Float32Array.
 *
 * Row t describes what is known at the instant t (the timeline snapshot), never later:
 *  - cluster columns from the timeline, node-valued ones divided by capacity, CPU-valued ones by total CPUs,
 *    counts as log1p, durations in hours (the scheduler-aware known future, ending_*_nodes and
 *    queued_nodes, the running nodes by age and the expected nodes freed within 30 minutes are included);
 *  - calendar in the site's time zone: hour of day (with minutes), weekday and month as sin/cos, and a
 *    public-holiday flag (date-holidays, type `public`; no country = always 0);
 *  - same time in history: busy nodes one day and one week before the minute t + lead (lead defaults to
 *    the forecast horizon, so the last `lead` rows of a lookback window carry the previous day's/week's
 *    values at exactly the target minutes). Where that minute is before the timeline starts the value is
 *    filled with the current busy fraction at t (persistence) and the `*_avail` flag is 0, else 1.
 */

/** How one feature column is made from one timeline column. */
export type Transform = 'capacity' | 'cpus' | 'log1p' | 'hours' | 'raw';

/** One cluster feature value from its timeline value. */
function clusterFeature(transform: Transform, v: number, capacity: number, cpus: number): number {
  if (transform === 'log1p') return Math.log1p(Math.max(0, v));
  if (transform === 'raw') return v;
  return v * (transform === 'capacity' ? 1 / capacity : transform === 'cpus' ? 1 / cpus : 1 / 3600);
}

/** The cluster features: name, timeline column, transform (in FEATURE_NAMES order). */
const CLUSTER_FEATURES: ReadonlyArray<[name: string, column: TimelineColumn, transform: Transform]> = [
  ['busy_nodes', 'busy_nodes', 'capacity'],
  ['running_jobs', 'running_jobs', 'log1p'],
  ['queued_jobs', 'queued_jobs', 'log1p'],
  ['overshoot_nodes', 'overshoot_nodes', 'capacity'],
  ['cpu_util', 'cpu_util', 'raw'],
  ['mean_nodes_running', 'mean_nodes_running', 'capacity'],
  ['mean_cpus_running', 'mean_cpus_running', 'cpus'],
  ['mean_nodes_queued', 'mean_nodes_queued', 'capacity'],
  ['mean_cpus_queued', 'mean_cpus_queued', 'cpus'],
  ['queued_nodes', 'queued_nodes', 'capacity'],
  ['mean_elapsed_running_h', 'mean_elapsed_running_s', 'hours'],
  ['mean_limit_running_h', 'mean_limit_running_s', 'hours'],
  ['p90_limit_running_h', 'p90_limit_running_s', 'hours'],
  ['ending_5m_nodes', 'ending_5m_nodes', 'capacity'],
  ['ending_10m_nodes', 'ending_10m_nodes', 'capacity'],
  ['ending_30m_nodes', 'ending_30m_nodes', 'capacity'],
  ['ending_60m_nodes', 'ending_60m_nodes', 'capacity'],
  ['ending_240m_nodes', 'ending_240m_nodes', 'capacity'],
  ['age_lt5m_nodes', 'age_lt5m_nodes', 'capacity'],
  ['age_5_30m_nodes', 'age_5_30m_nodes', 'capacity'],
  ['age_30_120m_nodes', 'age_30_120m_nodes', 'capacity'],
  ['age_ge120m_nodes', 'age_ge120m_nodes', 'capacity'],
  ['expected_end_30m_nodes', 'expected_end_30m_nodes', 'capacity'],
  ['submitted_last_min', 'submitted_last_min', 'log1p'],
  ['started_last_min', 'started_last_min', 'log1p'],
  ['ended_last_min', 'ended_last_min', 'log1p'],
];

const CALENDAR_FEATURES = ['hour_sin', 'hour_cos', 'weekday_sin', 'weekday_cos', 'month_sin', 'month_cos'];
const HOLIDAY_FEATURE = 'holiday';
const HISTORY_FEATURES = ['busy_1d_ago', 'busy_1d_avail', 'busy_1w_ago', 'busy_1w_avail'];

export const FEATURE_NAMES: readonly string[] = [
  ...CLUSTER_FEATURES.map((c) => c[0]),
  ...CALENDAR_FEATURES,
  HOLIDAY_FEATURE,
  ...HISTORY_FEATURES,
];

export const DAY_MINUTES = 1440;
export const WEEK_MINUTES = 7 * DAY_MINUTES;

export interface FeatureOptions {
  /** IANA time zone of the site (config Cluster.TimeZone); default UTC. */
  timeZone?: string;
  /** date-holidays country, optionally `CC-STATE` (config Cluster.HolidayCountry); empty = no holidays. */
  holidayCountry?: string;
  /** History features look at t + lead - 1 day / 1 week; default 30 (the forecast horizon). */
  historyLead?: number;
}

/** What is needed to rebuild the same features elsewhere (stored with a model). */
export interface FeatureSpec {
  names: string[];
  timeZone: string;
  holidayCountry: string;
  historyLead: number;
}

export interface FeatureMatrix {
  spec: FeatureSpec;
  /** Rows (= timeline minutes). */
  minutes: number;
  /** Columns (= spec.names.length). */
  F: number;
  /** (minutes, F) row-major. */
  data: Float32Array;
}

/** Index of a feature by name (throws on an unknown name: a programming error). */
export function featureIndex(spec: FeatureSpec, name: string): number {
  const i = spec.names.indexOf(name);
  if (i < 0) throw new Error(`unknown feature ${name}`);
  return i;
}

/** The spec of features built with `opts` (defaults filled in, the history lead checked). */
export function featureSpec(opts: FeatureOptions = {}): FeatureSpec {
  const historyLead = opts.historyLead ?? 30;
  if (!Number.isInteger(historyLead) || historyLead < 0 || historyLead >= DAY_MINUTES) {
    throw new UserError(`historyLead: expected an integer in [0, ${DAY_MINUTES}), got ${historyLead}`);
  }
  return {
    names: [...FEATURE_NAMES],
    timeZone: opts.timeZone || 'UTC',
    holidayCountry: opts.holidayCountry ?? '',
    historyLead,
  };
}

const TRANSFORMS: readonly Transform[] = CLUSTER_FEATURES.map((c) => c[2]);
const F_CALENDAR = CLUSTER_FEATURES.length;
const F_HISTORY = F_CALENDAR + CALENDAR_FEATURES.length + 1;

/** The timeline columns the cluster features read, in CLUSTER_FEATURES order (featureRow's `src`). */
export function clusterColumns(cols: Record<TimelineColumn, Float64Array>): Float64Array[] {
  return CLUSTER_FEATURES.map(([, column]) => cols[column]);
}

/**
 * Row m's features into X[o .. o + F), F = FEATURE_NAMES.length, from timeline rows <= m only: row m of the
 * cluster columns `src` (clusterColumns), busy nodes at the history rows m + lead - 1 day / 1 week when they
 * exist, the row's local time `localMin` (local epoch minutes, see localEpochMinutes) and whether its local day
 * is a public holiday (0/1). `capacity` and `cpus` scale the node- and CPU-valued columns.
 */
export function featureRow(
  X: Float32Array,
  o: number,
  src: readonly Float64Array[],
  busy: Float64Array,
  m: number,
  capacity: number,
  cpus: number,
  historyLead: number,
  localMin: number,
  holiday: number,
): void {
  // cluster columns
  for (let f = 0; f < TRANSFORMS.length; f++)
    X[o + f] = clusterFeature(TRANSFORMS[f], src[f][m], capacity, cpus);
  // calendar: hour of day (with minutes), weekday (0 = Sunday; 1970-01-01 was a Thursday), month, holiday
  const day = Math.floor(localMin / DAY_MINUTES);
  const minuteOfDay = localMin - day * DAY_MINUTES;
  const dow = (((day + 4) % 7) + 7) % 7;
  const month = civilMonth(day);
  const a = (2 * Math.PI * minuteOfDay) / DAY_MINUTES;
  const c = o + F_CALENDAR;
  X[c] = Math.sin(a);
  X[c + 1] = Math.cos(a);
  X[c + 2] = Math.sin((2 * Math.PI * dow) / 7);
  X[c + 3] = Math.cos((2 * Math.PI * dow) / 7);
  X[c + 4] = Math.sin((2 * Math.PI * month) / 12);
  X[c + 5] = Math.cos((2 * Math.PI * month) / 12);
  X[c + 6] = holiday;
  // same time in history: busy at m + lead - period, else persistence with flag 0
  const d = m + historyLead - DAY_MINUTES;
  const w = m + historyLead - WEEK_MINUTES;
  const h = o + F_HISTORY;
  X[h] = (d >= 0 ? busy[d] : busy[m]) / capacity;
  X[h + 1] = d >= 0 ? 1 : 0;
  X[h + 2] = (w >= 0 ? busy[w] : busy[m]) / capacity;
  X[h + 3] = w >= 0 ? 1 : 0;
}

/** Build the (minutes, F) feature matrix of a timeline: featureRow for every row. */
export function buildFeatures(tl: Timeline, opts: FeatureOptions = {}): FeatureMatrix {
  const spec = featureSpec(opts);
  const n = tl.minutes;
  const F = spec.names.length;
  const X = new Float32Array(n * F);
  const cap = tl.capacity > 0 ? tl.capacity : 1;
  const cpus = tl.totalCpus > 0 ? tl.totalCpus : 1;
  const localMin = localEpochMinutes(tl.start, n, spec.timeZone);
  const holidays = holidayDays(spec.holidayCountry, localMin[0], localMin[n - 1] ?? localMin[0]);
  const src = clusterColumns(tl.columns);
  const busy = tl.columns.busy_nodes;
  for (let t = 0; t < n; t++) {
    const holiday = holidays.has(Math.floor(localMin[t] / DAY_MINUTES)) ? 1 : 0;
    featureRow(X, t * F, src, busy, t, cap, cpus, spec.historyLead, localMin[t], holiday);
  }
  return { spec, minutes: n, F, data: X };
}

/**
 * Local wall-clock time of each row as "local epoch minutes" (UTC minutes + the zone's offset then).
 * The offset is looked up once per UTC hour; only hours in which it changes (DST switches) are
 * resolved minute by minute, so a year costs ~8,800 Intl calls.
 */
export function localEpochMinutes(start: number, minutes: number, timeZone: string): Float64Array {
  const offsetAt = offsetFinder(timeZone);
  const out = new Float64Array(minutes);
  const startMin = Math.floor(start / 60);
  let t = 0;
  while (t < minutes) {
    const m = startMin + t;
    const hourEnd = (Math.floor(m / 60) + 1) * 60; // next UTC hour boundary, in epoch minutes
    const run = Math.min(hourEnd - m, minutes - t);
    const off = offsetAt(m);
    if (offsetAt(m + run - 1) === off) {
      for (let k = 0; k < run; k++) out[t + k] = m + k + off;
    } else {
      for (let k = 0; k < run; k++) out[t + k] = m + k + offsetAt(m + k);
    }
    t += run;
  }
  return out;
}

/** A function epoch-minute -> UTC offset in minutes for an IANA zone (throws UserError on a bad zone). */
export function offsetFinder(timeZone: string): (epochMinute: number) => number {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    throw new UserError(
      `Cluster.TimeZone: unknown time zone '${timeZone}' (expected an IANA name like Europe/Stockholm)`,
    );
  }
  const cache = new Map<number, number>();
  return (epochMinute: number) => {
    const hit = cache.get(epochMinute);
    if (hit !== undefined) return hit;
    const parts = fmt.formatToParts(new Date(epochMinute * 60_000));
    const v: Record<string, number> = {};
    for (const p of parts) if (p.type !== 'literal') v[p.type] = Number(p.value);
    const local = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute) / 60_000;
    const off = local - epochMinute;
    if (cache.size > 100_000) cache.clear();
    cache.set(epochMinute, off);
    return off;
  };
}

/** Month 0..11 of a day number (days since 1970-01-01), proleptic Gregorian (H. Hinnant's civil_from_days). */
export function civilMonth(day: number): number {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return mp < 10 ? mp + 2 : mp - 10;
}

/** Local day numbers of public holidays between two local epoch minutes (inclusive). */
export function holidayDays(country: string, fromLocalMin: number, toLocalMin: number): Set<number> {
  const days = new Set<number>();
  const code = country.trim();
  if (!code) return days;
  const [cc, state] = code.split('-');
  const hd = new Holidays();
  const known = hd.getCountries();
  if (!cc || !(cc.toUpperCase() in known)) {
    throw new UserError(
      `Cluster.HolidayCountry: unknown country '${country}' (expected an ISO code like SE or DE-BY, or empty)`,
    );
  }
  if (state && !(state.toUpperCase() in (hd.getStates(cc.toUpperCase()) ?? {}))) {
    throw new UserError(
      `Cluster.HolidayCountry: unknown state '${state}' of ${cc.toUpperCase()} in '${country}'`,
    );
  }
  if (state) hd.init(cc.toUpperCase(), state.toUpperCase());
  else hd.init(cc.toUpperCase());
  const y0 = new Date(fromLocalMin * 60_000).getUTCFullYear();
  const y1 = new Date(toLocalMin * 60_000).getUTCFullYear();
  for (let y = y0; y <= y1; y++) {
    for (const h of hd.getHolidays(y)) {
      if (h.type !== 'public') continue;
      const [yy, mm, dd] = h.date.slice(0, 10).split('-').map(Number);
      days.add(Date.UTC(yy, mm - 1, dd) / 86_400_000);
    }
  }
  return days;
}
