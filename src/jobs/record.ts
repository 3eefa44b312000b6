/**
 * The one normalised job record that every job source (Slurm accounting DB, sacct text, SWF logs,
 * the simulator) yields and every consumer (timeline, scheduler, power replay) reads.
 * Times are epoch seconds (UTC); a time that has not happened or is unknown is null.
 */
export type JobState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUSPENDED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'NODE_FAIL'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | 'OUT_OF_MEMORY'
  | 'REQUEUED'
  | 'RESIZING'
  | 'REVOKED'
  | 'UNKNOWN';

/** Every state; the first twelve in the order of Slurm's `job_states` enum (a state code's low byte indexes them). */
export const JOB_STATES: readonly JobState[] = [
  'PENDING',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REQUEUED',
  'RESIZING',
  'REVOKED',
  'UNKNOWN',
];

/** States of a job that has ended: it ran (or was cancelled) and left the cluster. */
export const ENDED_STATES: ReadonlySet<JobState> = new Set<JobState>(JOB_STATES.slice(3, 12));

/** The state names, for checking a word read from a file. */
export const STATE_NAMES: ReadonlySet<string> = new Set<string>(JOB_STATES);

export interface JobRecord {
  /** Scheduler job id as text (array/het ids such as `123_4` or `77+1` stay intact). */
  id: string;
  submit: number | null;
  /** When the job became eligible to run (dependencies/begin time satisfied); null = same as submit / unknown. */
  eligible: number | null;
  start: number | null;
  end: number | null;
  /** Nodes allocated (or requested when the job never ran). */
  nodes: number;
  /** CPUs allocated (or requested when the job never ran). */
  cpus: number;
  /** Wall-clock limit in seconds; null = unlimited or unknown. */
  timeLimit: number | null;
  partition: string | null;
  state: JobState;
  user: string | null;
  /** Allocated node names as a Slurm hostlist expression (e.g. `cn[001-004]`), null if unknown. */
  nodeList: string | null;
}

/** One skipped input line/row: where and why. */
export interface SkippedLine {
  line: number;
  reason: string;
}

/**
 * What a parser did with its input. Malformed lines are skipped and counted, never dropped silently:
 * `skipped` counts them all, `firstSkipped` keeps the first few with reasons.
 */
export interface ParseReport {
  source: string;
  lines: number;
  jobs: number;
  skipped: number;
  firstSkipped: SkippedLine[];
  /** Counts of notable normalisations applied (e.g. `alloc_from_requested`), for the summary. */
  notes: Record<string, number>;
}

const MAX_REPORTED_SKIPS = 10;

export function newReport(source: string): ParseReport {
  return { source, lines: 0, jobs: 0, skipped: 0, firstSkipped: [], notes: {} };
}

export function skip(report: ParseReport, line: number, reason: string): void {
  report.skipped++;
  if (report.firstSkipped.length < MAX_REPORTED_SKIPS) report.firstSkipped.push({ line, reason });
}

export function note(report: ParseReport, key: string, n = 1): void {
  report.notes[key] = (report.notes[key] ?? 0) + n;
}

/** One-paragraph human summary of a parse: counts plus the first skipped lines. */
export function formatReport(r: ParseReport): string {
  const parts = [`${r.source}: ${r.jobs} jobs from ${r.lines} lines`];
  if (r.skipped > 0) {
    parts.push(`${r.skipped} skipped`);
    const first = r.firstSkipped.map((s) => `line ${s.line}: ${s.reason}`).join('; ');
    parts.push(`first: ${first}`);
  }
  const notes = Object.entries(r.notes).map(([k, v]) => `${k}=${v}`);
  if (notes.length) parts.push(`notes: ${notes.join(', ')}`);
  return parts.join(', ');
}
