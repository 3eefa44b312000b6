/**
 * The digital twin of a live trial arm: the same (unscaled) job stream through the replay's power-aware
 * scheduler (../../src/power/cluster.ts) with the arm's settings in trace seconds: boots of
 * bootDelay x scale, shutdowns of SuspendTimeout x scale, decisions every power_save_interval (1 s) x scale.
 */
import { PowerSim } from '../../src/power/cluster.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { Reactive } from '../../src/power/policies/reactive.js';
import type { AllocationOrder } from '../../src/power/powered-nodes.js';
import { DEFAULT_POWER_MODEL, type NodePowerModel, type StateSeconds } from '../../src/power/watts.js';
import type { Arm, TrialTiming } from './arms.js';
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

export async function runTwin(
  stream: TrialStream,
  arm: Arm,
  t: TrialTiming,
  o: { nodes: number; order: AllocationOrder },
): Promise<TwinResult | null> {
  if (arm.controller) return null;
  const policy =
    arm.suspendTimeS === null
      ? new AlwaysOn()
      : new Reactive({
          SuspendTime: arm.suspendTimeS,
          SuspendExcNodes: arm.excNodes,
          IntervalSeconds: t.scale,
        });
  const sim = await new PowerSim(stream.jobs, {
    nodes: o.nodes,
    model: trialModel(t),
    policy,
    window: { start: stream.start, end: stream.end },
    order: o.order,
  }).runAll();
  const waits: number[] = [];
  for (let j = 0; j < sim.n; j++) {
    if (Number.isNaN(sim.alloc[j]) || sim.alloc[j] >= stream.end || sim.run[j] >= stream.end) continue;
    waits.push(sim.run[j] - sim.alloc[j]);
  }
  return { seconds: { ...sim.seconds }, waits, boots: sim.boots, shutdowns: sim.shutdowns };
}
