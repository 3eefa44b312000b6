import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../timeline/columns.js';
import { InputError } from '../util/errors.js';
import { checkName } from './influxql.js';
import { seriesKey, type TelemetryRow } from './schema.js';
import type { TelemetryReader, TelemetryWriter } from './types.js';

/** Floats kept per row: the timeline columns, then capacity and total CPUs. */
const NF = TIMELINE_COLUMNS.length + 2;
const F_CAP = TIMELINE_COLUMNS.length;
const F_CPUS = F_CAP + 1;

/** Two weeks of minutes: enough for a 1-week lookback plus "same time yesterday". */
const DEFAULT_MAX_MINUTES = 20160;

/**
 * One series (cluster, partition) as a ring buffer of minute rows kept sorted by time:
 * times[cap], vals[cap x NF] (flat, row-major), logical row i at physical slot (head + i) % cap.
 * Appending in time order is O(1); a row with the time of a stored one replaces it (like InfluxDB: same
 * series + timestamp = overwrite); an older row is inserted in place (O(n), rare: replays, late writes).
 * When full, the oldest row is dropped.
 */
class Ring {
  readonly times: Float64Array;
  readonly vals: Float64Array;
  head = 0;
  count = 0;
  constructor(readonly cap: number) {
    this.times = new Float64Array(cap);
    this.vals = new Float64Array(cap * NF);
  }

  private slot(i: number): number {
    return (this.head + i) % this.cap;
  }

  timeAt(i: number): number {
    return this.times[this.slot(i)];
  }

  /** First logical index with time > t (binary search over the sorted rows). */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeAt(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Store `src` (NF floats) at time t. */
  put(t: number, src: Float64Array): void {
    const n = this.count;
    if (n === 0 || t > this.timeAt(n - 1)) {
      if (n === this.cap) {
        this.head = (this.head + 1) % this.cap; // drop the oldest
        this.count--;
      }
      this.copyIn(this.count++, t, src);
      return;
    }
    const ub = this.upperBound(t);
    if (ub > 0 && this.timeAt(ub - 1) === t) {
      this.copyIn(ub - 1, t, src); // same timestamp: overwrite
      return;
    }
    if (n === this.cap) {
      if (ub === 0) return; // older than everything kept and no room: dropped
      this.head = (this.head + 1) % this.cap;
      this.count--;
      this.insertAt(ub - 1, t, src);
      return;
    }
    this.insertAt(ub, t, src);
  }

  /** Shift rows [i, count) one slot right, then write at i. */
  private insertAt(i: number, t: number, src: Float64Array): void {
    for (let k = this.count; k > i; k--) {
      const to = this.slot(k);
      const from = this.slot(k - 1);
      this.times[to] = this.times[from];
      this.vals.copyWithin(to * NF, from * NF, from * NF + NF);
    }
    this.count++;
    this.copyIn(i, t, src);
  }

  private copyIn(i: number, t: number, src: Float64Array): void {
    const s = this.slot(i);
    this.times[s] = t;
    this.vals.set(src, s * NF);
  }

  row(i: number, cluster: string, partition: string): TelemetryRow {
    const s = this.slot(i);
    const o = s * NF;
    const values = {} as Record<TimelineColumn, number>;
    for (let c = 0; c < TIMELINE_COLUMNS.length; c++) values[TIMELINE_COLUMNS[c]] = this.vals[o + c];
    return {
      time: this.times[s],
      cluster,
      partition,
      capacity: this.vals[o + F_CAP],
      totalCpus: this.vals[o + F_CPUS],
      values,
    };
  }
}

export interface MemoryStoreOptions {
  /** Rows kept per series (default two weeks of minutes). */
  maxMinutes?: number;
  /** The clock `recent` counts back from, epoch seconds (default the system clock; a replay passes its own). */
  now?: () => number;
}

/**
 * The embedded telemetry store used when no InfluxDB is configured: a ring buffer of minute rows per
 * (cluster, partition), with the same reader/writer interface as the Influx client. Fed by the simulator's
 * live mode (`write`) or by replaying a timeline (`loadTimeline`). Node-state gauges are not kept.
 */
export class MemoryStore implements TelemetryReader, TelemetryWriter {
  readonly maxMinutes: number;
  private readonly now: () => number;
  private readonly rings = new Map<string, { cluster: string; partition: string; ring: Ring }>();
  private readonly buf = new Float64Array(NF);

  constructor(o: MemoryStoreOptions = {}) {
    const m = o.maxMinutes ?? DEFAULT_MAX_MINUTES;
    if (!(Number.isInteger(m) && m > 0 && m <= 10_000_000)) {
      throw new InputError(`maxMinutes: expected a whole number from 1 to 10000000, got ${m}`);
    }
    this.maxMinutes = m;
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  private ring(cluster: string, partition: string, create: boolean): Ring | undefined {
    const key = seriesKey(cluster, partition);
    let r = this.rings.get(key);
    if (!r && create) {
      checkName('cluster', cluster);
      checkName('partition', partition);
      r = { cluster, partition, ring: new Ring(this.maxMinutes) };
      this.rings.set(key, r);
    }
    return r?.ring;
  }

  async write(rows: readonly TelemetryRow[]): Promise<void> {
    this.writeSync(rows);
  }

  writeSync(rows: readonly TelemetryRow[]): void {
    const b = this.buf;
    for (const r of rows) {
      if (!Number.isFinite(r.time))
        throw new InputError(`telemetry row: time must be a finite number, got ${r.time}`);
      const ring = this.ring(r.cluster, r.partition, true)!;
      for (let c = 0; c < TIMELINE_COLUMNS.length; c++) b[c] = r.values[TIMELINE_COLUMNS[c]];
      b[F_CAP] = r.capacity;
      b[F_CPUS] = r.totalCpus;
      ring.put(r.time, b);
    }
  }

  /** Replay a timeline into one series (only its last maxMinutes rows are kept). */
  loadTimeline(tl: Timeline, cluster: string, partition: string): number {
    const ring = this.ring(cluster, partition, true)!;
    const b = this.buf;
    const cols = TIMELINE_COLUMNS.map((c) => tl.columns[c]);
    const from = Math.max(0, tl.minutes - this.maxMinutes);
    for (let i = from; i < tl.minutes; i++) {
      for (let c = 0; c < cols.length; c++) b[c] = cols[c][i];
      b[F_CAP] = tl.capacity;
      b[F_CPUS] = tl.totalCpus;
      ring.put(tl.start + 60 * i, b);
    }
    return tl.minutes - from;
  }

  async recent(cluster: string, partition: string, minutes: number): Promise<TelemetryRow[]> {
    return this.recentSync(cluster, partition, minutes);
  }

  /** Rows with time > now - minutes, sorted, future rows included (as the Influx reader). */
  recentSync(cluster: string, partition: string, minutes: number): TelemetryRow[] {
    if (!(minutes > 0)) throw new InputError(`minutes: expected a positive number, got ${minutes}`);
    const ring = this.ring(cluster, partition, false);
    if (!ring) return [];
    const out: TelemetryRow[] = [];
    for (let i = ring.upperBound(this.now() - minutes * 60); i < ring.count; i++) {
      out.push(ring.row(i, cluster, partition));
    }
    return out;
  }

  /** The series held, with their row counts and time span (for /health). */
  series(): Array<{
    cluster: string;
    partition: string;
    rows: number;
    first: number | null;
    last: number | null;
  }> {
    return [...this.rings.values()].map(({ cluster, partition, ring }) => ({
      cluster,
      partition,
      rows: ring.count,
      first: ring.count ? ring.timeAt(0) : null,
      last: ring.count ? ring.timeAt(ring.count - 1) : null,
    }));
  }
}
