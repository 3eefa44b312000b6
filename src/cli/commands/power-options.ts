import { BASELINE_NAMES } from '../../model/baselines/index.js';
import { configOption, enumOption, numberOption } from '../options.js';

/** Options `pcm power replay` and `pcm power plan` share: one definition each. */

export const nodesOption = (what: string) => configOption('--nodes <n>', what, 'Cluster.Nodes');

export const ppnOption = () =>
  configOption('--ppn <p>', 'processors per node, SWF processors -> nodes', 'Cluster.CpusPerNode');

export const forecasterOption = () =>
  enumOption(
    '--forecaster <name>',
    `forecaster of the predictive policy: ${BASELINE_NAMES.join(', ')}`,
    BASELINE_NAMES,
    'ridge',
  );

export const trainFractionOption = (what: string) =>
  numberOption('--train-fraction <f>', what, { exclusiveMinimum: 0, exclusiveMaximum: 1 }, 0.2);
