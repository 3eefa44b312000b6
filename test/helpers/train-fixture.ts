import type { NeuralConfig } from '../../src/model/neural.js';
import type { Timeline } from '../../src/timeline/columns.js';
import { ModelSchema, type ModelSection, TrainSchema, type TrainSection } from '../../src/train/config.js';
import { rng, syntheticTimeline } from './model-synthetic.js';

/**
 * A small learnable timeline for the trainer tests: jobs of random size start at random minutes and run a
 * known time; the queue and ending_*_nodes columns tell what comes, as a scheduler would.
 */
export function tinyTimeline(minutes = 4000, seed = 3): Timeline {
  const r = rng(seed);
  const cap = 40;
  const busy = new Float64Array(minutes);
  const ending10 = new Float64Array(minutes);
  const ending30 = new Float64Array(minutes);
  const running: Array<{ end: number; n: number }> = [];
  let used = 0;
  for (let t = 0; t < minutes; t++) {
    for (let i = running.length - 1; i >= 0; i--)
      if (running[i].end <= t) {
        used -= running[i].n;
        running.splice(i, 1);
      }
    if (r() < 0.08) {
      const n = 1 + Math.floor(r() * 8);
      if (used + n <= cap) {
        running.push({ end: t + 10 + Math.floor(r() * 60), n });
        used += n;
      }
    }
    busy[t] = used;
    for (const j of running) {
      if (j.end - t <= 10) ending10[t] += j.n;
      if (j.end - t <= 30) ending30[t] += j.n;
    }
  }
  return syntheticTimeline({
    minutes,
    capacity: cap,
    busy,
    columns: { ending_10m_nodes: (t) => ending10[t], ending_30m_nodes: (t) => ending30[t] },
  });
}

export function tinyModel(over: Partial<ModelSection> = {}): ModelSection {
  return ModelSchema.parse({
    LookbackMinutes: 20,
    ResolutionMinutes: 2,
    Hidden: 4,
    Layers: 1,
    Heads: 2,
    HeadHidden: 8,
    Dropout: 0.1,
    Horizon: 5,
    ...over,
  });
}

export function tinyTrain(over: Partial<TrainSection> = {}): TrainSection {
  return TrainSchema.parse({
    Epochs: 6,
    BatchSize: 16,
    SamplesPerEpoch: 64,
    ValidSamples: 128,
    LearningRate: 3e-3,
    WarmupEpochs: 1,
    Threads: 1,
    EarlyStopPatience: 100,
    HuberDeltaNodes: 1,
    SelectBy: 'loss',
    ...over,
  });
}

/** A tiny neural config for model and checkpoint tests on tinyTimeline data (20-minute lookback, 4-minute steps). */
export function tinyNeuralConfig(features: number, over: Partial<NeuralConfig> = {}): NeuralConfig {
  return {
    lookback: 20,
    resolution: 4,
    features,
    hidden: 8,
    layers: 2,
    heads: 4,
    headHidden: 7,
    dropout: 0.2,
    horizon: 5,
    ...over,
  };
}
