import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage, UserError } from '../../util/errors.js';
import type { PredictiveConfig } from '../config.js';
import { chainsFromConfig, UserChains } from '../policies/user-chains.js';
import { readVersioned, writeVersioned } from './json-file.js';
import { SnapshotSchema } from './snapshot.js';

/**
 * What `pcm power run` keeps across restarts, in `state.json` (Power.Run.StateDir), written atomically at
 * the end of every interval: the users' submission chains and the user ids they are keyed by, the last
 * queue snapshot (so the first interval after a restart sees only what changed meanwhile, with no job
 * counted twice), the last interval's actions and outcomes, and running totals. A kill -9 loses at most
 * the interval in progress: its events are derived again from the saved snapshot on the next start. The
 * rate ledger is a file of its own (rate-ledger.ts), shared with `advise --apply`.
 * A file written for another partition is refused: its snapshot would turn into false events.
 */
export const STATE_KIND = 'pcm-power-run-state';
export const STATE_VERSION = 1;

const Triple = z.tuple([z.number(), z.number(), z.number()]);
const OutcomeSchema = z.strictObject({
  node: z.string(),
  state: z.enum(['power_down', 'power_up']),
  outcome: z.enum(['done', 'refused', 'failed']),
  why: z.string().nullable(),
});

export const RunStateSchema = z.strictObject({
  kind: z.literal(STATE_KIND),
  version: z.literal(STATE_VERSION),
  saved_at: z.string(),
  partition: z.string().nullable(),
  users: z.record(z.string(), z.number().int().nonnegative()),
  chains: z.strictObject({
    latest: z.number().nullable(),
    active: z.array(Triple),
    dormant: z.array(Triple),
  }),
  snapshot: SnapshotSchema.nullable(),
  last_actions: z.strictObject({ t: z.number(), outcomes: z.array(OutcomeSchema) }).nullable(),
  totals: z.record(z.string(), z.number()),
});

export type RunState = z.infer<typeof RunStateSchema>;
export type NodeOutcomeSaved = z.infer<typeof OutcomeSchema>;

export function statePathIn(stateDir: string): string {
  return join(stateDir, 'state.json');
}

export function emptyState(partition: string | null): RunState {
  return {
    kind: STATE_KIND,
    version: STATE_VERSION,
    saved_at: new Date().toISOString(),
    partition,
    users: {},
    chains: { latest: null, active: [], dormant: [] },
    snapshot: null,
    last_actions: null,
    totals: {},
  };
}

/** The saved state (null when none); another partition's, a corrupt or a foreign file: one-line UserError. */
export async function loadState(path: string, partition: string | null): Promise<RunState | null> {
  const s = await readVersioned(path, STATE_KIND, STATE_VERSION, RunStateSchema);
  if (s && s.partition !== partition) {
    throw new UserError(
      `${path}: written for ${s.partition ? `partition ${s.partition}` : 'all partitions'}, expected ${partition ? `partition ${partition}` : 'all partitions'}: give each partition its own Power.Run.StateDir`,
    );
  }
  return s;
}

export async function saveState(path: string, s: RunState): Promise<void> {
  await writeVersioned(path, { ...s, saved_at: new Date().toISOString() });
}

/**
 * The users' chains that `pcm power run` saved in `stateDir`, read only (`pcm power advise` decides with
 * them, as the controller would); null with a warning when there is none or it cannot be read.
 */
export async function savedChains(
  stateDir: string,
  partition: string | null,
  p: PredictiveConfig,
): Promise<{ chains: UserChains | null; note: string | null }> {
  const opts = chainsFromConfig(p);
  if (!opts) return { chains: null, note: null };
  try {
    const s = await loadState(statePathIn(stateDir), partition);
    if (!s) return { chains: null, note: null };
    return { chains: UserChains.restore(opts, s.chains), note: null };
  } catch (e) {
    return { chains: null, note: `users' chains not used: ${errorMessage(e)}` };
  }
}
