import type { Config } from '../config/schema.js';
import { generateWorkload, resolveSimulator } from '../sim/generate.js';
import { simulateCluster } from '../sim/scheduler.js';
import { buildTimeline } from '../timeline/build.js';
import type { Timeline } from '../timeline/columns.js';

/**
 * A simulated minute timeline (benchmarks, demos): the configured simulator (Simulator and Cluster sections)
 * generates `days` of workload, the EASY scheduler runs it, and the finished jobs become a minute timeline
 * that the replay feed can play into the embedded store. (`pcm serve` without InfluxDB and --timeline runs
 * the simulator's live mode instead.)
 */
export function demoTimeline(cfg: Config, days = 14, seed?: number): Timeline {
  const setup = resolveSimulator(cfg.Simulator, cfg.Cluster, { days, seed });
  const w = generateWorkload(setup);
  const sim = simulateCluster(w.jobs, {
    nodes: setup.nodes,
    overrun: cfg.Simulator.Overrun,
    backfill: true,
  });
  return buildTimeline(sim.records(), {
    capacity: setup.nodes,
    cpusPerNode: cfg.Cluster.CpusPerNode,
    start: w.start,
    end: w.end,
  });
}
