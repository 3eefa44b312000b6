import { join } from 'node:path';
import { z } from 'zod';
import { readVersioned, writeVersioned } from './json-file.js';

/**
 * Slurm's SuspendRate and ResumeRate are per minute. A controller that runs every minute, and an
 * `advise --apply` from cron beside it, must not each spend a minute's rate: every node action that
 * `scontrol` accepted is recorded with its instant in `ledger.json` (in Power.Run.StateDir, shared by
 * `pcm power run` and `pcm power advise --apply`, both under the controller lock), and a decision may only
 * spend what the last 60 s left. Entries older than an hour are dropped when written.
 */
export const LEDGER_KIND = 'pcm-power-rate-ledger';
export const LEDGER_VERSION = 1;
const WINDOW_S = 60;
const KEEP_S = 3600;

const EntrySchema = z.strictObject({
  t: z.number().finite(),
  state: z.enum(['power_down', 'power_up']),
  nodes: z.array(z.string()),
  by: z.string(),
});
const LedgerSchema = z.strictObject({
  kind: z.literal(LEDGER_KIND),
  version: z.literal(LEDGER_VERSION),
  entries: z.array(EntrySchema),
});

export type LedgerEntry = z.infer<typeof EntrySchema>;

export class RateLedger {
  constructor(
    readonly path: string,
    readonly entries: LedgerEntry[] = [],
  ) {}

  static pathIn(stateDir: string): string {
    return join(stateDir, 'ledger.json');
  }

  /** The ledger of `stateDir` (empty when there is none yet); a corrupt file is a one-line UserError. */
  static async open(stateDir: string): Promise<RateLedger> {
    const path = RateLedger.pathIn(stateDir);
    const f = await readVersioned(path, LEDGER_KIND, LEDGER_VERSION, LedgerSchema);
    return new RateLedger(path, f?.entries ?? []);
  }

  /** Nodes powered down / up within the last 60 s before `now`. */
  used(now: number): { power_down: number; power_up: number } {
    const u = { power_down: 0, power_up: 0 };
    for (const e of this.entries) if (e.t > now - WINDOW_S && e.t <= now) u[e.state] += e.nodes.length;
    return u;
  }

  record(t: number, state: LedgerEntry['state'], nodes: string[], by: string): void {
    if (nodes.length > 0) this.entries.push({ t, state, nodes, by });
  }

  /** Record the nodes whose action scontrol accepted (apply.ts outcomes `done`). */
  recordDone(
    t: number,
    outcomes: ReadonlyArray<{ node: string; state: LedgerEntry['state']; outcome: string }>,
    by: string,
  ): void {
    for (const st of ['power_down', 'power_up'] as const) {
      this.record(
        t,
        st,
        outcomes.filter((x) => x.state === st && x.outcome === 'done').map((x) => x.node),
        by,
      );
    }
  }

  async save(now: number): Promise<void> {
    const keep = this.entries.filter((e) => e.t > now - KEEP_S);
    this.entries.splice(0, this.entries.length, ...keep);
    await writeVersioned(this.path, { kind: LEDGER_KIND, version: LEDGER_VERSION, entries: keep });
  }
}
