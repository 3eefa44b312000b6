/**
 * The real-trace check: builds the minute timeline of each Parallel Workloads Archive trace and compares
 * the unclipped mean busy nodes with the replay figures noted beside our copies of the logs (SOURCES.md, not in
 * this repository; the figures are in REPLAY below).
 *   node --import tsx bench/studies/trace-summary.ts TRACE_DIR [--json]
 * TRACE_DIR holds the eight Parallel Workloads Archive logs of ARCHIVE_LOGS (bench/lib/traces.ts).
 * The replay counted jobs with run time > 0 on ceil(procs / ppn) nodes (requested procs when allocated
 * is -1), which is what the SWF reader + builder do (run time 0 -> end = start -> holds no nodes), so the
 * like-for-like figure is our unclipped mean (busy + overshoot). The replay's span starts at the first job
 * START, ours (the builder's default) at the first event (a submit), which matters for CTC-SP2 whose first
 * job waited 3.7 days; so the table gives the unclipped mean over both spans and compares the replay with
 * the one over its own span (first start .. last end). Exact-node traces must agree within 2 %.
 */
import { join } from 'node:path';
import { openSwf } from '../../src/jobs/swf.js';
import { TimelineBuilder } from '../../src/timeline/build.js';
import { summarizeTimeline, type TimelineSummary } from '../../src/timeline/summary.js';
import { positionals } from '../lib/args.js';
import { ARCHIVE_LOGS, type ArchiveLog, checkTraceDir } from '../lib/traces.js';

/** The replay's figures per log: mean busy nodes (first start .. last end) and % of minutes over capacity. */
const REPLAY: Record<string, { replayMean: number; replayOverPct: number }> = {
  'KTH-SP2': { replayMean: 70.1, replayOverPct: 0.07 },
  'SDSC-SP2': { replayMean: 106.7, replayOverPct: 1.4 },
  'CTC-SP2': { replayMean: 287.5, replayOverPct: 1.2 },
  'LLNL-Atlas': { replayMean: 811.6, replayOverPct: 0.2 },
  'LLNL-Thunder': { replayMean: 866.6, replayOverPct: 0.3 },
  'CEA-Curie': { replayMean: 3628.8, replayOverPct: 4.0 },
  HPC2N: { replayMean: 80.4, replayOverPct: 5.3 },
  RICC: { replayMean: 1173.1, replayOverPct: 68 },
};
/** Logs whose jobs hold whole nodes: these must agree with the replay within 2 %. */
const EXACT_NODES = new Set(['KTH-SP2', 'SDSC-SP2', 'CTC-SP2', 'LLNL-Atlas', 'LLNL-Thunder']);

type Trace = ArchiveLog & { replayMean: number; replayOverPct: number; exactNodes: boolean };
const TRACES: Trace[] = ARCHIVE_LOGS.map((l) => ({
  ...l,
  ...REPLAY[l.name],
  exactNodes: EXACT_NODES.has(l.name),
}));

const json = process.argv.includes('--json');
const dir = checkTraceDir(positionals()[0], TRACES, import.meta.url, 'TRACE_DIR [--json]');

const rows: Array<{
  trace: Trace;
  s: TimelineSummary;
  replaySpanMean: number;
  seconds: number;
  diffPct: number;
}> = [];
let failed = 0;
for (const trace of TRACES) {
  const t0 = performance.now();
  const src = await openSwf(join(dir, trace.file), { ppn: trace.ppn });
  const b = new TimelineBuilder({ capacity: trace.capacity, cpusPerNode: trace.ppn });
  let firstStart = Number.POSITIVE_INFINITY;
  for await (const j of src.jobs) {
    b.add(j);
    if (j.start !== null && j.end !== null && j.end > j.start && j.nodes > 0 && j.start < firstStart)
      firstStart = j.start;
  }
  const tl = b.finish();
  const s = summarizeTimeline(tl, { stats: b.stats, report: src.report });
  const seconds = (performance.now() - t0) / 1000;
  // unclipped mean over the replay's span: rows from the first start on
  const from = Math.max(0, Math.ceil((firstStart - tl.start) / 60));
  let raw = 0;
  for (let i = from; i < tl.minutes; i++) raw += tl.columns.busy_nodes[i] + tl.columns.overshoot_nodes[i];
  const replaySpanMean = raw / (tl.minutes - from);
  const diffPct = (100 * (replaySpanMean - trace.replayMean)) / trace.replayMean;
  if (trace.exactNodes && Math.abs(diffPct) > 2) failed++;
  rows.push({ trace, s, replaySpanMean, seconds, diffPct });
}

if (json) {
  process.stdout.write(
    `${JSON.stringify(
      rows.map(({ trace, s, replaySpanMean, seconds, diffPct }) => ({
        trace: trace.name,
        ppn: trace.ppn,
        replayMean: trace.replayMean,
        replaySpanMean,
        diffPct,
        seconds,
        summary: s,
      })),
      null,
      2,
    )}\n`,
  );
} else {
  const head =
    '| trace | ppn | capacity | minutes | mean busy (clipped) | mean unclipped | mean unclipped from first start | replay mean | diff | max raw | overshoot minutes (ours / replay) | skipped lines | time |';
  console.log(head);
  console.log(
    `|${head
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
  );
  for (const { trace, s, replaySpanMean, seconds, diffPct } of rows) {
    const mark = trace.exactNodes ? '' : ' (shared nodes)';
    console.log(
      `| ${trace.name}${mark} | ${trace.ppn} | ${trace.capacity} | ${s.minutes} | ${s.busyNodes.mean.toFixed(1)} | ${s.rawNodes.mean.toFixed(1)} | ${replaySpanMean.toFixed(1)} | ${trace.replayMean} | ${diffPct >= 0 ? '+' : ''}${diffPct.toFixed(2)}% | ${s.rawNodes.max} | ${s.overshoot.percent.toFixed(2)}% / ${trace.replayOverPct}% | ${s.parse?.skipped ?? 0} | ${seconds.toFixed(1)} s |`,
    );
  }
}
if (failed) {
  process.stderr.write(`${failed} exact-node trace(s) differ from the replay by more than 2 %\n`);
  process.exitCode = 1;
}
