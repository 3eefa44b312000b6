import { UserError } from '../util/errors.js';
import { type BaselineName, makeBaseline } from './baselines/index.js';
import type { RidgeOptions } from './baselines/ridge.js';
import { loadNeural } from './checkpoint.js';
import { FEATURE_NAMES } from './features.js';
import type { Forecaster } from './forecaster.js';

/**
 * What to forecast with: a baseline by name (fresh: fit() it before predict()) or a trained model
 * directory written by `pcm train` (fitted already).
 */
export type ForecasterSpec = { baseline: BaselineName; ridge?: RidgeOptions } | { dir: string };

/** The one way the evaluator, the power replay and the service get a forecaster. */
export function openForecaster(spec: ForecasterSpec): Forecaster {
  if ('baseline' in spec) return makeBaseline(spec.baseline, spec.ridge);
  const f = loadNeural(spec.dir);
  if (f.window.featureSpec.names.join(',') !== FEATURE_NAMES.join(','))
    throw new UserError(
      `model ${spec.dir}: trained on features this build does not make; retrain with this pcm`,
    );
  return f;
}
