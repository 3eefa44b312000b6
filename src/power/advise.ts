import { compress } from '../jobs/hostlist.js';
import { UserError } from '../util/errors.js';
import type { PowerConfig } from './config.js';
import { type ForecastInput, ForecastUnavailable, forecastOutlook } from './forecast-input.js';
import { bootSlackS, predictivePolicy } from './policies/predictive.js';
import { Reactive } from './policies/reactive.js';
import type { ArrivalOutlook } from './policies/warm-pool.js';
import type { ClusterView, PowerActions, PowerPolicy } from './policy.js';
import { refuseNodes } from './refusals.js';
import type { NodeKind, SlurmNode, SlurmPowerConfig } from './slurm-nodes.js';
import { powerModelFromConfig } from './watts.js';

/**
 * `pcm power advise`: one decision of a power policy on the live cluster. Reads the nodes (slurm-nodes.ts)
 * and a forecast (the service's `GET /forecast/latest`, or a saved forecast JSON), builds the policy's
 * ClusterView from them, lets the policy decide, and turns its power-up/power-down actions into
 * `scontrol update nodename=<hostlist> state=power_up|power_down` commands.
 *
 * The policy decides, with the replay's code and outlook (policies/warm-pool.ts, ./forecast-peak.ts):
 * - power down: the nodes the policy names, those idle longest first (LastBusyTime; ties: highest-numbered),
 *   as in the replay; a refused node is skipped and the policy moves on to the next;
 * - power up: how many; advise boots the lowest-numbered powered-down eligible nodes first.
 * Never touched: the nodes refusals.ts refuses. Limits: SuspendRate and ResumeRate per minute (the smaller
 * of the config's and Slurm's, less what the rate ledger says was used in the last minute: `rateUsed`), and
 * MaxActions nodes in all. The apply step (run/apply.ts) and the live controller (run/loop.ts) are apart.
 */

export type AdvisePolicyName = 'predictive' | 'reactive';
export const ADVISE_POLICIES: readonly AdvisePolicyName[] = ['predictive', 'reactive'];

/** Why an eligible node was left alone: the policy did not ask for it. */
const UNTOUCHED: Record<NodeKind, string | null> = {
  idle: 'idle, kept powered by the policy',
  off: 'powered down, not needed yet',
  busy: null,
  booting: null,
  shutting: null,
  unavailable: null,
};

export interface NodeDecision {
  name: string;
  state: string;
  kind: NodeKind;
  /** power_down / power_up when advised, else null. */
  action: 'power_down' | 'power_up' | null;
  /** Why it is not touched (refusals, limits), or null. */
  why: string | null;
}

export interface AdviceCommand {
  state: 'power_down' | 'power_up';
  hostlist: string;
  nodes: number;
  argv: string[];
}

export interface Advice {
  policy: string;
  now: number;
  forecast: {
    source: string;
    origin: string | null;
    peak_up: number | null;
    peak_hold: number | null;
    keep_up: number;
    keep_hold: number;
    /** What the peak is read from: the p50 plus the forecast's calibrated peak band, or P90. */
    outlook: 'p50 + peak band' | 'P90';
    stale: boolean;
  } | null;
  view: {
    capacity: number;
    busy: number;
    idle: number;
    booting: number;
    off: number;
    shutting: number;
    unavailable: number;
  };
  wanted: { power_down: number; power_up: number };
  /** `*_used`: already used in the last 60 s (the rate ledger), before this decision. */
  limits: Record<'suspend_rate' | 'resume_rate' | 'max_actions' | 'suspend_used' | 'resume_used', number>;
  commands: AdviceCommand[];
  nodes: NodeDecision[];
  warnings: string[];
}

export interface AdviseInput {
  nodes: SlurmNode[];
  slurm: SlurmPowerConfig;
  power: PowerConfig;
  policy: AdvisePolicyName;
  /** Required for predictive. */
  forecast?: ForecastInput;
  now: number;
  cluster?: string;
  maxActions?: number;
  /** Arrivals the predictive warm pool holds idle nodes for (users' submission chains, told of every job event). */
  arrivals?: ArrivalOutlook | null;
  /** Nodes already powered down / up in the last 60 s (the persisted rate ledger, run/rate-ledger.ts). */
  rateUsed?: { power_down: number; power_up: number };
}

/** One decision of the policy on the live nodes: the commands to run and, per node, what and why. */
export function planAdvice(a: AdviseInput): Advice {
  const cfg = a.power;
  const warnings: string[] = [];
  const n = a.nodes.length;
  const { kinds, why } = refuseNodes(a.nodes, a.slurm, cfg.Advise.ExcludeNodes);
  const count = (k: NodeKind) => kinds.filter((x) => x === k).length;
  const view0 = {
    capacity: n - count('unavailable'),
    busy: count('busy'),
    idle: count('idle'),
    booting: count('booting'),
    off: count('off'),
    shutting: count('shutting'),
    unavailable: count('unavailable'),
  };
  const idleIdx = kinds.flatMap((k, i) => (k === 'idle' ? [i] : []));
  const since = Float64Array.from(idleIdx, (i) => a.nodes[i].lastBusy ?? a.now);
  const view: ClusterView = {
    now: a.now,
    ...view0,
    capacity: view0.capacity,
    queuedNodes: 0,
    idleNodes: () => ({ ids: Int32Array.from(idleIdx), since, n: idleIdx.length }),
  };

  // rate limits: the config's per-minute rates, Slurm's if smaller, and MaxActions nodes in all
  const minRate = (mine: number, slurm: number) => (slurm > 0 ? Math.min(mine, slurm) : mine);
  const suspendRate = minRate(cfg.Reactive.SuspendRate, a.slurm.suspendRate);
  const resumeRate = minRate(cfg.Reactive.ResumeRate, a.slurm.resumeRate);
  const maxActions = a.maxActions ?? cfg.Advise.MaxActions;
  // the rates hold per minute across runs: what the ledger says was done in the last minute counts
  const usedDown = a.rateUsed?.power_down ?? 0;
  const usedUp = a.rateUsed?.power_up ?? 0;
  const limitWhy = (rateName: string, rate: number, used: number) =>
    used >= rate
      ? `held back: ${rateName} ${rate}/min reached`
      : `held back: max actions ${maxActions} reached`;

  const action: Array<'power_down' | 'power_up' | null> = new Array(n).fill(null);
  let downs = 0;
  let ups = 0;
  const wanted = { power_down: 0, power_up: 0 };
  const budget = () => maxActions - downs - ups;
  const model = powerModelFromConfig(cfg, a.cluster);
  const minIdleS = a.policy === 'predictive' ? cfg.Predictive.MinIdleSeconds : 0;
  const eligibleDown = (i: number) =>
    kinds[i] === 'idle' &&
    why[i] === null &&
    action[i] === null &&
    a.now - (a.nodes[i].lastBusy ?? a.now) >= minIdleS;
  const upOrder = kinds.flatMap((k, i) => (k === 'off' && why[i] === null ? [i] : []));

  const act: PowerActions = {
    powerUp(k: number): number {
      if (a.policy === 'reactive') wanted.power_up += k;
      let done = 0;
      let tried = 0;
      for (const i of upOrder) {
        if (tried >= k) break;
        if (action[i] !== null) continue;
        tried++;
        if (usedUp + ups >= resumeRate || budget() <= 0) {
          why[i] = limitWhy('ResumeRate', resumeRate, usedUp + ups);
          continue;
        }
        action[i] = 'power_up';
        ups++;
        done++;
      }
      return done;
    },
    powerDown(id: number): boolean {
      // the policy names its node (view.idleNodes ids are node indices): the replay's choice, node for node
      const i = id;
      if (a.policy === 'reactive') wanted.power_down++;
      if (!eligibleDown(i)) return false;
      if (usedDown + downs >= suspendRate || budget() <= 0) {
        if (why[i] === null) why[i] = limitWhy('SuspendRate', suspendRate, usedDown + downs);
        return false;
      }
      action[i] = 'power_down';
      downs++;
      return true;
    },
  };

  let policy: PowerPolicy;
  let fc: Advice['forecast'] = null;
  if (a.policy === 'predictive') {
    if (!a.forecast) throw new UserError('predictive policy: no forecast (give --service or --forecast)');
    const outlook = forecastOutlook(a.forecast);
    const wp = predictivePolicy(
      outlook,
      model,
      cfg.WarmPoolMargin,
      cfg.Predictive.IntervalSeconds,
      minIdleS,
      bootSlackS(view.capacity, resumeRate),
      a.arrivals ?? null,
    );
    // the warm-pool law's targets (policies/warm-pool.ts), for the report: what it wants before refusals
    const t = a.forecast.times[0] - 60 > a.now + 60 ? null : wp.targets(view);
    if (!t) {
      const iso = (x: number) => new Date(x * 1000).toISOString();
      const [first, last] = [a.forecast.times[0], a.forecast.times[a.forecast.times.length - 1]];
      throw new ForecastUnavailable(
        `${a.forecast.source}: no forecast minute ahead of now (forecast covers ${iso(first)} .. ${iso(last)}, now ${iso(a.now)}): stale forecast or clocks disagree`,
      );
    }
    if (a.forecast.stale) warnings.push(`forecast from ${a.forecast.source} is marked stale by the service`);
    const horizonEnd = a.forecast.times[a.forecast.times.length - 1];
    if (horizonEnd < a.now + wp.holdS) {
      warnings.push(
        `forecast covers ${Math.max(0, Math.round(horizonEnd - a.now))} s ahead, less than the ${wp.holdS} s break-even horizon: power-downs judged on what it covers`,
      );
    }
    const avail = view.busy + view.idle + view.booting;
    if (avail < t.up) wanted.power_up = t.up - avail;
    else if (avail > t.hold) wanted.power_down = avail - t.hold;
    fc = {
      source: a.forecast.source,
      origin: a.forecast.origin,
      peak_up: t.upPeak,
      peak_hold: t.holdPeak,
      keep_up: t.up,
      keep_hold: t.hold,
      outlook: a.forecast.peakBand ? 'p50 + peak band' : 'P90',
      stale: a.forecast.stale,
    };
    policy = wp;
  } else {
    policy = new Reactive(cfg.Reactive);
  }
  policy.decide(view, act);

  const commands: AdviceCommand[] = [];
  for (const state of ['power_down', 'power_up'] as const) {
    const names = a.nodes.filter((_, i) => action[i] === state).map((nd) => nd.name);
    if (names.length === 0) continue;
    const hostlist = compress(names);
    commands.push({
      state,
      hostlist,
      nodes: names.length,
      argv: ['scontrol', 'update', `nodename=${hostlist}`, `state=${state}`],
    });
  }
  if (!a.slurm.powerSave && commands.length > 0) {
    warnings.push(
      `Slurm power saving is off (SuspendProgram/ResumeProgram unset or SuspendTime ${a.slurm.suspendTime}): scontrol refuses power_down/power_up`,
    );
  }
  return {
    policy: policy.name,
    now: a.now,
    forecast: fc,
    view: view0,
    wanted,
    limits: {
      suspend_rate: suspendRate,
      resume_rate: resumeRate,
      max_actions: maxActions,
      suspend_used: usedDown,
      resume_used: usedUp,
    },
    commands,
    nodes: a.nodes.map((nd, i) => ({
      name: nd.name,
      state: nd.sinfoState,
      kind: kinds[i],
      action: action[i],
      why: action[i] ? null : (why[i] ?? UNTOUCHED[kinds[i]]),
    })),
    warnings,
  };
}

/** The advice as text: a summary, the commands, and the untouched nodes grouped by reason. */
export function formatAdvice(adv: Advice, applied: boolean): string {
  const v = adv.view;
  const lines: string[] = [];
  const head = `policy ${adv.policy}: ${v.capacity} nodes in view (busy ${v.busy}, idle ${v.idle}, booting ${v.booting}, off ${v.off}, shutting down ${v.shutting}), ${v.unavailable} unavailable`;
  lines.push(head);
  if (adv.forecast) {
    lines.push(
      `forecast ${adv.forecast.source}${adv.forecast.origin ? ` (origin ${adv.forecast.origin})` : ''}: peak ${adv.forecast.outlook} ${adv.forecast.peak_up?.toFixed(1)} over the boot lead, ${adv.forecast.peak_hold?.toFixed(1)} over the break-even horizon; keep ${adv.forecast.keep_up} nodes available (power down only above ${adv.forecast.keep_hold})`,
    );
  }
  const downs = adv.commands.find((c) => c.state === 'power_down')?.nodes ?? 0;
  const ups = adv.commands.find((c) => c.state === 'power_up')?.nodes ?? 0;
  lines.push(
    `decision: power down ${downs} (wanted ${adv.wanted.power_down}), power up ${ups} (wanted ${adv.wanted.power_up}); limits SuspendRate ${adv.limits.suspend_rate}/min, ResumeRate ${adv.limits.resume_rate}/min, max actions ${adv.limits.max_actions}`,
  );
  for (const w of adv.warnings) lines.push(`warning: ${w}`);
  if (adv.commands.length === 0) lines.push('nothing to do');
  else {
    lines.push(applied ? 'ran:' : 'dry run (add --apply to run):');
    for (const c of adv.commands) lines.push(`  ${c.argv.join(' ')}`);
  }
  const groups = new Map<string, string[]>();
  for (const nd of adv.nodes) {
    if (nd.action || !nd.why) continue;
    const g = groups.get(nd.why) ?? [];
    g.push(nd.name);
    groups.set(nd.why, g);
  }
  if (groups.size > 0) {
    lines.push('not touched:');
    for (const [reason, names] of groups) lines.push(`  ${compress(names)}: ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}
