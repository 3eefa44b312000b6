import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord, ParseReport } from '../jobs/record.js';
import { buildTimeline } from '../timeline/build.js';
import { ENDED_WINDOW_S } from '../timeline/runtime-quantiles.js';
import type { EndingTable } from '../timeline/survival.js';
import { errorMessage, InputError, UserError } from '../util/errors.js';
import { checkName } from './influxql.js';
import { type NodeStateField, rowOfTimeline, type TelemetryRow } from './schema.js';
import { parseSinfo, parseSqueue, runSlurmCommand, sinfoArgs, squeueArgs } from './slurm.js';
import { PendingRows } from './spool.js';
import type { TelemetryWriter } from './types.js';

/**
 * `pcm collect`: every interval, the current minute row from a running Slurm, written to the sinks.
 * The row is a one-row timeline of the JobRecords squeue gives (buildTimeline for the single instant
 * t = floor(now / 60) * 60: the records replayed as a scheduler state, the row written by the same row builder
 * as every history row, src/timeline/rows.ts), so a live row and a history row cannot disagree. squeue lists
 * an ended job only for Slurm's MinJobAge (300 s by default), so the loop remembers the ended jobs it saw
 * for the run-time window of the last hour (`EndedJobs`) and adds them to each snapshot.
 */

export interface SlurmSnapshot {
  /** When squeue/sinfo were asked (epoch s). */
  now: number;
  jobs: JobRecord[];
  report: ParseReport;
  nodes: number;
  cpus: number;
  nodeStates: Record<NodeStateField, number>;
}

/** Ask squeue and sinfo (optionally for one partition). */
async function readSlurm(partition?: string, timeoutMs = 30_000): Promise<SlurmSnapshot> {
  const now = Date.now() / 1000;
  const [sq, si] = await Promise.all([
    runSlurmCommand('squeue', squeueArgs(partition), timeoutMs),
    runSlurmCommand('sinfo', sinfoArgs(partition), timeoutMs),
  ]);
  const { jobs, report } = parseSqueue(sq, now);
  const s = parseSinfo(si);
  if (s.nodes === 0) {
    throw new UserError(
      partition ? `sinfo lists no nodes in partition ${partition} (does it exist?)` : 'sinfo lists no nodes',
    );
  }
  return { now, jobs, report, nodes: s.nodes, cpus: s.cpus, nodeStates: s.nodeStates };
}

/**
 * The timeline row at minute instant t from a snapshot's jobs (a one-row buildTimeline).
 * expected_end_30m_nodes uses `endingTable` (saved by `pcm timeline --ending-table`), else the time-limit
 * prior: a snapshot has no finished jobs to learn from.
 */
export function snapshotRow(
  snap: SlurmSnapshot,
  cluster: string,
  partition: string,
  t?: number,
  endingTable?: EndingTable,
): TelemetryRow {
  const at = t ?? Math.floor(snap.now / 60) * 60;
  if (at % 60 !== 0) throw new InputError(`snapshot time ${at} is not a whole minute`);
  const tl = buildTimeline(snap.jobs, {
    capacity: snap.nodes,
    totalCpus: snap.cpus > 0 ? snap.cpus : undefined,
    start: at,
    end: at + 60,
    endingTable,
  });
  return { ...rowOfTimeline(tl, 0, cluster, partition), nodeStates: snap.nodeStates };
}

/**
 * The jobs squeue listed as ended (start and end known), kept while they ended within the run-time window
 * (src/timeline/runtime-quantiles.ts): squeue forgets them after MinJobAge, the row's
 * p50/p90_runtime_ended_1h_s need the last hour's.
 */
export class EndedJobs {
  private readonly seen = new Map<string, JobRecord>();

  /** The snapshot's jobs plus the remembered ended jobs it no longer lists (ended after t - window). */
  withRemembered(snap: SlurmSnapshot, t = Math.floor(snap.now / 60) * 60): SlurmSnapshot {
    const jobs = this.remembered(snap.jobs, t);
    return jobs === snap.jobs ? snap : { ...snap, jobs };
  }

  /** `jobs` (a queue listing at minute t) plus the remembered ended jobs it no longer lists. */
  remembered(jobs: JobRecord[], t: number): JobRecord[] {
    const listed = new Set<string>();
    for (const j of jobs) {
      listed.add(j.id);
      if (j.start !== null && j.end !== null) this.seen.set(j.id, j);
    }
    const extra: JobRecord[] = [];
    for (const [id, j] of this.seen) {
      if ((j.end as number) <= t - ENDED_WINDOW_S) this.seen.delete(id);
      else if (!listed.has(id)) extra.push(j);
    }
    return extra.length ? [...jobs, ...extra] : jobs;
  }
}

export interface CollectOptions {
  /** Tag values of the series written. */
  cluster: string;
  partition: string;
  /** Slurm partition to ask about (undefined = the whole cluster). */
  slurmPartition?: string;
  intervalS: number;
  once: boolean;
  /** `pending`: where the rows not yet written wait (e.g. an on-disk Spool); default in memory, maxPending. */
  sinks: Array<{ name: string; writer: TelemetryWriter; pending?: PendingRows }>;
  /** Stops the loop (SIGINT/SIGTERM); the current minute is finished and pending rows get one more try. */
  signal?: AbortSignal;
  /** Rows kept per sink while it is failing (default one day); older ones are dropped and counted. */
  maxPending?: number;
  onRow?: (row: TelemetryRow, snap: SlurmSnapshot) => void;
  /** A failure in loop mode (the loop goes on); in --once mode failures throw instead. */
  onError?: (message: string) => void;
  /** Table for expected_end_30m_nodes (default: the time-limit prior; see snapshotRow). */
  endingTable?: EndingTable;
  /** Where the snapshot comes from (default: squeue/sinfo). */
  read?: () => Promise<SlurmSnapshot>;
}

export interface CollectResult {
  rows: number;
  /** Minutes for which Slurm could not be read. */
  slurmErrors: number;
  /** Rows written per sink, and rows still pending / dropped because the sink kept failing. */
  sinks: Record<string, { written: number; pending: number; dropped: number; errors: number }>;
}

export async function collect(o: CollectOptions): Promise<CollectResult> {
  checkName('--cluster', o.cluster);
  checkName('--partition', o.partition);
  if (!(Number.isFinite(o.intervalS) && o.intervalS >= 1)) {
    throw new InputError(`--interval: expected seconds >= 1, got ${o.intervalS}`);
  }
  const maxPending = o.maxPending ?? 1440;
  const read = o.read ?? (() => readSlurm(o.slurmPartition));
  const res: CollectResult = { rows: 0, slurmErrors: 0, sinks: {} };
  const ended = new EndedJobs();
  const state = o.sinks.map((s) => {
    res.sinks[s.name] = { written: 0, pending: s.pending?.length ?? 0, dropped: 0, errors: 0 };
    const pending = s.pending ?? new PendingRows(maxPending, (m) => o.onError?.(`${s.name}: ${m}`));
    return { ...s, pending, flushing: null as Promise<void> | null };
  });

  // one write of everything waiting; rows that arrive meanwhile stay for the next one
  const flushSink = async (s: (typeof state)[number], final: boolean) => {
    const st = res.sinks[s.name];
    const { rows, upTo } = s.pending.peek();
    if (rows.length === 0) return;
    try {
      await s.writer.write(rows);
      st.written += rows.length;
      s.pending.ack(upTo);
    } catch (e) {
      st.errors++;
      if (o.once) throw e;
      o.onError?.(
        `${s.name}: ${errorMessage(e)}; ${s.pending.length} row(s) kept to retry${final ? ' (giving up: stopping)' : ''}`,
      );
    }
    st.pending = s.pending.length;
  };
  // loop mode: a write (TimeoutMs x retries can be minutes) runs beside the sampling, never in its way
  const kick = () => {
    for (const s of state) {
      if (s.flushing) continue;
      s.flushing = flushSink(s, false).finally(() => {
        s.flushing = null;
      });
    }
  };

  for (;;) {
    let snap: SlurmSnapshot | null = null;
    try {
      snap = await read();
    } catch (e) {
      res.slurmErrors++;
      if (o.once) throw e;
      o.onError?.(errorMessage(e));
    }
    if (snap) {
      const row = snapshotRow(ended.withRemembered(snap), o.cluster, o.partition, undefined, o.endingTable);
      res.rows++;
      o.onRow?.(row, snap);
      for (const s of state) {
        res.sinks[s.name].dropped += s.pending.push(row);
        res.sinks[s.name].pending = s.pending.length;
      }
      if (o.once) for (const s of state) await flushSink(s, false);
    }
    if (!o.once) kick();
    if (o.once || o.signal?.aborted) break;
    // next tick: the next multiple of the interval (epoch-aligned) plus 1 s, so a minute has just begun
    const nowMs = Date.now();
    const step = o.intervalS * 1000;
    const wait = Math.ceil((nowMs + 1) / step) * step + 1000 - nowMs;
    try {
      await sleep(wait, undefined, { signal: o.signal });
    } catch {
      break; // aborted
    }
  }
  await Promise.all(state.map((s) => s.flushing));
  for (const s of state) await flushSink(s, true);
  return res;
}
