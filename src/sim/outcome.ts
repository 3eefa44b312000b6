import { compress } from '../jobs/hostlist.js';
import type { JobRecord } from '../jobs/record.js';
import type { NodeAllocator } from './node-allocator.js';
import type { Scheduler } from './scheduler.js';

/** What a schedule (./scheduler.ts) yields, whatever its node strategy: its figures and its job records. */

/** The fields of a scheduler read here. */
type Schedule = Pick<
  Scheduler<NodeAllocator>,
  | 'n'
  | 'nodes'
  | 'jobs'
  | 'submit'
  | 'need'
  | 'runtime'
  | 'limit'
  | 'alloc'
  | 'run'
  | 'end'
  | 'killed'
  | 'backfilled'
  | 'nodesOf'
>;

export interface SimStats {
  /** Jobs asking for more nodes than the cluster has, or none (never run). */
  rejected: number;
  /** Jobs that ran. */
  ran: number;
  /** Jobs killed at their limit. */
  killed: number;
  /** Jobs that ran past their limit (overrun = honour). */
  overran: number;
  backfilled: number;
  /** Mean wait (s) from submit to run over jobs that ran. */
  meanWait: number;
  /** Running node-seconds / (nodes * (last end - first submit)). */
  utilisation: number;
  firstSubmit: number;
  lastEnd: number;
}

export function scheduleStats(s: Schedule): SimStats {
  let rejected = 0;
  let ran = 0;
  let killed = 0;
  let overran = 0;
  let backfilled = 0;
  let wait = 0;
  let busy = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < s.n; i++) {
    if (!(s.need[i] >= 1 && s.need[i] <= s.nodes)) rejected++;
    if (Number.isNaN(s.alloc[i])) continue;
    ran++;
    killed += s.killed[i];
    if (s.runtime[i] > s.limit[i]) overran++;
    backfilled += s.backfilled[i];
    wait += s.run[i] - s.submit[i];
    busy += s.need[i] * (s.end[i] - s.run[i]);
    if (s.submit[i] < first) first = s.submit[i];
    if (s.end[i] > last) last = s.end[i];
  }
  const span = last - first;
  return {
    rejected,
    ran,
    killed,
    overran,
    backfilled,
    meanWait: ran ? wait / ran : 0,
    utilisation: ran && span > 0 ? busy / (s.nodes * span) : 0,
    firstSubmit: ran ? first : 0,
    lastEnd: ran ? last : 0,
  };
}

/**
 * The scheduled jobs as JobRecords, in submit order (jobs that never ran are left out); `start` is when the
 * job ran. With `nodeNames` (one name per node index), `nodeList` is the compressed hostlist of its nodes.
 */
export function* jobRecords(s: Schedule, nodeNames?: readonly string[]): Generator<JobRecord> {
  for (let i = 0; i < s.n; i++) {
    if (Number.isNaN(s.alloc[i])) continue;
    const j = s.jobs[i];
    yield {
      id: j.id,
      submit: j.submit,
      eligible: null,
      start: s.run[i],
      end: s.end[i],
      nodes: j.nodes,
      cpus: j.cpus,
      timeLimit: j.limit,
      partition: j.partition,
      state: s.killed[i] ? 'TIMEOUT' : 'COMPLETED',
      user: j.user,
      nodeList: nodeNames ? compress(Array.from(s.nodesOf(i), (k) => nodeNames[k])) : null,
    };
  }
}
