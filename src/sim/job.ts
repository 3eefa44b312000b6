/**
 * A job as the simulator sees it before it is scheduled: when it arrives, what it asks for and how
 * long it would really run. Generated workloads and replayed traces both become SimJob arrays
 * sorted by submit; the scheduler adds start/end and the result turns back into JobRecords.
 */
export interface SimJob {
  id: string;
  /** Epoch seconds. */
  submit: number;
  nodes: number;
  cpus: number;
  /** How long the job would run if nothing stopped it (s). */
  runtime: number;
  /** Requested wall-clock limit (s): what the scheduler plans with. */
  limit: number;
  user: string | null;
  partition: string | null;
}

/** Sort by submit time, keeping the input order among equal times. */
export function sortBySubmit(jobs: SimJob[]): SimJob[] {
  return jobs
    .map((j, i) => ({ j, i }))
    .sort((a, b) => a.j.submit - b.j.submit || a.i - b.i)
    .map((x) => x.j);
}
