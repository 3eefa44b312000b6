/**
 * One FCFS + EASY-backfill pass at time t: the rule the scheduler (./scheduler.ts) applies whatever its
 * node strategy (the simulator's free list or the power replay's powered nodes):
 *   1. start queue-head jobs while they fit;
 *   2. reserve for the head: the shadow time (when enough running jobs will have reached their limit)
 *      and the extra nodes free at that time beyond the head's need;
 *   3. start later jobs that fit now and either end (by their limit) before the shadow time or use only
 *      extra nodes.
 * The queue is compacted in place; the new queue length is returned.
 */
export interface EasyState {
  /** Job indices waiting, FCFS order, first `qLen` entries valid. */
  queue: Int32Array;
  qLen: number;
  need: Int32Array;
  limit: Float64Array;
  /** Running jobs sorted by expected end (start + limit), and those ends. */
  running: readonly number[];
  runExpEnd: readonly number[];
  backfill: boolean;
  /** Nodes free now (read again after every start). */
  freeCount(): number;
  startJob(j: number, t: number): void;
  /** Called just before a job is started by backfilling, with the head's reservation. */
  onBackfill?(j: number, t: number, head: number, shadow: number, extra: number): void;
}

export function easyPass(s: EasyState, t: number): number {
  let qLen = s.qLen;
  if (qLen === 0) return 0;
  const q = s.queue;
  // 1. start queue-head jobs while they fit
  let h = 0;
  while (h < qLen && s.need[q[h]] <= s.freeCount()) s.startJob(q[h++], t);
  if (h > 0) {
    q.copyWithin(0, h, qLen);
    qLen -= h;
  }
  if (!s.backfill || qLen <= 1 || s.freeCount() === 0) return qLen;
  // 2. reservation for the head: shadow time and extra nodes
  const head = q[0];
  const needHead = s.need[head];
  let avail = s.freeCount();
  let shadow = Number.POSITIVE_INFINITY;
  let extra = 0;
  for (let r = 0; r < s.running.length; r++) {
    avail += s.need[s.running[r]];
    if (avail >= needHead) {
      shadow = Math.max(s.runExpEnd[r], t);
      extra = avail - needHead;
      break;
    }
  }
  // 3. backfill later jobs that fit now and do not delay the head
  let w = 1;
  for (let r = 1; r < qLen; r++) {
    if (s.freeCount() === 0) {
      // nothing else can start: keep the rest of the queue as it is
      q.copyWithin(w, r, qLen);
      w += qLen - r;
      break;
    }
    const j = q[r];
    const need = s.need[j];
    if (need <= s.freeCount()) {
      const endsBefore = t + s.limit[j] <= shadow;
      if (endsBefore || need <= extra) {
        s.onBackfill?.(j, t, head, shadow, extra);
        if (!endsBefore) extra -= need;
        s.startJob(j, t);
        continue;
      }
    }
    q[w++] = j;
  }
  return w;
}
