/**
 * Simulator validation on a real trace: replay KTH-SP2's submissions (ppn 1) on 100 nodes with FCFS +
 * EASY backfilling and compare mean utilisation and mean wait with the log's own (same jobs, same
 * definitions: utilisation = busy node-seconds / (100 x (last end - first submit)); wait = start - submit).
 * Also prints plain FCFS and both overrun modes, for context, and the scheduling time; then fits the
 * generator to the trace (`pcm simulate --calibrate`) and runs three seeds of the synthetic twin.
 *
 *   node --import tsx bench/studies/sim-replay-kth.ts KTH_SWF   (KTH-SP2-1996-2.1-cln.swf.gz from the Parallel Workloads Archive)
 *
 * Acknowledgement: KTH SP2 log from the Parallel Workloads Archive, provided by Lars Malinowsky (KTH).
 */
import { openJobSource } from '../../src/jobs/open.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { calibrate } from '../../src/sim/calibrate.js';
import { SimulatorSchema } from '../../src/sim/config.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { formatReplayReport, replayJobs } from '../../src/sim/replay.js';
import { simulateCluster } from '../../src/sim/scheduler.js';
import { archiveLog, checkTraceFile } from '../lib/traces.js';

const NODES = 100;
/** The stated tolerances (see docs/benchmarks.md, "Simulator"). */
const UTIL_TOL = 0.01; // absolute
const WAIT_FACTOR = 2.5; // simulated mean wait within [log / 2.5, log * 2.5]

async function main(): Promise<void> {
  const path = checkTraceFile(process.argv[2], archiveLog('KTH-SP2'), 'KTH_SWF', import.meta.url, 'KTH_SWF');
  const src = await openJobSource(path, { ppn: 1 });
  const recorded: JobRecord[] = [];
  for await (const j of src.jobs) recorded.push(j);
  const { jobs, report } = await replayJobs(recorded, NODES);
  process.stdout.write(`${path}\n  ${formatReplayReport(report, NODES)}\n`);
  // the log's own figures over the replayed jobs
  const kept = new Set(jobs.map((j) => j.id));
  let wait = 0;
  let busy = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let n = 0;
  const waits: number[] = [];
  for (const j of recorded) {
    if (!kept.has(j.id) || j.start === null || j.end === null || j.submit === null) continue;
    n++;
    wait += j.start - j.submit;
    waits.push(j.start - j.submit);
    busy += j.nodes * (j.end - j.start);
    first = Math.min(first, j.submit);
    last = Math.max(last, j.end);
  }
  const logUtil = busy / (NODES * (last - first));
  const logWait = wait / n;
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
  const rows: string[][] = [['run', 'util %', 'mean wait h', 'median wait s', 'backfilled', 'schedule ms']];
  rows.push([
    'log (recorded)',
    (100 * logUtil).toFixed(2),
    (logWait / 3600).toFixed(3),
    String(median(waits)),
    '-',
    '-',
  ]);
  let easy = { util: 0, wait: 0 };
  for (const [name, overrun, backfill] of [
    ['EASY, honour overruns', 'honour', true],
    ['EASY, kill at limit', 'kill', true],
    ['FCFS, honour overruns', 'honour', false],
  ] as const) {
    const t0 = performance.now();
    const sim = simulateCluster(jobs, { nodes: NODES, overrun, backfill });
    const ms = performance.now() - t0;
    const st = sim.stats();
    const w: number[] = [];
    for (let i = 0; i < sim.n; i++) w.push(sim.start[i] - sim.submit[i]);
    if (name === 'EASY, honour overruns') easy = { util: st.utilisation, wait: st.meanWait };
    rows.push([
      name,
      (100 * st.utilisation).toFixed(2),
      (st.meanWait / 3600).toFixed(3),
      String(median(w)),
      String(st.backfilled),
      ms.toFixed(0),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) process.stdout.write(`  ${r.map((x, c) => x.padEnd(widths[c])).join('  ')}\n`);
  const utilOk = Math.abs(easy.util - logUtil) <= UTIL_TOL;
  const ratio = easy.wait / logWait;
  const waitOk = ratio >= 1 / WAIT_FACTOR && ratio <= WAIT_FACTOR;
  process.stdout.write(
    `  EASY (honour) vs log: utilisation ${(100 * (easy.util - logUtil)).toFixed(2)} points (tolerance +-${100 * UTIL_TOL}) ${utilOk ? 'ok' : 'OUT'}; ` +
      `mean wait x${ratio.toFixed(2)} (tolerance x1/${WAIT_FACTOR}..x${WAIT_FACTOR}) ${waitOk ? 'ok' : 'OUT'}\n`,
  );
  // the synthetic twin: calibrate, generate, schedule
  const cal = await calibrate(recorded, src.meta, { nodes: NODES });
  const twinSection = SimulatorSchema.parse(cal.simulator);
  process.stdout.write(
    `  synthetic twin (fitted Simulator section, overrun kill), vs the trace's ${n} jobs, load ${(100 * cal.summary.load).toFixed(1)} %:\n`,
  );
  for (const seed of [1, 2, 3]) {
    const setup = resolveSimulator(twinSection, { Nodes: NODES, CpusPerNode: 1, TimeZone: 'UTC' }, { seed });
    const w = generateWorkload(setup);
    const sim = simulateCluster(w.jobs, { nodes: NODES, overrun: 'kill' });
    const st = sim.stats();
    process.stdout.write(
      `    seed ${seed}: ${w.jobs.length} jobs, utilisation ${(100 * st.utilisation).toFixed(2)} %, mean wait ${(st.meanWait / 3600).toFixed(3)} h\n`,
    );
  }
  if (!utilOk || !waitOk) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
