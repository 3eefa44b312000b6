import { UserError } from '../../util/errors.js';
import { DAY_MINUTES, WEEK_MINUTES } from '../features.js';
import type { Forecaster } from '../forecaster.js';
import { Persistence } from './persistence.js';
import { Ridge, type RidgeOptions } from './ridge.js';
import { SeasonalNaive } from './seasonal-naive.js';

/**
 * The baselines by name, the one name -> constructor list: the evaluator, the power command and the service
 * make baselines by name from it (through openForecaster in ../open.ts). Each call gives a fresh, unfitted
 * forecaster whose `name` is its key here.
 */
const BASELINES = {
  persistence: () => new Persistence(),
  seasonal_day: () => new SeasonalNaive(DAY_MINUTES),
  seasonal_week: () => new SeasonalNaive(WEEK_MINUTES),
  ridge: (ridge?: RidgeOptions) => new Ridge(ridge),
} satisfies Record<string, (ridge?: RidgeOptions) => Forecaster>;

export type BaselineName = keyof typeof BASELINES;

/** The baseline names in report order. */
export const BASELINE_NAMES = Object.keys(BASELINES) as BaselineName[];

/** A fresh baseline; `ridge` options apply to the ridge only. */
export function makeBaseline(name: BaselineName, ridge?: RidgeOptions): Forecaster {
  return BASELINES[name](ridge);
}

/** `name` as a baseline name, or a UserError naming `what` (e.g. an option) and the names expected. */
export function baselineName(name: string, what: string): BaselineName {
  if (!Object.hasOwn(BASELINES, name))
    throw new UserError(`${what}: expected one of ${BASELINE_NAMES.join(', ')}, got '${name}'`);
  return name as BaselineName;
}
