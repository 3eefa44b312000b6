import { z } from 'zod';

/**
 * `pcm power advise` settings (config section `Power.Advise`): which nodes it must never touch, how many
 * node actions one run may take, and how to reach the prediction service.
 */
export const AdviseSchema = z
  .strictObject({
    /** Hostlist of nodes never powered down or up (e.g. login-like or service nodes), on top of SuspendExcNodes. */
    ExcludeNodes: z.string().max(100_000).default(''),
    /** Node actions (power-ups + power-downs) per run at most; SuspendRate/ResumeRate also apply. */
    MaxActions: z.number().int().positive().max(1_000_000).default(64),
    /** Seconds to wait for the service's answer. */
    TimeoutSeconds: z.number().int().positive().max(600).default(10),
    /**
     * A file holding the service's bearer token (one line), for a service with Service.RequireAuthForReads;
     * PCM_API_TOKEN and Service.ApiToken come first. Empty = none.
     */
    TokenFile: z.string().default(''),
  })
  .prefault({});

export type AdviseConfig = z.infer<typeof AdviseSchema>;
