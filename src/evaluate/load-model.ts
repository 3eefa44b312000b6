import type { Forecaster } from '../model/baselines.js';
import { UserError } from '../util/errors.js';

/**
 * Extension point for trained models: `loadModelForecaster(dir)` from src/model/checkpoint.ts (written by the
 * neural-model work) turns a model directory into a fitted `Forecaster`. It is looked up at run time so the
 * evaluator builds and runs (baselines only) before that module exists; the evaluator itself takes the
 * forecaster as a parameter and never depends on this file.
 */
export type ModelLoader = (dir: string) => Promise<Forecaster>;

const CHECKPOINT_MODULE = '../model/checkpoint.js';

export async function loadModelForecaster(dir: string): Promise<Forecaster> {
  let mod: { loadModelForecaster?: ModelLoader };
  try {
    mod = (await import(CHECKPOINT_MODULE)) as { loadModelForecaster?: ModelLoader };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('checkpoint')) {
      throw new UserError(
        `--model ${dir}: this build cannot load trained models yet; run without --model to evaluate the baselines`,
      );
    }
    throw e;
  }
  if (typeof mod.loadModelForecaster !== 'function') {
    throw new UserError(`--model ${dir}: this build cannot load trained models yet (no loadModelForecaster)`);
  }
  return mod.loadModelForecaster(dir);
}
