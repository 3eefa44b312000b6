import type { Overrun } from '../../../sim/scheduler.js';

/** The options of `pcm simulate`, as the three modes (schedule, calibrate, live) read them. */
export interface SimulateOptions {
  config?: string;
  nodes?: number;
  days?: number;
  start?: string;
  seed?: number;
  outSwf?: string;
  outJobs?: string;
  outTimeline?: string;
  json?: boolean;
  calibrate?: string;
  replay?: string;
  ppn?: number;
  out?: string;
  overrun?: Overrun;
  backfill: boolean;
  outSlurmdb?: string;
  cluster?: string;
  nodeNames?: string;
  replace?: boolean;
  partition?: string;
  memPerNode?: number;
  live?: boolean;
  speed?: number;
  preroll?: number;
  origin?: number;
  influx?: string;
}
