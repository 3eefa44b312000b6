import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_PARTITIONS, rowOfTimeline, type TelemetryRow } from '../telemetry/schema.js';
import type { TelemetryWriter } from '../telemetry/types.js';
import { newColumns } from '../timeline/build.js';
import { RowBuilder } from '../timeline/rows.js';
import { errorMessage, InputError } from '../util/errors.js';
import { localMidnight } from './calendar.js';
import type { SimulatorConfig } from './config.js';
import { generateWorkload, resolveSimulator } from './generate.js';
import { ClusterSim, type Overrun } from './scheduler.js';

/**
 * Live mode: a generated workload runs on the simulated cluster in (accelerated) wall-clock time, and
 * each simulated minute's telemetry row goes to a TelemetryWriter (the embedded MemoryStore, or InfluxDB).
 *
 * - Clock: simulated time = origin + speed x (wall seconds since start). `handle.now()` reads it, so the
 *   service can give the same clock to its MemoryStore (`new MemoryStore({ now: () => handle.now() })`).
 * - Rows: for minute instant t the scheduler is advanced through every event <= t, then the row builder
 *   (src/timeline/rows.ts) writes the row for t from the scheduler's state, with the ending table refitted
 *   once a day of rows from the jobs that ended so far: the same rows as a batch timeline of the finished
 *   simulation from the first row on, column for column (tested).
 * - Pre-roll: the minutes [origin - prerollHours, origin) are written at once at start, so a service has
 *   history; the workload itself starts at local midnight at least a day before that, so the cluster is
 *   warm when the first row is written.
 * - Writing: rows go out in batches (all minutes due at one tick, at most `maxBatchRows`); a failed write
 *   keeps the rows (up to `maxPendingRows`, oldest dropped and counted) and retries at the next tick.
 * - Stop (`stop()` or the signal): the current tick's rows are finished and every pending row gets one
 *   more write; then `done` resolves. Nothing is half-written: a row is either in a finished write or
 *   counted as pending in the result.
 */

export interface LiveOptions {
  sim: SimulatorConfig;
  cluster: { Name: string; Nodes: number; CpusPerNode: number; TimeZone: string };
  /** Overrides of the Simulator section (nodes, seed). */
  nodes?: number;
  seed?: number;
  /** Simulated seconds per wall second (default 1: real time). */
  speed?: number;
  /** Simulated instant live time starts at (epoch s, default now); rounded down to a minute. */
  origin?: number;
  /** Minutes before origin written at once at start, in hours (default 0). */
  prerollHours?: number;
  /** Simulated days to run after the origin (default 365); live mode ends when they run out. */
  days?: number;
  overrun?: Overrun;
  backfill?: boolean;
  /** Tags of the series (default Cluster.Name and `_all`). */
  clusterName?: string;
  partition?: string;
  maxBatchRows?: number;
  maxPendingRows?: number;
  signal?: AbortSignal;
  /** Wall clock in epoch seconds (default Date.now() / 1000). */
  wallClock?: () => number;
  onRows?: (rows: readonly TelemetryRow[]) => void;
  onError?: (message: string) => void;
}

export interface LiveResult {
  /** Why the loop ended. */
  reason: 'stopped' | 'exhausted';
  rowsWritten: number;
  firstRowTime: number | null;
  lastRowTime: number | null;
  /** Rows not written when the loop ended (the writer kept failing), and rows dropped before that. */
  pending: number;
  dropped: number;
  writeErrors: number;
}

export interface LiveHandle {
  /** The simulated clock (epoch s). */
  now(): number;
  /** First live minute (rows before it are pre-roll). */
  readonly origin: number;
  /** First row's minute (origin - pre-roll). */
  readonly firstRow: number;
  /** The scheduler, for inspection (its jobs, per-node state). */
  readonly sim: ClusterSim;
  readonly nodes: number;
  readonly cpusPerNode: number;
  /** Resolves when the loop has ended (stopped or workload exhausted) and the last rows are flushed. */
  readonly done: Promise<LiveResult>;
  /** Ask the loop to end; resolves like `done`. */
  stop(): Promise<LiveResult>;
}

const DEFAULT_LIVE_DAYS = 365;

/** Local `YYYY-MM-DD` of an instant in a time zone. */
function localDate(epochS: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(new Date(epochS * 1000));
}

/** Start live mode; rows go to `writer` until `stop()` (or the signal, or the end of the workload). */
export function startLiveSimulation(opts: LiveOptions, writer: TelemetryWriter): LiveHandle {
  const speed = opts.speed ?? 1;
  if (!(Number.isFinite(speed) && speed > 0 && speed <= 1e7))
    throw new InputError(`--speed: expected simulated seconds per second in (0, 10000000], got ${speed}`);
  const preroll = opts.prerollHours ?? 0;
  if (!(Number.isFinite(preroll) && preroll >= 0 && preroll <= 24 * 366))
    throw new InputError(`--preroll: expected hours from 0 to ${24 * 366}, got ${preroll}`);
  const wall = opts.wallClock ?? (() => Date.now() / 1000);
  const origin = Math.floor((opts.origin ?? wall()) / 60) * 60;
  const firstRow = origin - Math.round(preroll * 60) * 60;
  const timeZone = opts.sim.TimeZone ?? opts.cluster.TimeZone;
  const days = opts.days ?? DEFAULT_LIVE_DAYS;
  if (!(Number.isFinite(days) && days > 0 && days <= 36_600))
    throw new InputError(`--days: expected simulated days after the origin in (0, 36600], got ${days}`);
  // the workload starts at local midnight a day or more before the first row (warm-up), and runs `days` past the origin
  const startDate = localDate(firstRow - 86_400, timeZone);
  const workStart = localMidnight(startDate, timeZone);
  const setup = resolveSimulator(opts.sim, opts.cluster, {
    nodes: opts.nodes,
    seed: opts.seed,
    days: (origin - workStart) / 86_400 + days,
    start: startDate,
  });
  const work = generateWorkload(setup);
  // rows from firstRow on; the daily refit of the ending table learns each run as it ends (warm-up included)
  const totalCpus = setup.nodes * setup.cpusPerNode;
  const builder = new RowBuilder(firstRow, setup.nodes, totalCpus);
  const daily = builder.daily;
  const sim = new ClusterSim(work.jobs, {
    nodes: setup.nodes,
    overrun: opts.overrun ?? opts.sim.Overrun,
    backfill: opts.backfill,
    hooks: { onJobEnd: (s, j) => daily?.addRun(s.start[j], s.end[j], s.limit[j], s.need[j]) },
  });
  const cluster = opts.clusterName ?? opts.cluster.Name;
  const partition = opts.partition ?? ALL_PARTITIONS;
  const row = { start: firstRow, minutes: 1, capacity: setup.nodes, totalCpus, columns: newColumns(1) };
  const maxBatch = opts.maxBatchRows ?? 1440;
  const maxPending = opts.maxPendingRows ?? 1440 * 7;
  const wallStart = wall();
  let stopped = false;
  let frozen: number | null = null;
  const ac = new AbortController();
  const now = () => frozen ?? origin + speed * (wall() - wallStart);
  const onAbort = () => {
    stopped = true;
    ac.abort();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  const res: LiveResult = {
    reason: 'stopped',
    rowsWritten: 0,
    firstRowTime: null,
    lastRowTime: null,
    pending: 0,
    dropped: 0,
    writeErrors: 0,
  };
  let pending: TelemetryRow[] = [];

  const flush = async (final: boolean): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    try {
      await writer.write(batch);
      res.rowsWritten += batch.length;
      if (res.firstRowTime === null) res.firstRowTime = batch[0].time;
      res.lastRowTime = batch[batch.length - 1].time;
      pending = [];
    } catch (e) {
      res.writeErrors++;
      opts.onError?.(
        `writing ${batch.length} row(s) failed: ${errorMessage(e)}${final ? ' (stopping: not written)' : '; kept to retry'}`,
      );
      if (pending.length > maxPending) {
        const drop = pending.length - maxPending;
        pending.splice(0, drop);
        res.dropped += drop;
      }
    }
  };

  const loop = async (): Promise<LiveResult> => {
    // warm-up: run the workload up to the first row without writing anything; flows count from there
    sim.advanceTo(firstRow - 60);
    sim.submittedSince = 0;
    sim.startedSince = 0;
    sim.endedSince = 0;
    let next = firstRow;
    const end = work.end;
    for (;;) {
      // every minute that is due (the pre-roll at once), at most maxBatch per write
      const due = now();
      const rows: TelemetryRow[] = [];
      while (next <= due && next < end && rows.length < maxBatch) {
        sim.advanceTo(next);
        builder.write(sim, (next - firstRow) / 60, row.columns, 0);
        row.start = next;
        rows.push(rowOfTimeline(row, 0, cluster, partition));
        next += 60;
      }
      if (rows.length) {
        opts.onRows?.(rows);
        for (const r of rows) pending.push(r);
        await flush(false);
      }
      if (next >= end) {
        res.reason = 'exhausted';
        break;
      }
      if (stopped) break;
      if (next <= now()) {
        // more minutes already due (a long pre-roll, or a speed faster than rows can be made): let timers
        // and signals run between batches, then go on
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const waitMs = Math.max(0, ((next - now()) / speed) * 1000);
      try {
        await sleep(Math.min(waitMs, 2_147_000_000), undefined, { signal: ac.signal });
      } catch {
        // aborted: finish below
      }
      if (stopped) break;
    }
    frozen = now();
    await flush(true);
    res.pending = pending.length;
    opts.signal?.removeEventListener('abort', onAbort);
    return res;
  };

  const done = loop();
  return {
    now,
    origin,
    firstRow,
    sim,
    nodes: setup.nodes,
    cpusPerNode: setup.cpusPerNode,
    done,
    stop: () => {
      onAbort();
      return done;
    },
  };
}
