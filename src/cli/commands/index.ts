import type { Command } from 'commander';
import { register as config } from './config.js';

/** Every sub-command, in the order `pcm --help` lists them. */
export const commands: Array<(program: Command) => void> = [config];
