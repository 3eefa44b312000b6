import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/schema.js';
import { errorMessage } from '../../util/errors.js';
import type { Advice, AdvisePolicyName } from '../advise.js';
import { ForecastAuthError, type ForecastInput, fetchForecast, readForecastFile } from '../forecast-input.js';
import { chainsFromConfig, UserChains } from '../policies/user-chains.js';
import { serviceToken } from '../service-token.js';
import { readSlurm, runSlurm, type SlurmNode, type SlurmRunner } from '../slurm-nodes.js';
import { applyAdvice, type NodeOutcome } from './apply.js';
import { type RunClock, wallClock } from './clock.js';
import { decide } from './decide.js';
import { jobEvents, UserIds } from './job-events.js';
import { acquireControllerLock, type ControllerLock } from './lock.js';
import { RunMetrics } from './metrics.js';
import { RateLedger } from './rate-ledger.js';
import { type QueueSnapshot, readQueue } from './snapshot.js';
import { emptyState, loadState, type RunState, saveState, statePathIn } from './state-file.js';

/**
 * `pcm power run`: the live controller. Every interval it reads the nodes (sinfo, scontrol) and the queue
 * (squeue), turns what changed since the last read into job events for the users' submission chains,
 * decides with the same code as `pcm power advise` (decide.ts -> planAdvice, the chains as its arrival
 * outlook, the rate ledger's last minute as rates already used, the reactive rule when no forecast is
 * usable), applies through scontrol with every refusal checked again on a fresh read (apply.ts), records
 * the actions in the rate ledger, writes its state, updates its metrics and logs one JSON line.
 * It holds the controller lock for its whole life. An interval that fails (slurmctld unreachable, a
 * malformed answer) is logged and counted, and the next one tries again; a refused service token stops it.
 */
export interface ControllerOptions {
  cfg: Config;
  policy: AdvisePolicyName;
  partition?: string;
  cluster?: string;
  /** Prediction service (default Predictor.URL). */
  service?: string;
  /** A saved forecast JSON, read again every interval, instead of the service. */
  forecastFile?: string;
  /** Plan and log, never apply. */
  dryRun?: boolean;
  run?: SlurmRunner;
  /** One record per line (default: JSON on stdout, pino's fields). */
  log?: (rec: Record<string, unknown>) => void;
  /** Policy time (default the wall clock; a trial in compressed time maps it: ./clock.ts). */
  clock?: RunClock;
  /** Called between the plan and the apply (tests make the apply race deterministic with it). */
  beforeApply?: (adv: Advice) => Promise<void>;
}

export interface IntervalReport {
  adv: Advice | null;
  fallback: string | null;
  outcomes: NodeOutcome[];
  error: string | null;
}

const LEVEL = { info: 30, warn: 40, error: 50 } as const;

export function jsonLog(rec: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ time: Date.now(), pid: process.pid, hostname: hostname(), ...rec })}\n`,
  );
}

export class Controller {
  private server: Server | null = null;
  private readonly log: (rec: Record<string, unknown>) => void;
  private readonly run: SlurmRunner;
  readonly metrics = new RunMetrics();

  private constructor(
    readonly o: ControllerOptions,
    private readonly lock: ControllerLock,
    readonly state: RunState,
    readonly ledger: RateLedger,
    readonly chains: UserChains | null,
    private readonly users: UserIds,
    private readonly token: string | undefined,
  ) {
    this.log = o.log ?? jsonLog;
    this.run = o.run ?? runSlurm;
  }

  /** Take the lock, restore state and ledger, open the metrics listener. Errors are one-line UserErrors. */
  static async start(o: ControllerOptions): Promise<Controller> {
    const r = o.cfg.Power.Run;
    const token = o.forecastFile ? undefined : serviceToken(o.cfg);
    const lock = await acquireControllerLock(r.StateDir, 'pcm power run', r.LockWaitSeconds);
    try {
      const partition = o.partition ?? null;
      const saved = await loadState(statePathIn(r.StateDir), partition);
      const state = saved ?? emptyState(partition);
      const ledger = await RateLedger.open(r.StateDir);
      const opts = chainsFromConfig(o.cfg.Power.Predictive);
      const chains = opts ? UserChains.restore(opts, state.chains) : null;
      const c = new Controller(o, lock, state, ledger, chains, new UserIds(state.users), token);
      if (r.MetricsPort > 0) c.server = await c.metrics.listen(r.MetricsHost, r.MetricsPort);
      c.log({
        level: LEVEL.info,
        msg: 'start',
        state: saved ? 'resumed' : 'new',
        state_dir: r.StateDir,
        users: Object.keys(state.users).length,
        active_users: state.chains.active.length,
        ledger_entries: ledger.entries.length,
        lock_taken_over: lock.tookOver,
        metrics: r.MetricsPort > 0 ? `http://${r.MetricsHost}:${r.MetricsPort}/metrics` : null,
        interval_s: r.IntervalSeconds,
        dry_run: Boolean(o.dryRun),
      });
      return c;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  private getForecast = (): Promise<ForecastInput> =>
    this.o.forecastFile
      ? readForecastFile(this.o.forecastFile)
      : fetchForecast(
          this.o.service ?? this.o.cfg.Predictor.URL,
          { cluster: this.o.cluster, partition: this.o.partition },
          this.o.cfg.Power.Advise.TimeoutSeconds,
          this.token,
        );

  /** One interval: read, observe, decide, apply, save, report. */
  async step(): Promise<IntervalReport> {
    const t0 = Date.now();
    const clock = this.o.clock ?? wallClock;
    const now = clock.now();
    const { cfg, partition } = this.o;
    try {
      const { nodes, config: slurm } = await inPolicyTime(readSlurm(this.run, partition), clock);
      const q = inPolicyTimeQ(await readQueue(this.run, t0 / 1000, partition), clock);
      const floor = this.chains?.latest ?? Number.NEGATIVE_INFINITY;
      const { events, counts } = jobEvents(this.state.snapshot, q.snap, this.users, floor);
      for (const e of events) this.chains?.observe(e);
      const used = this.ledger.used(now);
      const d = await decide({
        nodes,
        slurm,
        power: cfg.Power,
        policy: this.o.policy,
        getForecast: this.getForecast,
        fallback: true,
        staleIsUnavailable: true,
        now,
        cluster: this.o.cluster ?? cfg.Cluster.Name,
        arrivals: this.chains,
        rateUsed: used,
      });
      if (d.forecast) this.metrics.forecastOk(now);
      let outcomes: NodeOutcome[] = [];
      if (!this.o.dryRun && d.adv.commands.length > 0) {
        if (!slurm.powerSave) {
          d.adv.warnings.push('not applied: Slurm power saving is off');
        } else {
          await this.o.beforeApply?.(d.adv);
          const res = await applyAdvice(d.adv, {
            run: this.run,
            reread: () => inPolicyTime(readSlurm(this.run, partition), clock),
            excludeNodes: cfg.Power.Advise.ExcludeNodes,
            groupSize: cfg.Power.Run.ApplyGroupSize,
          });
          outcomes = res.outcomes;
          this.ledger.recordDone(now, outcomes, 'run');
          await this.ledger.save(now);
        }
      }
      const s = this.state;
      s.snapshot = q.snap;
      s.chains = this.chains?.save() ?? s.chains;
      s.last_actions = outcomes.length ? { t: now, outcomes } : s.last_actions;
      const add = (k: string, v: number) => {
        s.totals[k] = (s.totals[k] ?? 0) + v;
      };
      add('intervals', 1);
      add('fallbacks', d.fallback ? 1 : 0);
      add('jobs_seen_only_ended', counts.seenOnlyEnded);
      add('jobs_vanished', counts.vanished);
      for (const o of outcomes) add(`${o.state}_${o.outcome}`, 1);
      await saveState(statePathIn(cfg.Power.Run.StateDir), s);
      this.metrics.record(d.adv, d.fallback !== null, outcomes, counts, this.ledger.used(now));
      this.metrics.intervals.inc({ outcome: 'ok' });
      this.metrics.duration.set((Date.now() - t0) / 1000);
      const n = (st: string, oc: string) => outcomes.filter((x) => x.state === st && x.outcome === oc).length;
      this.log({
        level: d.fallback ? LEVEL.warn : LEVEL.info,
        msg: 'interval',
        policy: d.adv.policy,
        fallback: d.fallback,
        view: d.adv.view,
        forecast: d.adv.forecast
          ? { keep_up: d.adv.forecast.keep_up, keep_hold: d.adv.forecast.keep_hold }
          : null,
        arrivals: this.chains?.nodes(now) ?? 0,
        wanted: d.adv.wanted,
        planned: d.adv.commands.map((c) => `${c.state} ${c.hostlist}`),
        done: { power_down: n('power_down', 'done'), power_up: n('power_up', 'done') },
        refused: outcomes.filter((x) => x.outcome === 'refused').map((x) => `${x.node}: ${x.why}`),
        failed: outcomes.filter((x) => x.outcome === 'failed').map((x) => `${x.node}: ${x.why}`),
        jobs: { ...counts, events: events.length, squeue_skipped: q.skipped },
        rate_used: used,
        warnings: d.adv.warnings,
        dry_run: Boolean(this.o.dryRun),
        seconds: (Date.now() - t0) / 1000,
      });
      return { adv: d.adv, fallback: d.fallback, outcomes, error: null };
    } catch (e) {
      if (e instanceof ForecastAuthError) throw e;
      this.metrics.intervals.inc({ outcome: 'error' });
      this.log({ level: LEVEL.error, msg: 'interval failed', error: errorMessage(e) });
      return { adv: null, fallback: null, outcomes: [], error: errorMessage(e) };
    }
  }

  /** Close the listener and release the lock (the state was written at the end of the last interval). */
  async stop(): Promise<void> {
    const srv = this.server;
    this.server = null;
    if (srv) await new Promise<void>((res) => srv.close(() => res()));
    this.lock.release();
    this.log({ level: LEVEL.info, msg: 'stop', intervals: this.state.totals.intervals ?? 0 });
  }
}

/**
 * Run intervals every Power.Run.IntervalSeconds (aligned to the start, never overlapping) until `signal`
 * aborts (SIGTERM/SIGINT: the interval in progress finishes its apply and writes its state first) or
 * `maxIntervals` have run.
 */
export async function runLoop(
  c: Controller,
  signal: AbortSignal,
  maxIntervals = Number.POSITIVE_INFINITY,
): Promise<void> {
  const everyMs = (c.o.cfg.Power.Run.IntervalSeconds * 1000) / (c.o.clock ?? wallClock).scale;
  let next = Date.now();
  for (let i = 0; i < maxIntervals && !signal.aborted; i++) {
    await c.step();
    if (i + 1 >= maxIntervals) break;
    next += everyMs;
    if (next < Date.now()) next = Date.now(); // an interval longer than the period: no catch-up burst
    await sleep(next - Date.now(), undefined, { signal }).catch(() => {});
  }
}

/** The nodes' LastBusyTime in policy time (the identity on the wall clock). */
async function inPolicyTime<T extends { nodes: SlurmNode[] }>(read: Promise<T>, clock: RunClock): Promise<T> {
  const r = await read;
  if (clock === wallClock) return r;
  for (const n of r.nodes) if (n.lastBusy !== null) n.lastBusy = clock.fromSlurm(n.lastBusy);
  return r;
}

/** The queue's submit/start/end instants in policy time. */
function inPolicyTimeQ<T extends { snap: QueueSnapshot }>(q: T, clock: RunClock): T {
  if (clock === wallClock) return q;
  const f = (t: number | null) => (t === null ? null : clock.fromSlurm(t));
  q.snap.t = clock.fromSlurm(q.snap.t);
  for (const j of Object.values(q.snap.jobs)) {
    j.submit = f(j.submit);
    j.start = f(j.start);
    j.end = f(j.end);
  }
  return q;
}
