import { z } from 'zod';

/**
 * `pcm power run` settings (config section `Power.Run`): the live controller's interval, where its state,
 * lock and rate ledger live (shared with `pcm power advise --apply`), its Prometheus listener, how long
 * `advise --apply` waits for the lock, and how many nodes one `scontrol update` call names.
 */
export const RunSchema = z
  .strictObject({
    /** Seconds between two decisions (one read of sinfo/squeue, one plan, one apply). */
    IntervalSeconds: z.number().int().min(5).max(3600).default(60),
    /** Directory of state.json, ledger.json and controller.lock (created when missing). */
    StateDir: z.string().min(1).default('/var/lib/pcm/power'),
    /** Port of the /metrics listener; 0 = no listener. */
    MetricsPort: z.number().int().nonnegative().max(65_535).default(7031),
    /** Address the /metrics listener binds (loopback by default: Prometheus scrapes from this host or a proxy). */
    MetricsHost: z.string().min(1).default('127.0.0.1'),
    /** Seconds `advise --apply` (and a starting `run`) waits for the controller lock before refusing. */
    LockWaitSeconds: z.number().int().nonnegative().max(600).default(10),
    /** Nodes named by one scontrol call at most; a failing call is retried node by node. */
    ApplyGroupSize: z.number().int().positive().max(10_000).default(8),
  })
  .prefault({});

export type RunConfig = z.infer<typeof RunSchema>;
