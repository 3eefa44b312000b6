import { resized } from '../util/typed-array.js';

/**
 * Jobs waiting for a future row: each job is due at one row at a time (`schedule` moves it, `cancel` drops it)
 * and `take(m)` hands over the jobs due at row m, for rows taken in order without gaps. A ring of `slots` row
 * slots, each a doubly-linked list over job ids: O(1) per call. A row further ahead than the ring reaches
 * is clamped to its last slot; the job is then handed over early and the caller schedules it again.
 */
export class RowCalendar {
  private readonly head: Int32Array;
  /** Per job: the row it is due at (-1 = none), and its neighbours in that row's list (prev < 0: -1 - slot). */
  private when: Int32Array = new Int32Array(0);
  private prev: Int32Array = new Int32Array(0);
  private next: Int32Array = new Int32Array(0);

  constructor(readonly slots = 4096) {
    if (slots & (slots - 1)) throw new Error(`row calendar: ${slots} slots is not a power of two`);
    this.head = new Int32Array(slots).fill(-1);
  }

  /** Room for jobs 0 .. n-1. */
  reserve(n: number): void {
    if (n <= this.when.length) return;
    const len = Math.max(n, 2 * this.when.length);
    this.when = resized(this.when, len, -1);
    this.prev = resized(this.prev, len, -1);
    this.next = resized(this.next, len, -1);
  }

  /** Job j is due at `row` (taken at `now` < row; at most now + slots - 1, later rows are clamped to it). */
  schedule(j: number, row: number, now: number): void {
    this.cancel(j);
    const r = Math.min(row, now + this.slots - 1);
    const slot = r & (this.slots - 1);
    const h = this.head[slot];
    this.prev[j] = -1 - slot;
    this.next[j] = h;
    if (h >= 0) this.prev[h] = j;
    this.head[slot] = j;
    this.when[j] = r;
  }

  /** Job j is due nowhere. */
  cancel(j: number): void {
    if (this.when[j] < 0) return;
    const p = this.prev[j];
    const nx = this.next[j];
    if (p >= 0) this.next[p] = nx;
    else this.head[-1 - p] = nx;
    if (nx >= 0) this.prev[nx] = p;
    this.when[j] = -1;
  }

  /** Hand each job due at row m to `visit` (which may schedule it again). */
  take(m: number, visit: (j: number) => void): void {
    const slot = m & (this.slots - 1);
    let j = this.head[slot];
    this.head[slot] = -1;
    while (j >= 0) {
      const nx = this.next[j];
      this.when[j] = -1;
      visit(j);
      j = nx;
    }
  }
}
