/**
 * The arms of a live power trial and the Slurm settings each runs with, scaled by S (trace seconds per real
 * second). Every timer Slurm has is scaled where it can be (1 s is its floor); scripts/services/slurm.sh reads
 * these as PCM_SLURM_* variables.
 */

export interface Arm {
  /** Report name: always_on, reactive, reactive_exc<N>, reactive<T> (SuspendTime T s), predictive, or external. */
  name: string;
  /** Trace seconds a node must idle before Slurm powers it down; null = never (SuspendTime a year). */
  suspendTimeS: number | null;
  /** SuspendExcNodes count (node[01-NN]:N), 0 = none. */
  excNodes: number;
  /**
   * External controller command (run with `sh -c` for the arm's length; PCM_TRIAL_SCALE, PCM_TRIAL_ORIGIN and
   * PCM_TRIAL_WALL_START in its env give `pcm power run --time-scale/--time-origin/--time-wall-start`).
   */
  controller?: string;
  /** `pcm power run` with the predictive policy, fed the trial's forecast (./feeder.ts); Slurm's own saving off. */
  predictive?: boolean;
}

export function parseArm(spec: string): Arm {
  if (spec === 'always_on') return { name: spec, suspendTimeS: null, excNodes: 0 };
  if (spec === 'predictive') return { name: spec, suspendTimeS: null, excNodes: 0, predictive: true };
  // reactive[<SuspendTime s>][_exc<N>]: Slurm's own power saving, SuspendTime 600 s unless given
  const re = /^reactive(\d+)?(?:_exc(\d+))?$/.exec(spec);
  if (re) return { name: spec, suspendTimeS: re[1] ? Number(re[1]) : 600, excNodes: Number(re[2] ?? 0) };
  const ext = /^external:(.+)$/s.exec(spec);
  if (ext) return { name: 'external', suspendTimeS: null, excNodes: 0, controller: ext[1] };
  throw new Error(
    `arm: expected always_on, reactive[<SuspendTime s>][_exc<N>], predictive or external:<command>, got ${JSON.stringify(spec)}`,
  );
}

export interface TrialTiming {
  /** Trace seconds per real second. */
  scale: number;
  /** Real seconds a boot takes (the resume hook's delay). */
  bootDelayS: number;
  /** Real seconds Slurm keeps a node powering down (SuspendTimeout). */
  suspendTimeoutS: number;
}

/** The PCM_SLURM_* environment for slurm.sh. */
export function slurmEnv(arm: Arm, t: TrialTiming, nodes: number): Record<string, string> {
  const last = String(nodes).padStart(2, '0');
  const env: Record<string, string> = {
    PCM_SLURM_SUSPEND_TIME:
      arm.suspendTimeS === null ? '31536000' : String(Math.max(1, Math.round(arm.suspendTimeS / t.scale))),
    PCM_SLURM_SUSPEND_TIMEOUT: String(t.suspendTimeoutS),
    PCM_SLURM_RESUME_TIMEOUT: String(Math.max(30, 6 * t.bootDelayS)),
    PCM_SLURM_BOOT_DELAY: String(t.bootDelayS),
    PCM_SLURM_SUSPEND_EXC: arm.excNodes > 0 ? `node[01-${last}]:${arm.excNodes}` : '',
    // bf_interval 30 s and sched_interval 60 s scaled (1 s is the floor); MinJobAge 300 s scaled
    PCM_SLURM_SCHED_PARAMS: `bf_interval=${Math.max(1, Math.round(30 / t.scale))},sched_interval=${Math.max(1, Math.round(60 / t.scale))}`,
    PCM_SLURM_MIN_JOB_AGE: String(Math.max(2, Math.round(300 / t.scale))),
  };
  return env;
}
