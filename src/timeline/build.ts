import type { JobRecord } from '../jobs/record.js';
import { InputError } from '../util/errors.js';
import type { Timeline } from './columns.js';
import { type BuildStats, RecordsState } from './records-state.js';
import { RowBuilder } from './rows.js';
import { DailyEndingTable, ENDING_BLOCK_ROWS, type EndingTable } from './survival.js';

/**
 * Jobs -> minute timeline: the job records are replayed as a scheduler state (./records-state.ts: the queue
 * and running rules of records) and every row is written from it by the row builder (./rows.ts: the row
 * semantics, the same for live rows). Cost O(jobs + rows) (a job changes class a bounded number of times)
 * plus a 128-bin scan per row for the p90 limit; memory ~160 bytes per job (the records and the builder's
 * running state) plus one Float64Array of `minutes` entries per column.
 */

/** Refuse spans that would take gigabytes (about 11.4 years of minutes); the user can clip with since/until. */
const MAX_TIMELINE_MINUTES = 6_000_000;

export interface BuildOptions {
  /** Nodes in the cluster: busy_nodes is clipped to it. */
  capacity: number;
  /** CPUs per node (default 1); only used for the default of totalCpus. */
  cpusPerNode?: number;
  /** CPUs in the cluster, the cpu_util denominator (default capacity * cpusPerNode). */
  totalCpus?: number;
  /** First row: the first minute boundary >= start (epoch s). Default: floor-minute of the earliest event. */
  start?: number;
  /** Rows stop before this instant (exclusive, epoch s). Default: up to and including the ceil-minute of the latest event. */
  end?: number;
  /**
   * The ending table for expected_end_30m_nodes on every row (e.g. one saved by `pcm timeline`, for a live
   * row built from a queue snapshot). Default: refitted once a day from the jobs given (see ./rows.ts).
   */
  endingTable?: EndingTable;
}

/** Collects jobs and builds the timeline once all are in. Feed with `add`, then `finish`. */
export class TimelineBuilder {
  private readonly records = new RecordsState();
  private readonly opts: BuildOptions;

  constructor(opts: BuildOptions) {
    if (!(Number.isFinite(opts.capacity) && opts.capacity > 0)) {
      throw new InputError(`capacity: expected a positive number of nodes, got ${opts.capacity}`);
    }
    const total = opts.totalCpus ?? opts.capacity * (opts.cpusPerNode ?? 1);
    if (!(Number.isFinite(total) && total > 0)) {
      throw new InputError(`totalCpus: expected a positive number of CPUs, got ${total}`);
    }
    if (opts.start !== undefined && opts.end !== undefined && !(opts.end > opts.start)) {
      throw new InputError(`end (${opts.end}) must be after start (${opts.start})`);
    }
    this.opts = opts;
  }

  get count(): number {
    return this.records.n;
  }

  /** What was done with the jobs added so far (data-quality counts). */
  get stats(): BuildStats {
    return this.records.stats;
  }

  add(job: JobRecord): void {
    this.records.add(job);
  }

  finish(): Timeline {
    const { capacity } = this.opts;
    const totalCpus = this.opts.totalCpus ?? capacity * (this.opts.cpusPerNode ?? 1);
    const { minT, maxT } = this.records;
    // rows: minute instants T0 .. T0 + 60*(M-1)
    let T0: number;
    let last: number;
    if (this.opts.start !== undefined) T0 = Math.ceil(this.opts.start / 60) * 60;
    else T0 = minT <= maxT ? Math.floor(minT / 60) * 60 : 0;
    if (this.opts.end !== undefined) last = Math.ceil(this.opts.end / 60) * 60 - 60;
    else last = minT <= maxT ? Math.ceil(maxT / 60) * 60 : T0 - 60;
    const noEvents = !(minT <= maxT) && this.opts.start === undefined;
    const M = noEvents ? 0 : Math.max(0, (last - T0) / 60 + 1);
    if (M > MAX_TIMELINE_MINUTES) {
      throw new InputError(
        `the timeline would span ${M} minutes (${iso(T0)} .. ${iso(last)}), more than ${MAX_TIMELINE_MINUTES}; ` +
          'clip it with --since/--until',
      );
    }
    const cols = newColumns(M);
    const tl: Timeline = { start: T0, minutes: M, capacity, totalCpus, columns: cols };
    if (M === 0) return tl;
    const state = this.records;
    state.begin(T0, M);
    const rows = new RowBuilder(T0, capacity, totalCpus, this.opts.endingTable, { scan: false });
    for (let m = 0; m < M; m++) {
      state.advance(m, rows);
      if (rows.daily && m % ENDING_BLOCK_ROWS === 0) state.addEndedBy(rows.daily, m / ENDING_BLOCK_ROWS);
      rows.write(state, m, cols);
    }
    return tl;
  }

  /** The ending table of every job added so far that held nodes and has ended (to save for live rows). */
  endingTable(): EndingTable {
    const all = new DailyEndingTable();
    this.records.addAllEnded(all);
    return all.table;
  }
}

/**
 * Build the minute timeline of `jobs` (semantics: ./rows.ts and ./records-state.ts). Synchronous for an
 * Iterable (an array), a Promise for an AsyncIterable (a JobSource's `jobs`).
 */
export function buildTimeline(jobs: Iterable<JobRecord>, opts: BuildOptions): Timeline;
export function buildTimeline(jobs: AsyncIterable<JobRecord>, opts: BuildOptions): Promise<Timeline>;
export function buildTimeline(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  opts: BuildOptions,
): Timeline | Promise<Timeline>;
export function buildTimeline(
  jobs: Iterable<JobRecord> | AsyncIterable<JobRecord>,
  opts: BuildOptions,
): Timeline | Promise<Timeline> {
  const b = new TimelineBuilder(opts);
  if (Symbol.asyncIterator in jobs) {
    return (async () => {
      for await (const j of jobs) b.add(j);
      return b.finish();
    })();
  }
  for (const j of jobs) b.add(j);
  return b.finish();
}

/**
 * Zeroed columns of `rows` rows, as one object literal (the type checks it against the column list): an
 * object given its 30 keys one computed key at a time becomes a hash table in V8, and the row builder stores
 * into every column on every row.
 */
export function newColumns(rows: number): Timeline['columns'] {
  return {
    running_jobs: new Float64Array(rows),
    queued_jobs: new Float64Array(rows),
    busy_nodes: new Float64Array(rows),
    overshoot_nodes: new Float64Array(rows),
    cpu_util: new Float64Array(rows),
    mean_nodes_running: new Float64Array(rows),
    mean_cpus_running: new Float64Array(rows),
    mean_nodes_queued: new Float64Array(rows),
    mean_cpus_queued: new Float64Array(rows),
    queued_nodes: new Float64Array(rows),
    mean_elapsed_running_s: new Float64Array(rows),
    mean_limit_running_s: new Float64Array(rows),
    p90_limit_running_s: new Float64Array(rows),
    p50_elapsed_running_s: new Float64Array(rows),
    p90_elapsed_running_s: new Float64Array(rows),
    p50_runtime_ended_1h_s: new Float64Array(rows),
    p90_runtime_ended_1h_s: new Float64Array(rows),
    ending_5m_nodes: new Float64Array(rows),
    ending_10m_nodes: new Float64Array(rows),
    ending_30m_nodes: new Float64Array(rows),
    ending_60m_nodes: new Float64Array(rows),
    ending_240m_nodes: new Float64Array(rows),
    age_lt5m_nodes: new Float64Array(rows),
    age_5_30m_nodes: new Float64Array(rows),
    age_30_120m_nodes: new Float64Array(rows),
    age_ge120m_nodes: new Float64Array(rows),
    expected_end_30m_nodes: new Float64Array(rows),
    submitted_last_min: new Float64Array(rows),
    started_last_min: new Float64Array(rows),
    ended_last_min: new Float64Array(rows),
  };
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}
