/**
 * The forecast of a predictive trial arm, the same for the live controller and its twin: the replay's
 * forecaster (ridge) fitted on the trace's history before the slice (rescaled to the test cluster, scheduled
 * always-on by the replay's scheduler), its peak band calibrated on the last 20 % of that history
 * (src/power/online-forecast.ts), and a live timeline that starts with those history rows. The twin writes the
 * slice's rows from its own scheduler; the live feeder (./feeder.ts) from Slurm's queue, as `pcm collect` does.
 */

import { makeBaseline } from '../../src/model/baselines/index.js';
import type { FeatureOptions } from '../../src/model/features.js';
import type { Forecaster } from '../../src/model/forecaster.js';
import { LiveFeatures } from '../../src/model/live-features.js';
import { PowerSim } from '../../src/power/cluster.js';
import { calibratePeak, fitOnPrefix, OnlineForecast } from '../../src/power/online-forecast.js';
import type { PeakBand } from '../../src/power/peak-band.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import type { NodePowerModel } from '../../src/power/watts.js';
import type { Timeline } from '../../src/timeline/columns.js';
import { LiveTimeline } from '../../src/timeline/live-timeline.js';
import type { TrialStream } from './stream.js';

export interface TrialForecast {
  forecaster: Forecaster;
  band: PeakBand;
  /** The history's rows up to the slice's start (the forecaster's training rows). */
  history: Timeline;
  features: FeatureOptions;
  horizon: number;
  nodes: number;
}

/** Fit and calibrate on the stream's history (jobs submitted before the slice, already rescaled). */
export async function trialForecast(
  stream: TrialStream,
  o: { nodes: number; model: NodePowerModel; peakQuantile: number; horizon?: number },
): Promise<TrialForecast> {
  const hist = stream.history ?? [];
  if (hist.length === 0) throw new Error('predictive arm: the stream has no history to fit a forecaster on');
  if (stream.start % 60 !== 0)
    throw new Error(`the slice starts at ${stream.start}: expected a whole minute`);
  const horizon = o.horizon ?? 30;
  const first = Math.ceil(hist[0].submit / 60) * 60;
  const rows = Math.round((stream.start - first) / 60);
  const live0 = new LiveTimeline(first, o.nodes, o.nodes, rows + 1);
  // the history always-on: its rows up to the slice's start are what the forecaster learns from
  await new PowerSim(hist, {
    nodes: o.nodes,
    model: o.model,
    policy: new AlwaysOn(),
    // on until the slice's start even when the history's last job ends before it
    window: { start: first, end: stream.start },
    minuteHook: (s, t) => {
      if (t < stream.start) live0.write(s, t);
    },
  }).runAll();
  if (live0.minutes !== rows) throw new Error(`history: ${live0.minutes} rows written, expected ${rows}`);
  const features: FeatureOptions = { historyLead: horizon };
  const forecaster = makeBaseline('ridge');
  await fitOnPrefix(forecaster, live0, rows, horizon, features);
  const band = await calibratePeak(forecaster, live0, rows, horizon, features, o.peakQuantile);
  return { forecaster, band, history: live0.view(0, rows), features, horizon, nodes: o.nodes };
}

/**
 * A live timeline holding the history's rows, its features, and the online forecast over it: write the slice's
 * rows with `live.write` (a scheduler) or `live.append` (a queue snapshot's row), then `features.update()` and
 * `forecast.update()`.
 */
export function onlineTrialForecast(tf: TrialForecast): {
  live: LiveTimeline;
  features: LiveFeatures;
  forecast: OnlineForecast;
} {
  const h = tf.history;
  const live = new LiveTimeline(h.start, tf.nodes, tf.nodes, h.minutes + 2000);
  const features = new LiveFeatures(live, tf.features);
  for (let i = 0; i < h.minutes; i++) {
    live.append(h, i, h.start + 60 * i);
    features.update();
  }
  return { live, features, forecast: new OnlineForecast(tf.forecaster, live, features, tf.horizon, tf.band) };
}
