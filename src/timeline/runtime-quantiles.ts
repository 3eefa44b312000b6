import { resized } from '../util/typed-array.js';

/**
 * The run-time distribution columns' bookkeeping (./rows.ts writes them): nearest-rank P50/P90 of the running
 * jobs' elapsed time and of the run times of the jobs that ended in the last hour, exact, updated as jobs come
 * and go. Both keep their values sorted in a flat Float64Array (binary search, then one copyWithin), so a
 * change costs O(log n + n) with a tiny constant and a quantile is one lookup.
 */

/** The p50/p90_runtime_ended_1h_s window: jobs that ended in (t - this, t]. */
export const ENDED_WINDOW_S = 3600;

/** 1-based nearest rank of the p-th percentile of n values, p in whole percent (integer arithmetic). */
export function nearestRank(n: number, percent: number): number {
  return Math.ceil((n * percent) / 100);
}

/** A multiset of numbers kept in ascending order. */
export class SortedValues {
  private v = new Float64Array(64);
  size = 0;

  /** First index whose value is >= x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.v[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(x: number): void {
    if (this.size === this.v.length) this.v = resized(this.v, 2 * this.size);
    const i = this.lowerBound(x);
    this.v.copyWithin(i + 1, i, this.size);
    this.v[i] = x;
    this.size++;
  }

  /** Remove one copy of x (which must be held). */
  remove(x: number): void {
    const i = this.lowerBound(x);
    if (i >= this.size || this.v[i] !== x) throw new Error(`sorted values: ${x} is not held`);
    this.v.copyWithin(i, i + 1, this.size);
    this.size--;
  }

  /** The k-th smallest value, k 0-based (< size). */
  at(k: number): number {
    return this.v[k];
  }
}

/**
 * Run times of the jobs that ended within the last `spanS` seconds: add (end, run time) as ends are reported,
 * `evict(t)` before reading the row at t drops those with end <= t - spanS. Ends come in about in order, so
 * they are kept sorted by end (insertion from the back).
 */
export class EndedWindow {
  private ends = new Float64Array(64);
  private runs = new Float64Array(64);
  private head = 0;
  private tail = 0;
  readonly runtimes = new SortedValues();

  constructor(readonly spanS: number) {}

  add(end: number, runtime: number): void {
    if (this.tail === this.ends.length) this.compact();
    // insertion by end from the back (usually at the back)
    let i = this.tail;
    while (i > this.head && this.ends[i - 1] > end) {
      this.ends[i] = this.ends[i - 1];
      this.runs[i] = this.runs[i - 1];
      i--;
    }
    this.ends[i] = end;
    this.runs[i] = runtime;
    this.tail++;
    this.runtimes.add(runtime);
  }

  /** Drop the jobs that ended at or before t - spanS. */
  evict(t: number): void {
    const from = t - this.spanS;
    while (this.head < this.tail && this.ends[this.head] <= from)
      this.runtimes.remove(this.runs[this.head++]);
  }

  /** Move the live entries to the front, growing the arrays when they are more than half full. */
  private compact(): void {
    const n = this.tail - this.head;
    const cap = n * 2 > this.ends.length ? 2 * this.ends.length : this.ends.length;
    const ends = new Float64Array(cap);
    const runs = new Float64Array(cap);
    ends.set(this.ends.subarray(this.head, this.tail));
    runs.set(this.runs.subarray(this.head, this.tail));
    this.ends = ends;
    this.runs = runs;
    this.head = 0;
    this.tail = n;
  }
}
