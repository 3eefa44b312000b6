import type { ParseReport } from '../jobs/record.js';
import type { Timeline } from './columns.js';
import { isoMinute } from './csv.js';
import type { BuildStats } from './records-state.js';

/** What a timeline looks like at a glance, plus the data-quality counts of how it was made. */
export interface TimelineSummary {
  /** First and last row (ISO UTC); null when the timeline is empty. */
  first: string | null;
  last: string | null;
  minutes: number;
  capacity: number;
  totalCpus: number;
  busyNodes: { mean: number; max: number };
  /** Unclipped node sum (busy + overshoot): what a naive replay counts. */
  rawNodes: { mean: number; max: number };
  meanCpuUtil: number;
  /** Minutes with overshoot_nodes > 0 (raw sum above capacity). */
  overshoot: { minutes: number; percent: number };
  runningJobs: { mean: number; max: number };
  queue: { meanJobs: number; maxJobs: number; meanNodes: number; maxNodes: number; minutesNonEmpty: number };
  /** How the jobs were turned into rows (from the builder), when known. */
  jobs?: BuildStats;
  /** How the source was parsed (skipped lines, notes), when known. */
  parse?: ParseReport;
}

/** One pass over the columns. */
export function summarizeTimeline(
  tl: Timeline,
  extra: { stats?: BuildStats; report?: ParseReport } = {},
): TimelineSummary {
  const M = tl.minutes;
  const c = tl.columns;
  let busySum = 0;
  let busyMax = 0;
  let rawSum = 0;
  let rawMax = 0;
  let utilSum = 0;
  let over = 0;
  let runSum = 0;
  let runMax = 0;
  let qSum = 0;
  let qMax = 0;
  let qnSum = 0;
  let qnMax = 0;
  let qNonEmpty = 0;
  for (let i = 0; i < M; i++) {
    const b = c.busy_nodes[i];
    const raw = b + c.overshoot_nodes[i];
    busySum += b;
    rawSum += raw;
    if (b > busyMax) busyMax = b;
    if (raw > rawMax) rawMax = raw;
    if (c.overshoot_nodes[i] > 0) over++;
    utilSum += c.cpu_util[i];
    const r = c.running_jobs[i];
    runSum += r;
    if (r > runMax) runMax = r;
    const q = c.queued_jobs[i];
    qSum += q;
    if (q > qMax) qMax = q;
    if (q > 0) qNonEmpty++;
    const qn = c.queued_nodes[i];
    qnSum += qn;
    if (qn > qnMax) qnMax = qn;
  }
  const mean = (s: number) => (M ? s / M : 0);
  const s: TimelineSummary = {
    first: M ? isoMinute(tl.start) : null,
    last: M ? isoMinute(tl.start + 60 * (M - 1)) : null,
    minutes: M,
    capacity: tl.capacity,
    totalCpus: tl.totalCpus,
    busyNodes: { mean: mean(busySum), max: busyMax },
    rawNodes: { mean: mean(rawSum), max: rawMax },
    meanCpuUtil: mean(utilSum),
    overshoot: { minutes: over, percent: M ? (100 * over) / M : 0 },
    runningJobs: { mean: mean(runSum), max: runMax },
    queue: {
      meanJobs: mean(qSum),
      maxJobs: qMax,
      meanNodes: mean(qnSum),
      maxNodes: qnMax,
      minutesNonEmpty: qNonEmpty,
    },
  };
  if (extra.stats) s.jobs = { ...extra.stats };
  if (extra.report) s.parse = { ...extra.report, firstSkipped: [...extra.report.firstSkipped] };
  return s;
}

const f1 = (x: number) => x.toFixed(1);
const pct = (x: number, of: number) => (of > 0 ? `${((100 * x) / of).toFixed(1)}%` : '-');

/** The summary as a few aligned lines of text. */
export function formatSummary(s: TimelineSummary): string {
  const days = (s.minutes / 1440).toFixed(1);
  const lines = [
    `span            ${s.first ?? '-'} .. ${s.last ?? '-'} (${s.minutes} minutes, ${days} days)`,
    `cluster         ${s.capacity} nodes, ${s.totalCpus} CPUs`,
    `busy nodes      mean ${f1(s.busyNodes.mean)} (${pct(s.busyNodes.mean, s.capacity)}), max ${s.busyNodes.max}`,
    `unclipped       mean ${f1(s.rawNodes.mean)}, max ${s.rawNodes.max}`,
    `overshoot       ${s.overshoot.minutes} minutes (${s.overshoot.percent.toFixed(2)}%) above capacity`,
    `cpu util        mean ${(100 * s.meanCpuUtil).toFixed(1)}%`,
    `running jobs    mean ${f1(s.runningJobs.mean)}, max ${s.runningJobs.max}`,
    `queue           mean ${f1(s.queue.meanJobs)} jobs / ${f1(s.queue.meanNodes)} nodes, max ${s.queue.maxJobs} jobs / ${s.queue.maxNodes} nodes, non-empty ${pct(s.queue.minutesNonEmpty, s.minutes)} of minutes`,
  ];
  if (s.jobs) {
    const j = s.jobs;
    lines.push(
      `jobs            ${j.jobs} read, ${j.holdingNodes} held nodes, ${j.neverStarted} never started, ` +
        `${j.zeroNodes} zero-node, ${j.nonPositiveRun} run time <= 0, ${j.openEnded} still running, ` +
        `${j.noExitTime} finished without times, ${j.noSubmit} without submit time`,
    );
  }
  if (s.parse) {
    const p = s.parse;
    let q = `input           ${p.source}: ${p.lines} lines, ${p.jobs} jobs, ${p.skipped} skipped`;
    if (p.firstSkipped.length)
      q += ` (first: ${p.firstSkipped.map((x) => `line ${x.line}: ${x.reason}`).join('; ')})`;
    lines.push(q);
    const notes = Object.entries(p.notes);
    if (notes.length) lines.push(`notes           ${notes.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
