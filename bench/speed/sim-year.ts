/**
 * Simulator speed: one simulated year on a 128-node cluster with the default workload (~100k jobs):
 * generation and FCFS+EASY scheduling timed separately, best and median of R repeats.
 *
 *   node --import tsx bench/speed/sim-year.ts [--repeats 5] [--nodes 128] [--days 365]
 *
 * Timings on the shared 2-core dev box are noisy; repeat before quoting them.
 */
import { parseConfig } from '../../src/config/load.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { simulateCluster } from '../../src/sim/scheduler.js';
import { numArg } from '../lib/args.js';

const repeats = numArg('repeats', 5);
const nodes = numArg('nodes', 128);
const days = numArg('days', 365);
const cfg = parseConfig('');
const gen: number[] = [];
const sim: number[] = [];
let summary = '';
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  const setup = resolveSimulator(cfg.Simulator, cfg.Cluster, { nodes, days });
  const w = generateWorkload(setup);
  const t1 = performance.now();
  const s = simulateCluster(w.jobs, { nodes, overrun: 'kill' });
  const t2 = performance.now();
  gen.push(t1 - t0);
  sim.push(t2 - t1);
  const st = s.stats();
  summary =
    `${w.jobs.length} jobs, ${st.backfilled} backfilled, ${st.killed} killed at limit, ` +
    `mean wait ${(st.meanWait / 3600).toFixed(2)} h, utilisation ${(100 * st.utilisation).toFixed(1)} %`;
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
const fmt = (x: number[]) =>
  `best ${(Math.min(...x) / 1000).toFixed(3)} s, median ${(med(x) / 1000).toFixed(3)} s`;
process.stdout.write(
  `sim-year: ${days} days, ${nodes} nodes, default Simulator config, seed 1; ${repeats} repeats\n`,
);
process.stdout.write(`  workload: ${summary}\n`);
process.stdout.write(`  generate: ${fmt(gen)}\n  schedule: ${fmt(sim)}\n`);
process.stdout.write(`  total:    ${fmt(gen.map((g, i) => g + sim[i]))}\n`);
