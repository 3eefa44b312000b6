/**
 * Calibration fidelity: fit the generator to KTH-SP2 (`pcm simulate --calibrate`), generate synthetic
 * twins (10 seeds, overrun kill, 100 nodes, the trace's span) and compare with the trace: utilisation
 * (busy node-seconds / (100 x span), scheduled FCFS + EASY) and the size / run-time histograms (share of
 * jobs and of node-seconds per band). Does the same for the log-normal-only fit (`quantiles: 0`, the
 * model before empirical distributions) for comparison, and the trace's own sampling noise (its jobs
 * resampled). Exit code 1 when the mean of the empirical fit's twins is more than 3 points from the trace's load.
 *
 *   node --import tsx bench/studies/sim-twin-kth.ts KTH_SWF   (KTH-SP2-1996-2.1-cln.swf.gz from the Parallel Workloads Archive)
 *
 * Acknowledgement: KTH SP2 log from the Parallel Workloads Archive, provided by Lars Malinowsky (KTH).
 */
import { openJobSource } from '../../src/jobs/open.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { calibrate } from '../../src/sim/calibrate.js';
import { SimulatorSchema } from '../../src/sim/config.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { simulateCluster } from '../../src/sim/scheduler.js';
import { Rng } from '../../src/util/rng.js';
import { archiveLog, checkTraceFile } from '../lib/traces.js';

const NODES = 100;
const TOL = 0.03;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const RT_EDGES = [60, 600, 3600, 14_400, 43_200]; // run-time bands: <1 min, 1-10 min, 10-60 min, 1-4 h, 4-12 h, >= 12 h
const RT_NAMES = ['<1m', '1-10m', '10-60m', '1-4h', '4-12h', '>=12h'];

interface J {
  nodes: number;
  runtime: number;
}

function hist(jobs: J[]): { size: number[][]; rt: number[][] } {
  const size = Array.from({ length: 8 }, () => [0, 0]);
  const rt = RT_NAMES.map(() => [0, 0]);
  let n = 0;
  let w = 0;
  for (const j of jobs) {
    const b = Math.min(7, Math.floor(Math.log2(j.nodes)));
    let r = 0;
    while (r < RT_EDGES.length && j.runtime >= RT_EDGES[r]) r++;
    size[b][0]++;
    size[b][1] += j.nodes * j.runtime;
    rt[r][0]++;
    rt[r][1] += j.nodes * j.runtime;
    n++;
    w += j.nodes * j.runtime;
  }
  for (const h of [size, rt])
    for (const x of h) {
      x[0] /= n;
      x[1] /= w;
    }
  return { size, rt };
}

const pct = (x: number) => (100 * x).toFixed(1).padStart(5);

async function main(): Promise<void> {
  const path = checkTraceFile(process.argv[2], archiveLog('KTH-SP2'), 'KTH_SWF', import.meta.url, 'KTH_SWF');
  const src = await openJobSource(path, { ppn: 1 });
  const recorded: JobRecord[] = [];
  for await (const j of src.jobs) recorded.push(j);
  const traceJobs: J[] = recorded
    .filter((j) => j.start !== null && j.end !== null && j.nodes >= 1)
    .map((j) => ({ nodes: j.nodes, runtime: (j.end as number) - (j.start as number) }));
  const th = hist(traceJobs);
  let out = 0;
  let outSeeds = 0;
  // the trace's own sampling noise: its jobs resampled with replacement (200 times), load over its span
  {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const j of recorded) {
      if (j.start === null || j.end === null || j.nodes < 1) continue;
      first = Math.min(first, j.submit ?? j.start);
      last = Math.max(last, j.end);
    }
    const work = traceJobs.map((j) => j.nodes * j.runtime);
    const rng = new Rng(1);
    const loads: number[] = [];
    for (let b = 0; b < 200; b++) {
      let s = 0;
      for (let i = 0; i < work.length; i++) s += work[Math.floor(rng.uniform() * work.length)];
      loads.push(s / (NODES * (last - first)));
    }
    const m = loads.reduce((a, x) => a + x, 0) / loads.length;
    const sd = Math.sqrt(loads.reduce((a, x) => a + (x - m) ** 2, 0) / (loads.length - 1));
    process.stdout.write(
      `trace's own jobs resampled (bootstrap, 200x): load mean ${pct(m)} %, sd ${(100 * sd).toFixed(2)} points (the noise any one twin has)\n`,
    );
  }
  for (const [name, quantiles] of [
    ['empirical (default)', undefined],
    ['log-normal only (quantiles: 0)', 0],
  ] as const) {
    const t0 = performance.now();
    const cal = await calibrate(recorded, src.meta, { nodes: NODES, quantiles });
    const ms = performance.now() - t0;
    const section = SimulatorSchema.parse(cal.simulator);
    const jsonChars = JSON.stringify(cal.simulator).length;
    process.stdout.write(
      `${name}: fitted in ${ms.toFixed(0)} ms, Simulator section ${jsonChars} chars as JSON; trace ${traceJobs.length} jobs, load ${pct(cal.summary.load)} %\n`,
    );
    const utils: number[] = [];
    let first: J[] = [];
    for (const seed of SEEDS) {
      const setup = resolveSimulator(section, { Nodes: NODES, CpusPerNode: 1, TimeZone: 'UTC' }, { seed });
      const w = generateWorkload(setup);
      const sim = simulateCluster(w.jobs, { nodes: NODES, overrun: 'kill' });
      const st = sim.stats();
      utils.push(st.utilisation);
      if (seed === SEEDS[0])
        first = w.jobs.map((j) => ({ nodes: j.nodes, runtime: Math.min(j.runtime, j.limit) }));
      const d = st.utilisation - cal.summary.load;
      if (quantiles === undefined && Math.abs(d) > TOL) outSeeds++;
      process.stdout.write(
        `  seed ${String(seed).padStart(2)}: ${w.jobs.length} jobs, utilisation ${pct(st.utilisation)} % (${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}), mean wait ${(st.meanWait / 3600).toFixed(2)} h\n`,
      );
    }
    const mean = utils.reduce((a, b) => a + b, 0) / utils.length;
    if (quantiles === undefined && Math.abs(mean - cal.summary.load) > TOL) out++;
    const sd = Math.sqrt(utils.reduce((a, b) => a + (b - mean) ** 2, 0) / (utils.length - 1));
    process.stdout.write(
      `  mean ${pct(mean)} %, sd ${(100 * sd).toFixed(1)} points, range ${pct(Math.min(...utils))} .. ${pct(Math.max(...utils))} %\n`,
    );
    const h = hist(first);
    process.stdout.write('  histograms, trace vs twin seed 1: % of jobs | % of node-seconds\n');
    for (let b = 0; b < 8; b++) {
      if (th.size[b][0] === 0 && h.size[b][0] === 0) continue;
      const lo = 2 ** b;
      process.stdout.write(
        `    nodes ${`${lo}-${2 * lo - 1}`.padEnd(7)} ${pct(th.size[b][0])} vs ${pct(h.size[b][0])} | ${pct(th.size[b][1])} vs ${pct(h.size[b][1])}\n`,
      );
    }
    RT_NAMES.forEach((rn, r) => {
      process.stdout.write(
        `    run ${rn.padEnd(9)} ${pct(th.rt[r][0])} vs ${pct(h.rt[r][0])} | ${pct(th.rt[r][1])} vs ${pct(h.rt[r][1])}\n`,
      );
    });
  }
  process.stdout.write(
    `empirical fit: mean of ${SEEDS.length} twins ${out ? 'beyond' : 'within'} +-${100 * TOL} points of the trace's load: ${out ? 'OUT' : 'ok'}; ` +
      `${SEEDS.length - outSeeds} of ${SEEDS.length} single twins within it\n`,
  );
  if (out) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
