import { z } from 'zod';
import { AdviseSchema } from './advise-config.js';
import { RunSchema } from './run/config.js';

/**
 * The node power model and power-control knobs (config section `Power`): watts drawn by a node that is
 * busy, powered but idle, booting, or powered off (BMC only), how long a boot and a shutdown take, and the
 * knobs of the `reactive` (Slurm power_save) and `predictive` policies. The service's power view reads the
 * top-level keys; `pcm power replay` reads all of them. Every default is an assumption from a cited figure
 * (docs/power.md) that a site should replace with its own measurements.
 */

const watts = z.number().nonnegative().max(100_000);
const seconds = z.number().int().nonnegative().max(86_400);

/** Per-cluster overrides of the node figures (key = Cluster.Name or the name given to `--cluster`). */
const PowerOverrideSchema = z.strictObject({
  IdleWatts: watts.optional(),
  BusyWatts: watts.optional(),
  OffWatts: watts.optional(),
  BootWatts: watts.optional(),
  BootSeconds: seconds.optional(),
  ShutdownSeconds: seconds.optional(),
});

/** Slurm-like reactive power saving (slurm.conf power_save keys). */
const ReactiveSchema = z
  .strictObject({
    /** Seconds a node must be idle before it is powered down (Slurm SuspendTime). */
    SuspendTime: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400)
      .default(600),
    /** Nodes powered down per minute at most (Slurm SuspendRate, default 60). */
    SuspendRate: z.number().int().positive().max(1_000_000).default(60),
    /** Nodes booted per minute at most (Slurm ResumeRate, default 300); applies to every policy's boots. */
    ResumeRate: z.number().int().positive().max(1_000_000).default(300),
    /** Idle nodes never powered down (the count of Slurm `SuspendExcNodes=list:N`). */
    SuspendExcNodes: z.number().int().nonnegative().max(1_000_000).default(0),
    /** Seconds between power-save decisions (Slurm power_save_interval, default 10). */
    IntervalSeconds: z.number().int().positive().max(3600).default(10),
    /**
     * Which free nodes the replay gives a job (every policy): `recent` (most recently freed powered node first,
     * then booting, then powered-down) or `slurm` (the order measured on Slurm 22.05: powered and booting alike
     * by runs of consecutive nodes, then powered-down; docs/power.md).
     */
    AllocationOrder: z.enum(['recent', 'slurm']).default('recent'),
  })
  .prefault({});

/** The forecast-driven warm pool (its margin is the top-level WarmPoolMargin). */
const PredictiveSchema = z
  .strictObject({
    /**
     * Quantile of the peak demand over the boot horizon that the warm pool covers (calibrated on the
     * training data: peak actual minus peak median forecast).
     */
    PeakQuantile: z.number().min(0.5).max(0.999).default(0.9),
    /** Seconds between decisions (forecasts are per minute). */
    IntervalSeconds: z.number().int().positive().max(3600).default(60),
    /** Power down only nodes idle at least this long (s); 0 = as soon as the forecast allows. */
    MinIdleSeconds: z.number().int().nonnegative().max(86_400).default(0),
    /**
     * Users' submission chains: a user counts as active this long after their last submission or job end,
     * and the warm pool keeps idle nodes for the next job of every active user (sized by their latest job).
     * 0 = off (the forecast alone).
     */
    UserWindowSeconds: z.number().int().nonnegative().max(86_400).default(600),
    /** Only users whose latest job asks for at most this many nodes are covered by UserWindowSeconds. */
    UserMaxNodes: z.number().int().nonnegative().max(1_000_000).default(4),
    /** A job's end also makes its user active (its freed nodes stay warm for the user's next job). */
    UserEnds: z.boolean().default(true),
  })
  .prefault({});

export const PowerSchema = z
  .strictObject({
    /** Watts of a powered node running no job. */
    IdleWatts: watts.default(125),
    /** Watts of a node running a job. */
    BusyWatts: watts.default(250),
    /** Watts of a powered-off node (BMC, PSU standby). */
    OffWatts: watts.default(10),
    /** Watts while booting (POST, OS boot); boot energy = BootWatts x BootSeconds. */
    BootWatts: watts.default(250),
    /** Seconds from power-on until a node can take jobs: the horizon the warm pool must cover. */
    BootSeconds: seconds.default(300),
    /** Seconds a shutdown takes (node draws IdleWatts and takes no jobs; Slurm SuspendTimeout default 30). */
    ShutdownSeconds: seconds.default(30),
    /** Extra idle nodes kept powered on top of the forecast's P90 need (the predictive policy's margin). */
    WarmPoolMargin: z.number().int().nonnegative().max(1_000_000).default(2),
    Reactive: ReactiveSchema,
    Predictive: PredictiveSchema,
    /** `pcm power advise` (live Slurm): nodes never touched, actions per run. */
    Advise: AdviseSchema,
    /** `pcm power run` (the live controller): interval, state directory, metrics listener. */
    Run: RunSchema,
    /** Per-cluster overrides of the node figures, keyed by cluster name. */
    Clusters: z.record(z.string().min(1), PowerOverrideSchema).default({}),
  })
  .prefault({});

export type PowerConfig = z.infer<typeof PowerSchema>;
/** The reactive knobs; AllocationOrder may be left out (then `recent`). */
export type ReactiveConfig = Omit<z.infer<typeof ReactiveSchema>, 'AllocationOrder'> & {
  AllocationOrder?: z.infer<typeof ReactiveSchema>['AllocationOrder'];
};
export type PredictiveConfig = z.infer<typeof PredictiveSchema>;
