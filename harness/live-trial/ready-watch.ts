/**
 * Slurm holds a job allocated booted nodes in CONFIGURING until a fixed 30 s periodic check after its nodes
 * are up: 0–30 s real, which a compressed-time trial would stretch to 0–30·S trace seconds of nodes held by a
 * job that on a real cluster would already be running. So that the job frees its nodes when it would on a
 * real cluster, this watcher follows slurmctld's log and writes, for each job whose nodes came up after its
 * allocation, the instant the last of them did (DIR/<job id>.ready, wall epoch s); the job's script reads it
 * at its start and sleeps its run time counted from then (./run-live.ts). Read with ./measure.ts's parsers.
 */
import { closeSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expand } from '../../src/jobs/hostlist.js';
import { allocations, respondingTimes } from './measure.js';

export class ReadyWatcher {
  private offset: number;
  private tail = '';
  private readonly alloc = new Map<string, { t: number; nodes: string[]; up: Set<string> }>();
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly log: string,
    readonly dir: string,
    readonly everyMs = 100,
  ) {
    this.offset = statSync(log).size;
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Read what the log gained since the last poll; write the ready instants it moves. */
  poll(): void {
    const size = statSync(this.log).size;
    if (size <= this.offset) return;
    const fd = openSync(this.log, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.tail + buf.toString('utf8');
    const cut = text.lastIndexOf('\n') + 1;
    this.tail = text.slice(cut);
    const lines = text.slice(0, cut);
    for (const [id, a] of allocations(lines))
      if (!this.alloc.has(id)) this.alloc.set(id, { t: a.t, nodes: expand(a.nodes), up: new Set() });
    const up = respondingTimes(lines);
    if (up.size === 0) return;
    for (const [id, a] of this.alloc) {
      let ready = this.written.get(id) ?? Number.NEGATIVE_INFINITY;
      for (const n of a.nodes) {
        if (a.up.has(n)) continue;
        // a node's first answer after the allocation is its boot for this job; later ones are later cycles
        const t = up.get(n)?.find((x) => x > a.t);
        if (t === undefined) continue;
        a.up.add(n);
        if (t > ready) ready = t;
      }
      if (ready > (this.written.get(id) ?? Number.NEGATIVE_INFINITY)) {
        this.written.set(id, ready);
        const f = join(this.dir, `${id}.ready`);
        writeFileSync(`${f}.tmp`, ready.toFixed(3));
        renameSync(`${f}.tmp`, f);
      }
    }
  }
}
