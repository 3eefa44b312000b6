/**
 * A live power trial: every arm on the test Slurm, one at a time, then its digital twin (the replay of the
 * same stream in trace time, in both allocation orders), and the figures side by side: energy saved against
 * the always-on arm (points), mean boot wait (trace s), jobs delayed by a boot. The test Slurm is restarted
 * with its defaults at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { PowerConfig } from '../../src/power/config.js';
import type { AllocationOrder } from '../../src/power/powered-nodes.js';
import { energyJ, J_PER_KWH } from '../../src/power/watts.js';
import type { Arm, TrialTiming } from './arms.js';
import { type TrialForecast, trialForecast } from './forecast.js';
import { waitSummary } from './measure.js';
import type { LiveArmResult } from './run-live.js';
import { runLiveArm, trialRunConfig } from './run-live.js';
import { restartSlurm } from './slurm-restart.js';
import type { TrialStream } from './stream.js';
import { runTwin, trialModel } from './twin.js';

export interface Figures {
  energy_kwh: number;
  saved_pct: number | null;
  mean_boot_wait_s: number;
  jobs_delayed: number;
  jobs_started: number;
  boots: number;
}

export interface ArmReport {
  arm: string;
  live: Figures & {
    /** Mean boot wait with Slurm's unscaled launch lag scaled too (allocation to script start, x scale). */
    mean_raw_boot_wait_s: number;
    submitted: number;
    unstarted: number;
    max_submit_lag_s: number;
    /** Trace node-seconds held past the jobs' own end by Slurm's unscalable CONFIGURING check (run-live.ts). */
    held_node_s: number;
    /** The saving with that hold taken out: the held node-seconds drawn idle instead of busy .. off instead of busy. */
    saved_pct_held_out: [number, number] | null;
    controller?: LiveArmResult['controller'];
  };
  twin: Partial<Record<AllocationOrder, Figures>>;
}

const ORDERS: readonly AllocationOrder[] = ['slurm', 'recent'];

function figures(
  kwh: number,
  base: number | null,
  waits: number[],
  delayedS: number,
  boots: number,
): Figures {
  const s = waitSummary(waits, delayedS);
  return {
    energy_kwh: kwh,
    saved_pct: base === null ? null : (100 * (base - kwh)) / base,
    mean_boot_wait_s: s.mean,
    jobs_delayed: s.delayed,
    jobs_started: waits.length,
    boots,
  };
}

/** A predictive arm's pieces: the controller's config file and state directory, and what both sides read. */
export interface TrialPredictive {
  tf: TrialForecast;
  power: PowerConfig;
  config: string;
  stateDir: string;
}

/**
 * The controller's config (in `dir`: the trial's boot and shutdown, state under it) as loaded, and the
 * forecaster fitted on the stream's history at its PeakQuantile: the live arm and its twin read the same.
 */
export async function trialPredictive(
  stream: TrialStream,
  t: TrialTiming,
  nodes: number,
  dir: string,
): Promise<TrialPredictive> {
  const stateDir = join(dir, 'state');
  const config = join(dir, 'pcm.yaml');
  writeFileSync(config, trialRunConfig(t, stateDir));
  const power = loadConfig(config).Power;
  const tf = await trialForecast(stream, {
    nodes,
    model: trialModel(t),
    peakQuantile: power.Predictive.PeakQuantile,
  });
  return { tf, power, config, stateDir };
}

export async function runTrial(
  stream: TrialStream,
  arms: readonly Arm[],
  t: TrialTiming,
  o: { nodes: number; sampleS: number; log?: (s: string) => void },
): Promise<ArmReport[]> {
  const model = trialModel(t);
  // a job counts as delayed when it waited for more than half a boot
  const delayedS = model.bootS / 2;
  const kwh = (s: Parameters<typeof energyJ>[1]) => energyJ(model, s) / J_PER_KWH;
  const out: ArmReport[] = [];
  const twinBase: Partial<Record<AllocationOrder, number>> = {};
  let predictive: TrialPredictive | undefined;
  const work = mkdtempSync(join(tmpdir(), 'pcm-trial-run-'));
  if (arms.some((a) => a.predictive)) {
    o.log?.('predictive arm: fitting the forecaster on the history');
    predictive = await trialPredictive(stream, t, o.nodes, work);
  }
  for (const order of ORDERS) {
    const r = await runTwin(stream, { name: 'always_on', suspendTimeS: null, excNodes: 0 }, t, {
      nodes: o.nodes,
      order,
    });
    if (r) twinBase[order] = kwh(r.seconds);
  }
  try {
    for (const arm of arms) {
      o.log?.(`arm ${arm.name}: starting`);
      const live = await runLiveArm(stream, arm, t, { ...o, predictive });
      const e = kwh(live.seconds);
      const lw = live.waits.map((w) => w.waitS);
      const report: ArmReport = {
        arm: arm.name,
        live: {
          ...figures(e, null, lw, delayedS, live.boots),
          mean_raw_boot_wait_s: waitSummary(
            live.waits.map((w) => w.rawS),
            delayedS,
          ).mean,
          submitted: live.submitted,
          unstarted: live.unstarted,
          max_submit_lag_s: live.maxSubmitLagS,
          held_node_s: live.heldNodeS,
          saved_pct_held_out: null,
          controller: live.controller,
        },
        twin: {},
      };
      for (const order of ORDERS) {
        const r = await runTwin(stream, arm, t, { nodes: o.nodes, order, predictive });
        if (!r) continue;
        const base = arm.name === 'always_on' ? null : (twinBase[order] ?? null);
        report.twin[order] = figures(kwh(r.seconds), base, r.waits, delayedS, r.boots);
      }
      out.push(report);
      o.log?.(`arm ${arm.name}: ${JSON.stringify(report)}`);
    }
  } finally {
    restartSlurm({});
    rmSync(work, { recursive: true, force: true });
  }
  // live savings against the live always-on arm, whichever order the arms ran in
  const base = out.find((r) => r.arm === 'always_on')?.live.energy_kwh ?? null;
  const pct = (e: number) => (base === null ? 0 : (100 * (base - e)) / base);
  for (const r of out) {
    if (r.arm === 'always_on' || base === null) continue;
    r.live.saved_pct = pct(r.live.energy_kwh);
    const kwhOf = (w: number) => (r.live.held_node_s * w) / J_PER_KWH;
    r.live.saved_pct_held_out = [
      pct(r.live.energy_kwh - kwhOf(model.busyW - model.idleW)),
      pct(r.live.energy_kwh - kwhOf(model.busyW - model.offW)),
    ];
  }
  return out;
}
