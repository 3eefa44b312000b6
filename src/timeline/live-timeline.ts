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
  private readonly endingTable: EndingTable;
  /** The row builder, made at the first `write` (rows appended before it are not its own); its row 0. */
  private rows: RowBuilder | null = null;
  private rowsFrom = 0;

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
    this.endingTable = endingTable;
  }

  /** Epoch seconds of the last written row (NaN before the first). */
  get lastTime(): number {
    return this.minutes > 0 ? this.start + 60 * (this.minutes - 1) : Number.NaN;
  }

  /** Append the row of instant t (must be the next minute) from the scheduler's state at t. */
  write(state: ClusterState, t: number): void {
    const m = this.next(t);
    if (!this.rows) {
      this.rows = new RowBuilder(t, this.capacity, this.totalCpus, this.endingTable);
      this.rowsFrom = m;
    }
    this.rows.write(state, m - this.rowsFrom, this.cols, m);
    this.minutes = m + 1;
  }

  /** The row index of instant t, which must be the next minute; the columns grown to hold it. */
  private next(t: number): number {
    const m = Math.round((t - this.start) / 60);
    if (m !== this.minutes) throw new Error(`live timeline: row ${m} written after row ${this.minutes - 1}`);
    if (m >= this.cols.busy_nodes.length) {
      const cols = newColumns(Math.max(m + 1, 2 * this.cols.busy_nodes.length));
      for (const c of TIMELINE_COLUMNS) cols[c].set(this.cols[c]);
      this.cols = cols;
    }
    return m;
  }

  /**
   * Append row `i` of a timeline built elsewhere as the row of instant t (must be the next minute): a queue
   * snapshot's one-row timeline (../telemetry/collector.ts `snapshotRow` does the same for `pcm collect`), or
   * a history's rows ahead of the rows a scheduler writes (appending after `write` is refused).
   */
  append(tl: Timeline, i: number, t: number): void {
    if (this.rows) throw new Error('live timeline: a row appended after rows written from a scheduler');
    const m = this.next(t);
    if (tl.capacity !== this.capacity)
      throw new Error(`live timeline: a row of ${tl.capacity} nodes appended to ${this.capacity}`);
    for (const c of TIMELINE_COLUMNS) this.cols[c][m] = tl.columns[c][i];
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
