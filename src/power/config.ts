import { z } from 'zod';

/**
 * The node power model (config section `Power`): watts drawn by a node that is busy, powered but idle, or
 * powered off (BMC only), how long a powered-off node takes to boot, and the spare nodes kept on top of the
 * forecast. The service's power view reads it today; the power-control issue will extend it.
 */
export const PowerSchema = z
  .strictObject({
    /** Watts of a powered node running no job. */
    IdleWatts: z.number().nonnegative().max(100_000).default(125),
    /** Watts of a node running a job. */
    BusyWatts: z.number().nonnegative().max(100_000).default(250),
    /** Watts of a powered-off node (BMC, PSU standby). */
    OffWatts: z.number().nonnegative().max(100_000).default(10),
    /** Seconds from power-on until a node can take jobs: the horizon the warm pool must cover. */
    BootSeconds: z.number().int().nonnegative().max(86_400).default(300),
    /** Extra idle nodes kept powered on top of the forecast's P90 need. */
    WarmPoolMargin: z.number().int().nonnegative().max(1_000_000).default(2),
  })
  .prefault({});

export type PowerConfig = z.infer<typeof PowerSchema>;
