import { newColumns } from './build.js';
import { TIMELINE_COLUMNS, type Timeline } from './columns.js';
import { RowBuilder } from './rows.js';
import type { ClusterState } from './state.js';
import { EndingTable } from './survival.js';

/**
 * A timeline that grows by one row per minute, each written from a scheduler's state at that instant by the
 * row builder (./rows.ts): what a replay sees of the cluster so far, with nothing from later. Rows [from, to)
 * can be read as a Timeline at any time (`view`).
 */
export class LiveTimeline {
  readonly start: number;
  readonly capacity: number;
  readonly totalCpus: number;
  minutes = 0;
  cols: Timeline['columns'];
  private readonly rows: RowBuilder;

  /**
   * `start` = the first row's instant (a multiple of 60); `expectMinutes` sizes the columns (they grow as
   * needed); expected_end_30m_nodes uses `endingTable` on every row (default: the time-limit prior).
   */
  constructor(
    start: number,
    capacity: number,
    totalCpus: number,
    expectMinutes = 1024,
    endingTable: EndingTable = new EndingTable(),
  ) {
    this.start = start;
    this.capacity = capacity;
    this.totalCpus = totalCpus;
    this.cols = newColumns(Math.max(16, expectMinutes));
    this.rows = new RowBuilder(start, capacity, totalCpus, endingTable);
  }

  /** Epoch seconds of the last written row (NaN before the first). */
  get lastTime(): number {
    return this.minutes > 0 ? this.start + 60 * (this.minutes - 1) : Number.NaN;
  }

  /** Append the row of instant t (must be the next minute) from the scheduler's state at t. */
  write(state: ClusterState, t: number): void {
    const m = Math.round((t - this.start) / 60);
    if (m !== this.minutes) throw new Error(`live timeline: row ${m} written after row ${this.minutes - 1}`);
    if (m >= this.cols.busy_nodes.length) {
      const cols = newColumns(Math.max(m + 1, 2 * this.cols.busy_nodes.length));
      for (const c of TIMELINE_COLUMNS) cols[c].set(this.cols[c]);
      this.cols = cols;
    }
    this.rows.write(state, m, this.cols);
    this.minutes = m + 1;
  }

  /** Rows [from, to) as a Timeline of views (no copy; valid until the next write that grows the columns). */
  view(from = 0, to = this.minutes): Timeline {
    const columns = newColumns(0);
    for (const c of TIMELINE_COLUMNS) columns[c] = this.cols[c].subarray(from, to);
    return {
      start: this.start + 60 * from,
      minutes: to - from,
      capacity: this.capacity,
      totalCpus: this.totalCpus,
      columns,
    };
  }
}
