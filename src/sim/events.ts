/**
 * The simulator's event queue: a binary min-heap keyed by (time, seq) over flat typed arrays.
 * `seq` is the insertion counter, so events at the same time pop in the order they were pushed
 * (deterministic, FIFO). An event is (time, kind, arg): kind picks the handler, arg is its payload
 * (a job index for the built-in kinds; new kinds such as node boot completion use it as they like).
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kind: Int32Array;
  private arg: Int32Array;
  private n = 0;
  private nextSeq = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.kind = new Int32Array(capacity);
    this.arg = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the next event (Infinity when empty). */
  peekTime(): number {
    return this.n > 0 ? this.time[0] : Number.POSITIVE_INFINITY;
  }

  push(time: number, kind: number, arg: number): void {
    if (this.n === this.time.length) this.grow();
    // sift up: move parents down until the slot for the new event is found
    let i = this.n++;
    const s = this.nextSeq++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p] < time || (this.time[p] === time && this.seq[p] < s)) break;
      this.move(p, i);
      i = p;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.arg[i] = arg;
  }

  /** Pop the earliest event into `out` (reused to avoid allocation); false when empty. */
  pop(out: { time: number; kind: number; arg: number }): boolean {
    if (this.n === 0) return false;
    out.time = this.time[0];
    out.kind = this.kind[0];
    out.arg = this.arg[0];
    const last = --this.n;
    if (last === 0) return true;
    // sift down the last element from the root
    const t = this.time[last];
    const s = this.seq[last];
    const k = this.kind[last];
    const a = this.arg[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (
        r < last &&
        (this.time[r] < this.time[c] || (this.time[r] === this.time[c] && this.seq[r] < this.seq[c]))
      )
        c = r;
      if (t < this.time[c] || (t === this.time[c] && s < this.seq[c])) break;
      this.move(c, i);
      i = c;
    }
    this.time[i] = t;
    this.seq[i] = s;
    this.kind[i] = k;
    this.arg[i] = a;
    return true;
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.seq[to] = this.seq[from];
    this.kind[to] = this.kind[from];
    this.arg[to] = this.arg[from];
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap);
    t.set(this.time);
    this.time = t;
    const s = new Float64Array(cap);
    s.set(this.seq);
    this.seq = s;
    const k = new Int32Array(cap);
    k.set(this.kind);
    this.kind = k;
    const a = new Int32Array(cap);
    a.set(this.arg);
    this.arg = a;
  }
}
