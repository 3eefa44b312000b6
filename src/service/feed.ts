import type { SimulatorConfig } from '../sim/config.js';
import { type LiveHandle, startLiveSimulation } from '../sim/live.js';
import type { MemoryStore } from '../telemetry/memory-store.js';
import { rowOfTimeline } from '../telemetry/schema.js';
import type { TelemetryWriter } from '../telemetry/types.js';
import type { Timeline } from '../timeline/columns.js';
import { InputError } from '../util/errors.js';
import type { SeriesId } from './forecast-hub.js';

/**
 * Embedded feeds for the memory store. A feed owns the telemetry clock (`now`, epoch s) and writes minute
 * rows into the store as that clock passes them, calling `onMinute` after each write: a timeline replay
 * (`ReplayFeed`) or the simulator's live mode (`SimulatorFeed`).
 */
export interface Feed {
  readonly series: SeriesId;
  readonly describe: string;
  /** Telemetry time now, epoch seconds. */
  now(): number;
  start(onMinute?: (series: SeriesId, time: number) => void): void;
  stop(): void;
}

const WEEK_S = 7 * 86400;

export interface ReplayOptions {
  series: SeriesId;
  /** Data minutes per wall minute (60: one minute of data per second). */
  speed: number;
  /** Rows preloaded before the clock starts, so forecasts work at once (default: the whole context). */
  preloadMinutes: number;
  /**
   * Shift the timeline by whole weeks so the preloaded part ends near the wall clock (keeps weekday and
   * hour of day; default true). False replays at the original dates.
   */
  shiftToNow?: boolean;
  /** Start again from the first row after the last (shifted by the span; default true). */
  loop?: boolean;
  /** Wall clock, ms (tests pass their own). */
  wallMs?: () => number;
}

/**
 * Replay a timeline into the store in accelerated wall-clock time. Row i has telemetry time
 * start + 60 i + shift; the clock runs `speed` times faster than the wall clock from the end of the
 * preloaded rows, and each row is written when the clock reaches it.
 */
export class ReplayFeed implements Feed {
  readonly series: SeriesId;
  readonly describe: string;
  private readonly speed: number;
  private readonly wallMs: () => number;
  private readonly shift: number;
  private readonly loop: boolean;
  private t0 = 0;
  private wall0 = 0;
  /** Next row to write, counted over loops (row index = next % minutes). */
  private next: number;
  private timer: NodeJS.Timeout | null = null;
  private onMinute: (s: SeriesId, t: number) => void = () => {};

  constructor(
    private readonly store: MemoryStore,
    private readonly tl: Timeline,
    o: ReplayOptions,
  ) {
    if (!(o.speed > 0 && o.speed <= 100_000))
      throw new InputError(`--speed: expected a number in (0, 100000], got ${o.speed}`);
    if (tl.minutes < 2) throw new InputError(`replay: the timeline has ${tl.minutes} rows; need at least 2`);
    this.series = o.series;
    this.speed = o.speed;
    this.wallMs = o.wallMs ?? (() => Date.now());
    this.loop = o.loop ?? true;
    const pre = Math.max(1, Math.min(o.preloadMinutes, tl.minutes - 1));
    this.next = pre;
    const preEnd = tl.start + 60 * (pre - 1);
    this.shift = (o.shiftToNow ?? true) ? Math.round((this.wallMs() / 1000 - preEnd) / WEEK_S) * WEEK_S : 0;
    this.describe = `replay of ${tl.minutes} minutes at ${o.speed}x${this.loop ? ', looping' : ''}`;
    // preload: the rows before the clock starts
    const from = Math.max(0, pre - store.maxMinutes);
    const rows = [];
    for (let i = from; i < pre; i++) rows.push(this.rowAt(i));
    store.writeSync(rows);
    this.t0 = preEnd + this.shift;
    this.wall0 = this.wallMs();
  }

  /** Telemetry time of the (looped) row k. */
  private timeOf(k: number): number {
    const n = this.tl.minutes;
    const lap = Math.floor(k / n);
    return this.tl.start + 60 * (k % n) + this.shift + lap * 60 * n;
  }

  private rowAt(k: number) {
    const r = rowOfTimeline(this.tl, k % this.tl.minutes, this.series.cluster, this.series.partition);
    r.time = this.timeOf(k);
    return r;
  }

  now(): number {
    return this.t0 + ((this.wallMs() - this.wall0) / 1000) * this.speed;
  }

  /** Write every row whose time has come; returns how many were written. */
  pump(): number {
    const now = this.now();
    let n = 0;
    while ((this.loop || this.next < this.tl.minutes) && this.timeOf(this.next) <= now) {
      const r = this.rowAt(this.next++);
      this.store.writeSync([r]);
      n++;
      if (n >= 10_000) break; // a long stall: catch up over several ticks
    }
    if (n > 0) this.onMinute(this.series, this.timeOf(this.next - 1));
    return n;
  }

  start(onMinute?: (s: SeriesId, t: number) => void): void {
    if (onMinute) this.onMinute = onMinute;
    if (this.timer) return;
    // tick a few times per data minute (at most every second, at least every 20 ms)
    const every = Math.min(1000, Math.max(20, 60_000 / this.speed / 4));
    this.timer = setInterval(() => this.pump(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export interface SimulatorFeedOptions {
  series: SeriesId;
  sim: SimulatorConfig;
  cluster: { Name: string; Nodes: number; CpusPerNode: number; TimeZone: string };
  /** Data minutes per wall minute (the live simulation's simulated seconds per wall second). */
  speed: number;
  /** Minutes of history written at once at start, so forecasts work at once. */
  preloadMinutes: number;
  /** Simulated days after now before the workload runs out. */
  days: number;
  onError?: (message: string) => void;
}

/**
 * The simulator's live mode (src/sim/live.ts) as a feed: a generated workload runs on the simulated
 * cluster in accelerated wall-clock time and each minute's row is written to the store. It starts when
 * constructed (its clock runs from then on); `start` only attaches the new-minute callback.
 */
export class SimulatorFeed implements Feed {
  readonly series: SeriesId;
  readonly describe: string;
  private readonly handle: LiveHandle;
  private onMinute: (s: SeriesId, t: number) => void = () => {};

  constructor(writer: TelemetryWriter, o: SimulatorFeedOptions) {
    this.series = o.series;
    this.handle = startLiveSimulation(
      {
        sim: o.sim,
        cluster: o.cluster,
        speed: o.speed,
        prerollHours: Math.ceil(o.preloadMinutes / 60),
        days: o.days,
        clusterName: o.series.cluster,
        partition: o.series.partition,
        // onRows runs just before the rows are written: tell the hub once the write is done
        onRows: (rows) => {
          const t = rows.length ? rows[rows.length - 1].time : null;
          if (t !== null) setImmediate(() => this.onMinute(this.series, t));
        },
        onError: o.onError,
      },
      writer,
    );
    this.describe = `live simulation of ${this.handle.nodes} nodes at ${o.speed}x for ${o.days} days`;
  }

  now(): number {
    return this.handle.now();
  }

  start(onMinute?: (s: SeriesId, t: number) => void): void {
    if (onMinute) this.onMinute = onMinute;
  }

  stop(): void {
    void this.handle.stop();
  }
}
