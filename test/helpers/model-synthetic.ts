import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../../src/timeline/columns.js';
import { mulberry32 } from '../../src/util/rng.js';

/**
 * Small constructed timelines for the model/evaluate tests: every column zero except those given.
 * `busy` may be an array or a function of the row.
 */
export function syntheticTimeline(opts: {
  start?: number;
  minutes: number;
  capacity?: number;
  totalCpus?: number;
  busy: ArrayLike<number> | ((t: number) => number);
  columns?: Partial<Record<TimelineColumn, (t: number) => number>>;
}): Timeline {
  const n = opts.minutes;
  const columns = {} as Record<TimelineColumn, Float64Array>;
  for (const c of TIMELINE_COLUMNS) columns[c] = new Float64Array(n);
  const busy = opts.busy;
  for (let t = 0; t < n; t++) columns.busy_nodes[t] = typeof busy === 'function' ? busy(t) : busy[t];
  for (const [name, f] of Object.entries(opts.columns ?? {})) {
    const col = columns[name as TimelineColumn];
    for (let t = 0; t < n; t++) col[t] = f!(t);
  }
  const capacity = opts.capacity ?? 100;
  return {
    start: opts.start ?? Date.UTC(2024, 0, 1) / 1000,
    minutes: n,
    capacity,
    totalCpus: opts.totalCpus ?? capacity,
    columns,
  };
}

/** A deterministic pseudo-random generator (mulberry32) for reproducible noise. */
export const rng = mulberry32;
