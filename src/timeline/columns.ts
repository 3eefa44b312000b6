/**
 * The minute timeline's columns: the contract between the timeline builder (sources -> timeline),
 * the live collector (`pcm collect`, same values from a running Slurm), the dataset/model and the service.
 * Each row describes the cluster at the instant the minute starts (a snapshot, like a collector sees),
 * except the `*_last_min` flow counts, which count events in the minute that just ended (t-60, t].
 */
export const TIMELINE_COLUMNS = [
  /** Jobs holding nodes at t. */
  'running_jobs',
  /** Jobs submitted (and eligible) by t that have not started and not been cancelled. */
  'queued_jobs',
  /** Nodes held by running jobs, clipped to capacity. */
  'busy_nodes',
  /** Nodes held beyond capacity (raw sum - capacity, >= 0): a data-quality count. */
  'overshoot_nodes',
  /** Allocated CPUs / total CPUs, in [0, 1]. */
  'cpu_util',
  /** Mean nodes and CPUs per running job (0 when none). */
  'mean_nodes_running',
  'mean_cpus_running',
  /** Mean nodes and CPUs requested per queued job (0 when none). */
  'mean_nodes_queued',
  'mean_cpus_queued',
  /** Total nodes requested by the queue. */
  'queued_nodes',
  /** Mean seconds the running jobs have run so far. */
  'mean_elapsed_running_s',
  /** Mean and 90th percentile of running jobs' time limits, seconds (jobs without a limit excluded). */
  'mean_limit_running_s',
  'p90_limit_running_s',
  /** Nearest-rank median and 90th percentile of the running jobs' elapsed time t - start, seconds (0 when none). */
  'p50_elapsed_running_s',
  'p90_elapsed_running_s',
  /**
   * Nearest-rank median and 90th percentile of the run times (end - start, seconds) of the node-holding jobs
   * that ended in the last hour (t-3600, t] (0 when none).
   */
  'p50_runtime_ended_1h_s',
  'p90_runtime_ended_1h_s',
  /** Scheduler-aware known future: nodes of running jobs whose time limit ends by t+5/10/30/60/240 min. */
  'ending_5m_nodes',
  'ending_10m_nodes',
  'ending_30m_nodes',
  'ending_60m_nodes',
  'ending_240m_nodes',
  /** Running nodes by how long their job has run at t (age = t - start): < 5 min, 5-30 min, 30-120 min, >= 120 min. */
  'age_lt5m_nodes',
  'age_5_30m_nodes',
  'age_30_120m_nodes',
  'age_ge120m_nodes',
  /**
   * Expected nodes freed by t+30 min: the sum over running jobs of nodes * P(the job ends within 30 min | age,
   * remaining limit, size), P from an empirical table of finished jobs (src/timeline/survival.ts). History:
   * refitted once per day from the jobs ended by then (causal); live: a table saved by `pcm timeline`, else
   * the time-limit prior (then it equals ending_30m_nodes).
   */
  'expected_end_30m_nodes',
  /** Flow counts over the minute that just ended: submits of any job; starts and ends of node-holding jobs. */
  'submitted_last_min',
  'started_last_min',
  'ended_last_min',
] as const;

export type TimelineColumn = (typeof TIMELINE_COLUMNS)[number];

/**
 * Columns added after the first release (running nodes by age, ending within 60/240 min, expected ends, the
 * run-time quantiles):
 * a timeline CSV without them was written by an older pcm (src/timeline/csv.ts refuses it with that reason).
 */
export const COLUMNS_ADDED_AFTER_FIRST_RELEASE: readonly TimelineColumn[] = [
  'ending_60m_nodes',
  'ending_240m_nodes',
  'age_lt5m_nodes',
  'age_5_30m_nodes',
  'age_30_120m_nodes',
  'age_ge120m_nodes',
  'expected_end_30m_nodes',
  'p50_elapsed_running_s',
  'p90_elapsed_running_s',
  'p50_runtime_ended_1h_s',
  'p90_runtime_ended_1h_s',
];

/** A minute timeline in columns: row i is the instant `start + 60*i` (epoch s, UTC). */
export interface Timeline {
  /** Epoch seconds of row 0; a multiple of 60. */
  start: number;
  /** Number of rows (minutes). */
  minutes: number;
  /** Nodes in the cluster (busy_nodes is clipped to this). */
  capacity: number;
  /** CPUs in the cluster (cpu_util denominator). */
  totalCpus: number;
  columns: Record<TimelineColumn, Float64Array>;
}
