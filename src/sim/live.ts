import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../jobs/record.js';
import { ALL_PARTITIONS, rowOfTimeline, type TelemetryRow } from '../telemetry/schema.js';
import type { TelemetryWriter } from '../telemetry/types.js';
import { buildTimeline } from '../timeline/build.js';
import { ENDING_BLOCK_ROWS } from '../timeline/rows.js';
import { EndingTable } from '../timeline/survival.js';
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
 * - Rows: for minute instant t the scheduler is advanced through every event <= t, then the row is the
 *   historical timeline builder's row for t (`buildTimeline` over the jobs running or queued at t plus those
 *   that started or ended in (t-60, t], as the scheduler knows them at t): the same semantics as a batch
 *   timeline of the finished simulation, column for column (tested).
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

export const DEFAULT_LIVE_DAYS = 365;

/** Local `YYYY-MM-DD` of an instant in a time zone. */
function localDate(epochS: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(new Date(epochS * 1000));
}

/**
 * The row at minute instant `t` from the scheduler's state just after t (the caller has run
 * `sim.advanceTo(t)`); `extra` holds jobs that started or ended in (t-60, t].
 */
export function liveRow(
  sim: ClusterSim,
  t: number,
  extra: Iterable<number>,
  o: {
    cpusPerNode: number;
    cluster: string;
    partition: string;
    stamp: Uint32Array;
    tick: number;
    /** For expected_end_30m_nodes (see endingTableAt). */
    endingTable?: EndingTable;
  },
): TelemetryRow {
  const recs: JobRecord[] = [];
  const add = (i: number) => {
    if (o.stamp[i] === o.tick) return; // already added for this row
    o.stamp[i] = o.tick;
    const start = sim.start[i] <= t ? sim.start[i] : null; // NaN (never started) compares false
    const end = sim.end[i] <= t ? sim.end[i] : null;
    const job = sim.jobs[i];
    recs.push({
      id: job.id,
      submit: sim.submit[i],
      eligible: null,
      start,
      end,
      nodes: sim.need[i],
      cpus: job.cpus,
      timeLimit: sim.limit[i],
      partition: job.partition,
      state:
        end !== null ? (sim.killed[i] ? 'TIMEOUT' : 'COMPLETED') : start !== null ? 'RUNNING' : 'PENDING',
      user: job.user,
      nodeList: null,
    });
  };
  for (const i of sim.runningIndices()) add(i);
  for (const i of sim.queuedIndices()) add(i);
  for (const i of extra) add(i);
  const tl = buildTimeline(recs, {
    capacity: sim.nodes,
    cpusPerNode: o.cpusPerNode,
    start: t,
    end: t + 60,
    endingTable: o.endingTable,
  });
  return rowOfTimeline(tl, 0, o.cluster, o.partition);
}

/**
 * The ending table of the jobs that ended by t (the scheduler's state at t): what a batch timeline starting
 * at the first row uses for the day that starts at t (src/timeline/build.ts, online refit once a day).
 */
export function endingTableAt(sim: ClusterSim, t: number): EndingTable {
  const table = new EndingTable();
  for (let i = 0; i < sim.end.length; i++) {
    const start = sim.start[i];
    const end = sim.end[i];
    if (!(end <= t) || !(end > start) || !(sim.need[i] > 0)) continue;
    const limit = sim.limit[i];
    table.addRun((end - start) / 60, limit > 0 ? limit / 60 : Number.NaN, sim.need[i]);
  }
  return table;
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
  const touched: number[] = [];
  const sim = new ClusterSim(work.jobs, {
    nodes: setup.nodes,
    overrun: opts.overrun ?? opts.sim.Overrun,
    backfill: opts.backfill,
    hooks: {
      onJobStart: (_s, j) => touched.push(j),
      onJobEnd: (_s, j) => touched.push(j),
    },
  });
  const cluster = opts.clusterName ?? opts.cluster.Name;
  const partition = opts.partition ?? ALL_PARTITIONS;
  const rowOpts = {
    cpusPerNode: setup.cpusPerNode,
    cluster,
    partition,
    stamp: new Uint32Array(work.jobs.length),
    tick: 0,
    endingTable: undefined as EndingTable | undefined,
  };
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
    // warm-up: run the workload up to the first row without writing anything
    sim.advanceTo(firstRow - 60);
    touched.length = 0;
    let next = firstRow;
    const end = work.end;
    for (;;) {
      // every minute that is due (the pre-roll at once), at most maxBatch per write
      const due = now();
      const rows: TelemetryRow[] = [];
      while (next <= due && next < end && rows.length < maxBatch) {
        sim.advanceTo(next);
        // the ending table is refitted once a day of rows, like a batch timeline from the first row
        if ((next - firstRow) % (60 * ENDING_BLOCK_ROWS) === 0)
          rowOpts.endingTable = endingTableAt(sim, next);
        rowOpts.tick++;
        rows.push(liveRow(sim, next, touched, rowOpts));
        touched.length = 0;
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
