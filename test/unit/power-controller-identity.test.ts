/**
 * One decision path: the replay and the live controller decide alike. A predictive replay (ridge forecast,
 * calibrated peak band, users' submission chains) is recorded tick by tick: the cluster view, the job events
 * the policy was told, the forecast it read and what it did. Each tick is then handed to the live side as a
 * live cluster would give it — Slurm's node states (State=, LastBusyTime), the queue, and the service's
 * forecast JSON (origin, timestamps, p50, p90, peak band) — once through `planAdvice` (advise) with the events
 * as they were, and once through `pcm power run`'s controller (dry run), which reads sinfo/scontrol/squeue
 * text, learns the events from the difference of its queue snapshots and keeps its state file. Every
 * power-down must name the same nodes and every power-up the same count, at every tick.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { Ridge } from '../../src/model/baselines/ridge.js';
import { planAdvice } from '../../src/power/advise.js';
import { PowerSchema } from '../../src/power/config.js';
import { forecastOutlook, parseForecast } from '../../src/power/forecast-input.js';
import type { ForecastPeak } from '../../src/power/forecast-peak.js';
import type { OnlineForecast } from '../../src/power/online-forecast.js';
import type { PeakBand } from '../../src/power/peak-band.js';
import { UserChains, type UserChainsOptions } from '../../src/power/policies/user-chains.js';
import type { WarmPool } from '../../src/power/policies/warm-pool.js';
import type { ClusterView, JobEvent, PowerActions, PowerPolicy } from '../../src/power/policy.js';
import { powerReplay } from '../../src/power/replay.js';
import type { RunClock } from '../../src/power/run/clock.js';
import { Controller } from '../../src/power/run/loop.js';
import type { SlurmNode, SlurmPowerConfig } from '../../src/power/slurm-nodes.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import { powerView } from '../../src/service/power-view.js';
import type { SimJob } from '../../src/sim/job.js';
import { Rng } from '../../src/util/rng.js';
import { dailyTimeline, serviceOver, storeWith } from '../helpers/service-helpers.js';

const T0 = 1_700_000_000 - (1_700_000_000 % 86400);
const NODES = 24;
const CHAINS: UserChainsOptions = { windowS: 600, maxNodes: 8, onEnd: true };

/** Bursty jobs of 6 users over `days` (users chain their submissions, as on real clusters). */
function workload(seed: number, days: number): SimJob[] {
  const rng = new Rng(seed);
  const jobs: SimJob[] = [];
  let t = T0;
  while (t < T0 + days * 86400) {
    t += Math.round(rng.exponential(1 / 1200));
    const user = `u${rng.int(6)}`;
    const burst = 1 + rng.int(4);
    const nodes = 1 + rng.int(6);
    for (let b = 0; b < burst; b++) {
      const runtime = Math.round(rng.exponential(1 / 2400));
      jobs.push({
        id: String(jobs.length),
        submit: t + b * (60 + rng.int(240)),
        nodes,
        cpus: nodes,
        runtime,
        limit: Math.max(60, Math.round(runtime * 1.5)),
        user,
        partition: null,
      });
    }
  }
  return jobs.sort((a, b) => a.submit - b.submit);
}

interface Tick {
  view: Omit<ClusterView, 'idleNodes'>;
  idle: { ids: number[]; since: number[] };
  /** Job events told to the policy since the previous tick. */
  events: JobEvent[];
  forecast: { origin: number; p50: number[]; p90: number[] | null; bin: number } | null;
  /** The replay's actions: power-up counts asked for, nodes powered down. */
  upAsked: number[];
  down: number[];
}

/** Wraps the predictive policy and records each decision with what it saw. */
function recorder(ticks: Tick[], band: { current: PeakBand | null }): (p: PowerPolicy) => PowerPolicy {
  return (p) => {
    if (p.name !== 'predictive') return p;
    const wp = p as WarmPool;
    const online = wp.outlook as OnlineForecast;
    band.current = online.band;
    let events: JobEvent[] = [];
    return {
      name: p.name,
      intervalS: p.intervalS,
      observe: (e) => {
        events.push(e);
        p.observe?.(e);
      },
      decide(view: ClusterView, act: PowerActions): void {
        const { ids, since, n } = view.idleNodes();
        const tick: Tick = {
          view: {
            now: view.now,
            capacity: view.capacity,
            busy: view.busy,
            idle: view.idle,
            booting: view.booting,
            off: view.off,
            shutting: view.shutting,
            queuedNodes: view.queuedNodes,
          },
          idle: { ids: Array.from(ids.subarray(0, n)), since: Array.from(since.subarray(0, n)) },
          events,
          forecast: (online.outlook as ForecastPeak).current(),
          upAsked: [],
          down: [],
        };
        events = [];
        ticks.push(tick);
        p.decide(view, {
          powerUp: (k) => {
            tick.upAsked.push(k);
            return act.powerUp(k);
          },
          powerDown: (id) => {
            const ok = act.powerDown(id);
            if (ok) tick.down.push(id);
            return ok;
          },
        });
      },
    };
  };
}

const name = (i: number) => `n${String(i + 1).padStart(2, '0')}`;

/** The tick as Slurm shows it: idle nodes with their LastBusyTime, the others by power state. */
function slurmNodes(t: Tick): SlurmNode[] {
  const state = new Array<string>(t.view.capacity).fill('');
  const lastBusy = new Array<number | null>(t.view.capacity).fill(null);
  t.idle.ids.forEach((id, k) => {
    state[id] = 'IDLE';
    lastBusy[id] = t.idle.since[k];
  });
  // the rest: which node is busy, booting, off or shutting does not change a decision (counts do)
  const rest = [
    ...new Array(t.view.busy).fill('ALLOCATED'),
    ...new Array(t.view.booting).fill('IDLE+POWERING_UP'),
    ...new Array(t.view.off).fill('IDLE+POWERED_DOWN'),
    ...new Array(t.view.shutting).fill('IDLE+POWERING_DOWN'),
  ];
  for (let i = 0; i < state.length; i++) if (state[i] === '') state[i] = rest.shift() ?? 'UNSET';
  assert.equal(rest.length, 0, `tick at ${t.view.now}: node states do not add up`);
  return state.map((s, i) => ({
    name: name(i),
    sinfoState: s.toLowerCase(),
    state: s,
    reason: '',
    lastBusy: lastBusy[i],
    partitions: ['batch'],
  }));
}

/** The tick's forecast as the service answers it (GET /forecast/latest), with the peak band of its bin. */
function serviceAnswer(t: Tick, band: PeakBand | null): unknown {
  const f = t.forecast!;
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return {
    origin: iso(f.origin),
    timestamps: f.p50.map((_, h) => iso(f.origin + 60 * (h + 1))),
    p50: f.p50,
    p90: f.p90 ?? f.p50,
    ...(band
      ? {
          peak_band: {
            quantile: band.q,
            bin: f.bin,
            offsets: f.p50.map((_, h) => band.at(f.bin, h + 1)),
          },
        }
      : {}),
  };
}

const SLURM: SlurmPowerConfig = {
  version: '22.05.8',
  powerSave: true,
  suspendTime: '31536000',
  suspendRate: 0,
  resumeRate: 0,
  suspendExcNodes: [],
  suspendExcParts: [],
};

const REACTIVE = {
  SuspendTime: 600,
  SuspendRate: 1000,
  ResumeRate: 1000,
  SuspendExcNodes: 0,
  IntervalSeconds: 10,
};
/** The Power section a site would set for the same law (the live side of both tests). */
const POWER_YAML =
  'Power:\n  WarmPoolMargin: 1\n  Reactive:\n    SuspendRate: 1000\n    ResumeRate: 1000\n' +
  '  Predictive:\n    IntervalSeconds: 60\n    MinIdleSeconds: 120\n    UserWindowSeconds: 600\n    UserMaxNodes: 8\n' +
  '  Advise:\n    MaxActions: 1000\n';

/** One recorded predictive replay (6 days, 24 nodes), shared by the tests below. */
let recorded: Promise<{ ticks: Tick[]; band: PeakBand; jobs: SimJob[] }> | null = null;
function recordReplay(): Promise<{ ticks: Tick[]; band: PeakBand; jobs: SimJob[] }> {
  recorded ??= (async () => {
    const jobs = workload(7, 6);
    const ticks: Tick[] = [];
    const band: { current: PeakBand | null } = { current: null };
    await powerReplay({
      jobs,
      nodes: NODES,
      totalCpus: NODES,
      model: DEFAULT_POWER_MODEL,
      reactive: REACTIVE,
      predictive: { margin: 1, peakQuantile: 0.9, intervalS: 60, minIdleS: 120, chains: CHAINS },
      policies: ['always_on', 'predictive'],
      forecaster: { make: () => new Ridge(), fit: true },
      trainFraction: 0.4,
      jitterSeeds: 0,
      tap: recorder(ticks, band),
    });
    assert.ok(band.current, 'the replay calibrated a peak band');
    return { ticks, band: band.current, jobs };
  })();
  return recorded;
}

describe('one decision path: replay and live decide alike', () => {
  it('every tick of a predictive replay: same nodes powered down, same boots asked, through advise', async () => {
    const { ticks, band } = await recordReplay();
    const bandRef = { current: band };
    // the live path: the Power section as a site would set it, and the chains told the same events
    const power = parseConfig(POWER_YAML, 'pcm.yaml', {}).Power;
    const chains = new UserChains(CHAINS);
    let decided = 0;
    let downs = 0;
    let ups = 0;
    for (const t of ticks) {
      for (const e of t.events) chains.observe(e);
      if (!t.forecast) continue;
      const forecast = parseForecast(serviceAnswer(t, bandRef.current), 'recorded forecast');
      const adv = planAdvice({
        nodes: slurmNodes(t),
        slurm: SLURM,
        power,
        policy: 'predictive',
        forecast,
        now: t.view.now,
        arrivals: chains,
      });
      const at = new Date(t.view.now * 1000).toISOString();
      const liveDown = adv.nodes.filter((n) => n.action === 'power_down').map((n) => n.name);
      assert.deepEqual(liveDown.sort(), t.down.map(name).sort(), `${at}: power-downs`);
      const asked = t.upAsked.reduce((a, b) => a + b, 0);
      assert.equal(adv.wanted.power_up, asked, `${at}: boots asked`);
      decided++;
      downs += t.down.length;
      ups += asked;
    }
    // the sequence exercised the law both ways, many times
    assert.ok(decided > 3000, `decisions compared: ${decided}`);
    assert.ok(downs > 20 && ups > 20, `power-downs ${downs}, boots ${ups}`);
  });

  it("the service's warm pool is the law's target for the same forecast", () => {
    const power = PowerSchema.parse({ WarmPoolMargin: 2 });
    const p50 = [10, 11, 12, 14, 13, 12, 12, 12, 12, 12];
    const p90 = [12, 13, 15, 18, 16, 15, 15, 14, 14, 14];
    const origin = 1_800_000_000;
    const forecast = parseForecast(
      {
        origin: new Date(origin * 1000).toISOString(),
        timestamps: p50.map((_, h) => new Date((origin + 60 * (h + 1)) * 1000).toISOString()),
        p50,
        p90,
      },
      'f',
    );
    const nodes: SlurmNode[] = Array.from({ length: 32 }, (_, i) => ({
      name: name(i),
      sinfoState: i < 10 ? 'allocated' : 'idle',
      state: i < 10 ? 'ALLOCATED' : 'IDLE',
      reason: '',
      lastBusy: origin - 3600,
      partitions: ['batch'],
    }));
    const adv = planAdvice({ nodes, slurm: SLURM, power, policy: 'predictive', forecast, now: origin });
    const pv = powerView(p50, p90, 32, 10, power);
    assert.equal(pv.warm_pool.powered_now, adv.forecast?.keep_up);
    assert.equal(pv.warm_pool.peak_p90, adv.forecast?.peak_up);
    assert.equal(forecastOutlook(forecast).peak(origin, 360), 18);
  });

  it("the service's answer carries the ridge's peak band, and the controller's law reads it", async () => {
    const { store, clock } = storeWith(dailyTimeline(3000));
    const { app, cfg } = serviceOver(store, clock, '  Baseline: ridge\n');
    const body = (
      await app.inject({ method: 'GET', url: '/forecast/latest?cluster=c&partition=_all' })
    ).json();
    assert.equal(body.peak_band.quantile, cfg.Power.Predictive.PeakQuantile);
    assert.equal(body.peak_band.offsets.length, body.p50.length);
    const f = parseForecast(body, 'service');
    const origin = Date.parse(body.origin) / 1000;
    // the law's peak over 6 minutes: the highest p50 of steps 1..6 plus the band's 6-step offset
    const want = Math.max(0, ...body.p50.slice(0, 6)) + body.peak_band.offsets[5];
    assert.equal(forecastOutlook(f).peak(origin, 360), want);
    // and the dashboard's warm pool is that law's target
    const nodes: SlurmNode[] = Array.from({ length: body.capacity.nodes }, (_, i) => ({
      name: name(i),
      sinfoState: 'idle',
      state: i < Math.round(body.busy_now) ? 'ALLOCATED' : 'IDLE',
      reason: '',
      lastBusy: origin - 3600,
      partitions: ['batch'],
    }));
    const adv = planAdvice({
      nodes,
      slurm: SLURM,
      power: cfg.Power,
      policy: 'predictive',
      forecast: f,
      now: origin,
    });
    assert.equal(body.warm_pool.powered_now, adv.forecast?.keep_up);
    await app.close();
  });

  it('and through pcm power run: Slurm-shaped answers (sinfo, scontrol, squeue) each tick, the same decisions', async () => {
    const { ticks, band, jobs } = await recordReplay();
    const dir = mkdtempSync(join(tmpdir(), 'pcm-identity-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = parseConfig(
      `${POWER_YAML}  Run:\n    StateDir: ${join(dir, 'state')}\n    MetricsPort: 0\n    IntervalSeconds: 60\n`,
      'pcm.yaml',
      {},
    );
    const forecastFile = join(dir, 'forecast.json');
    // what Slurm shows at the tick: the recorded node states, and every job the replay had been told of
    const seen = new Map<number, { submit: number; end: number | null; user: number; nodes: number }>();
    let tick: Tick = ticks[0];
    const squeue = (): string => {
      const lines: string[] = [];
      for (const [j, r] of seen) {
        // Slurm lists an ended job for MinJobAge (300 s) after its end
        if (r.end !== null && tick.view.now - r.end > 300) continue;
        const st = r.end === null ? 'PENDING' : 'COMPLETED';
        const end = r.end === null ? 'N/A' : String(r.end);
        const start = r.end === null ? 'N/A' : String(r.submit);
        lines.push(
          `${j}|${st}|${r.submit}|${r.submit}|${start}|${end}|1:00:00|${r.nodes}|${r.nodes}|batch|u${r.user}||`,
        );
      }
      return lines.join('\n');
    };
    const runner = async (cmd: string, args: string[]): Promise<string> => {
      const nodes = slurmNodes(tick);
      if (cmd === 'sinfo') return nodes.map((n) => `${n.name}|${n.sinfoState}|none`).join('\n');
      if (cmd === 'scontrol' && args[1] === 'node')
        return nodes
          .map(
            (n) =>
              `NodeName=${n.name} State=${n.state} LastBusyTime=${n.lastBusy ?? 'Unknown'} Partitions=batch`,
          )
          .join('\n');
      if (cmd === 'scontrol' && args[1] === 'config')
        return [
          'SLURM_VERSION = 22.05.8',
          'SuspendProgram = /usr/local/sbin/suspend',
          'ResumeProgram = /usr/local/sbin/resume',
          'SuspendTime = 31536000 sec',
          'SuspendRate = 0',
          'ResumeRate = 0',
          'SuspendExcNodes = (null)',
          'SuspendExcParts = (null)',
        ].join('\n');
      if (cmd === 'squeue') return squeue();
      throw new Error(`unexpected ${cmd} ${args.join(' ')}`);
    };
    // policy time is the tick's (the controller reads every instant Slurm gives as is)
    const clock: RunClock = { now: () => tick.view.now, fromSlurm: (t) => t, scale: 1 };
    const c = await Controller.start({
      cfg,
      policy: 'predictive',
      forecastFile,
      dryRun: true,
      run: runner,
      log: () => {},
      clock,
    });
    let compared = 0;
    try {
      for (const t of ticks) {
        tick = t;
        for (const e of t.events) {
          const j = e.job as number;
          if (e.kind === 'submit') seen.set(j, { submit: e.t, end: null, user: e.user, nodes: e.nodes });
          else {
            const r = seen.get(j);
            assert.ok(r, `end of job ${j} before its submit`);
            r.end = e.t;
          }
        }
        if (!t.forecast) continue;
        writeFileSync(forecastFile, JSON.stringify(serviceAnswer(t, band)));
        const r = await c.step();
        const at = new Date(t.view.now * 1000).toISOString();
        assert.equal(r.error, null, `${at}: ${r.error}`);
        assert.equal(r.fallback, null, `${at}: fell back (${r.fallback})`);
        const adv = r.adv!;
        const liveDown = adv.nodes.filter((n) => n.action === 'power_down').map((n) => n.name);
        assert.deepEqual(liveDown.sort(), t.down.map(name).sort(), `${at}: power-downs`);
        assert.equal(
          adv.wanted.power_up,
          t.upAsked.reduce((a, b) => a + b, 0),
          `${at}: boots asked`,
        );
        compared++;
      }
    } finally {
      await c.stop();
    }
    assert.ok(compared > 3000, `ticks compared: ${compared}`);
    assert.ok(jobs.length > 100);
  });
});
