import type { JobEvent } from '../policy.js';
import type { JobSeen, QueueSnapshot } from './snapshot.js';

/**
 * From two queue snapshots to the job events between them, for the policy's `observe` (the users'
 * submission chains). Per job id:
 * - new in `next`: a submit at its SubmitTime; a start if it has started; an end if it has ended already
 *   (submitted and ended between the two reads: seen thanks to MinJobAge, counted as `seenOnlyEnded`);
 * - in both: a start when it started, an end when it ended since `prev`;
 * - gone from `next` while `prev` still had it pending or running: an end at `next.t` (the instant is lost
 *   between the two reads: cancelled and purged, or MinJobAge shorter than the interval), counted `vanished`.
 * What is lost: a job whose whole life and MinJobAge fall between two reads is never seen (MinJobAge 300 s
 * default, interval 60 s: none); pending reasons and requeues are not events.
 * Starts are counted but not delivered: `JobEvent` has submit and end only, and the chains use no starts.
 * Events come out in time order and never before `floor` (the chains' newest event), each clamped to
 * [floor, next.t], so a job listed late cannot reorder what the policy already learnt.
 */
export interface DiffCounts {
  submitted: number;
  started: number;
  ended: number;
  seenOnlyEnded: number;
  vanished: number;
}

export interface JobEventsResult {
  events: JobEvent[];
  counts: DiffCounts;
}

/** User names -> the interned ids JobEvent carries (persisted with the chains, so ids survive a restart). */
export class UserIds {
  constructor(readonly ids: Record<string, number> = {}) {}
  of(name: string | null): number {
    if (!name) return -1;
    let id = this.ids[name];
    if (id === undefined) {
      id = Object.keys(this.ids).length;
      this.ids[name] = id;
    }
    return id;
  }
}

const ended = (j: JobSeen) => j.end !== null;
const started = (j: JobSeen) => j.start !== null;

export function jobEvents(
  prev: QueueSnapshot | null,
  next: QueueSnapshot,
  users: UserIds,
  floor = Number.NEGATIVE_INFINITY,
): JobEventsResult {
  const counts: DiffCounts = { submitted: 0, started: 0, ended: 0, seenOnlyEnded: 0, vanished: 0 };
  const raw: Array<{ kind: 'submit' | 'end'; t: number; user: string | null; nodes: number; id: string }> =
    [];
  const before = prev?.jobs ?? {};
  for (const [id, j] of Object.entries(next.jobs)) {
    const p = before[id];
    if (!p) {
      counts.submitted++;
      raw.push({ kind: 'submit', t: j.submit ?? next.t, user: j.user, nodes: j.nodes, id });
      if (started(j)) counts.started++;
      if (ended(j)) {
        counts.ended++;
        if (prev) counts.seenOnlyEnded++;
        raw.push({ kind: 'end', t: j.end ?? next.t, user: j.user, nodes: j.nodes, id });
      }
      continue;
    }
    if (!started(p) && started(j)) counts.started++;
    if (!ended(p) && ended(j)) {
      counts.ended++;
      raw.push({ kind: 'end', t: j.end ?? next.t, user: j.user, nodes: j.nodes, id });
    }
  }
  for (const [id, p] of Object.entries(before)) {
    if (next.jobs[id] || ended(p)) continue;
    counts.vanished++;
    counts.ended++;
    raw.push({ kind: 'end', t: next.t, user: p.user, nodes: p.nodes, id });
  }
  // time order (submit before end at the same instant, then job id), clamped to [floor, next.t]
  raw.sort(
    (a, b) => a.t - b.t || (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind === 'submit' ? -1 : 1),
  );
  let last = floor;
  const events: JobEvent[] = raw.map((e) => {
    const t = Math.max(last, Math.min(next.t, e.t));
    last = t;
    return { kind: e.kind, t, user: users.of(e.user), nodes: e.nodes };
  });
  return { events, counts };
}
