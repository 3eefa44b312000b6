import type { Command } from 'commander';
import { register as collect } from './collect.js';
import { register as config } from './config.js';
import { register as demo } from './demo.js';
import { register as evaluate } from './evaluate.js';
import { register as extract } from './extract.js';
import { register as power } from './power.js';
import { register as serve } from './serve.js';
import { register as simulate } from './simulate/index.js';
import { register as timeline } from './timeline.js';
import { register as train } from './train.js';

/** Every sub-command, in the order `pcm --help` lists them: the data flow, then the tools around it. */
export const commands: Array<(program: Command) => void> = [
  demo,
  extract,
  timeline,
  simulate,
  train,
  evaluate,
  collect,
  serve,
  power,
  config,
];
