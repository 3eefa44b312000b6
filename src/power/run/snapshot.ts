import { z } from 'zod';
import { parseSqueue, squeueArgs } from '../../telemetry/slurm.js';
import type { SlurmRunner } from '../slurm-nodes.js';

/**
 * The queue as one `squeue --states=all` read (the same fields and parser as `pcm collect`,
 * telemetry/slurm.ts): per job id its user, nodes, submit/start/end instants and state. Slurm lists a job
 * for MinJobAge (default 300 s) after it ended, so a job that was submitted and ended between two reads of
 * a controller running every 60 s is still seen, with its times (job-events.ts).
 */
export const JobSeenSchema = z.strictObject({
  user: z.string().nullable(),
  nodes: z.number().nonnegative(),
  submit: z.number().nullable(),
  start: z.number().nullable(),
  /** Null while the job is pending or holds its nodes. */
  end: z.number().nullable(),
  state: z.string(),
});
export const SnapshotSchema = z.strictObject({
  /** Epoch seconds of the read. */
  t: z.number(),
  jobs: z.record(z.string(), JobSeenSchema),
});

export type JobSeen = z.infer<typeof JobSeenSchema>;
export type QueueSnapshot = z.infer<typeof SnapshotSchema>;

/** squeue text (squeueArgs' format) -> snapshot at `now`; lines it cannot read are counted in `skipped`. */
export function snapshotFromSqueue(text: string, now: number): { snap: QueueSnapshot; skipped: number } {
  const { jobs, report } = parseSqueue(text, now);
  const out: Record<string, JobSeen> = {};
  for (const j of jobs) {
    out[j.id] = {
      user: j.user,
      nodes: j.nodes,
      submit: j.submit,
      start: j.start,
      end: j.end,
      state: j.state,
    };
  }
  return { snap: { t: now, jobs: out }, skipped: report.skipped };
}

export async function readQueue(
  run: SlurmRunner,
  now: number,
  partition?: string,
): Promise<{ snap: QueueSnapshot; skipped: number }> {
  return snapshotFromSqueue(await run('squeue', squeueArgs(partition)), now);
}
