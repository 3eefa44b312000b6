/**
 * What the minute-row builder (./rows.ts) reads from a scheduler at one instant: the small interface between
 * a scheduler (src/sim/, the power replay, a replay of job records, a `squeue` snapshot) and the timeline.
 * Per-job arrays are indexed by job; only the jobs listed in `running` and `queue[0 .. qLen)` are read.
 * (A job's need, cpus, limit, alloc and run must not change while it is listed; the builder caches them.)
 */
export interface ClusterState {
  /** Jobs holding nodes now (any order); a job whose end is at or before the row's instant is skipped. */
  readonly running: readonly number[];
  /** Jobs waiting, first `qLen` entries valid. */
  readonly queue: Int32Array;
  readonly qLen: number;
  /** Nodes per job (whole numbers from a scheduler; records may carry any count). */
  readonly need: Int32Array | Float64Array;
  readonly cpus: Float64Array;
  /** Time limit (s); NaN or <= 0 = none. */
  readonly limit: Float64Array;
  /** When the job got its nodes (age and elapsed count from here); NaN = not yet. */
  readonly alloc: Float64Array;
  /** When it started running (alloc, or later when it waited for boots); its limit counts from here. */
  readonly run: Float64Array;
  /** When it ends (NaN = not known yet, +inf = never known). */
  readonly end: Float64Array;
  /** Flow counters since the last row (submissions, starts and ends of node-holding jobs); a row resets them. */
  submittedSince: number;
  startedSince: number;
  endedSince: number;
  /**
   * The node-holding jobs that ended since the last row (any order; before the first row: any that ended
   * earlier, the row keeps those of its last hour); a row empties it.
   */
  readonly ended: number[];
}
