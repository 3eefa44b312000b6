/**
 * The digital twin of a live trial arm: the same (unscaled) job stream through the replay's power-aware
 * scheduler (../../src/power/cluster.ts) with the arm's settings in trace seconds: boots of
 * bootDelay x scale, shutdowns of SuspendTimeout x scale, decisions every power_save_interval (1 s) x scale.
 * The predictive arm's twin is the replay's predictive policy with the live controller's config, its online
 * forecast on the trial's live timeline (./forecast.ts) written from the replay's own scheduler.
 */
import { PowerSim } from '../../src/power/cluster.js';
import type { PowerConfig } from '../../src/power/config.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { bootSlackS, predictivePolicy } from '../../src/power/policies/predictive.js';
import { Reactive } from '../../src/power/policies/reactive.js';
import { chainsFromConfig } from '../../src/power/policies/user-chains.js';
import type { PowerPolicy } from '../../src/power/policy.js';
import type { AllocationOrder } from '../../src/power/powered-nodes.js';
import { DEFAULT_POWER_MODEL, type NodePowerModel, type StateSeconds } from '../../src/power/watts.js';
import type { Arm, TrialTiming } from './arms.js';
import { onlineTrialForecast, type TrialForecast } from './forecast.js';
import type { TrialStream } from './stream.js';

export interface TwinResult {
  seconds: StateSeconds;
  /** Boot wait per job that started in the window (trace s). */
  waits: number[];
  boots: number;
  shutdowns: number;
}

/** The node power model of a trial: the replay's watts, the trial's boot and shutdown lengths. */
export function trialModel(t: TrialTiming): NodePowerModel {
  return { ...DEFAULT_POWER_MODEL, bootS: t.bootDelayS * t.scale, shutdownS: t.suspendTimeoutS * t.scale };
}

/** The test Slurm's SuspendRate and ResumeRate (scripts/services/slurm.sh). */
export const TRIAL_RATES = { suspendRate: 60, resumeRate: 300 };

export async function runTwin(
  stream: TrialStream,
  arm: Arm,
  t: TrialTiming,
  o: { nodes: number; order: AllocationOrder; predictive?: { tf: TrialForecast; power: PowerConfig } },
): Promise<TwinResult | null> {
  if (arm.controller) return null;
  const model = trialModel(t);
  let policy: PowerPolicy;
  let minuteHook: ((s: PowerSim, t: number) => void | Promise<void>) | undefined;
  if (arm.predictive) {
    if (!o.predictive) throw new Error('predictive twin: no trial forecast');
    const { tf, power } = o.predictive;
    const { live, features, forecast } = onlineTrialForecast(tf);
    const p = power.Predictive;
    policy = predictivePolicy(
      forecast,
      model,
      power.WarmPoolMargin,
      p.IntervalSeconds,
      p.MinIdleSeconds,
      bootSlackS(o.nodes, TRIAL_RATES.resumeRate),
      chainsFromConfig(p),
    );
    // rows from the slice's start (`from` below), right after the history's last
    minuteHook = (s, m) => {
      live.write(s, m);
      features.update();
      return forecast.update();
    };
  } else if (arm.suspendTimeS === null) {
    policy = new AlwaysOn();
  } else {
    policy = new Reactive({
      SuspendTime: arm.suspendTimeS,
      SuspendExcNodes: arm.excNodes,
      IntervalSeconds: t.scale,
    });
  }
  const sim = await new PowerSim(stream.jobs, {
    nodes: o.nodes,
    model,
    policy,
    ...TRIAL_RATES,
    window: { start: stream.start, end: stream.end },
    // Slurm is up (every node idle) from the slice's start, before its first job
    from: stream.start,
    order: o.order,
    minuteHook,
  }).runAll();
  const waits: number[] = [];
  for (let j = 0; j < sim.n; j++) {
    if (Number.isNaN(sim.alloc[j]) || sim.alloc[j] >= stream.end || sim.run[j] >= stream.end) continue;
    waits.push(sim.run[j] - sim.alloc[j]);
  }
  return { seconds: { ...sim.seconds }, waits, boots: sim.boots, shutdowns: sim.shutdowns };
}
