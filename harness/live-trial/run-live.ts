/**
 * One arm of a live power trial on the test Slurm: restart Slurm with the arm's settings, submit the stream's
 * jobs at their compressed submit times (`sbatch --exclusive -N n`, each script writes its own start time,
 * then sleeps its scaled run time), sample every node's state from `sinfo` every `sampleS` real seconds, and
 * after the window cancel what is left. Figures are in trace seconds (real x scale).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expand } from '../../src/jobs/hostlist.js';
import type { StateSeconds } from '../../src/power/watts.js';
import { cancelAndSettle, nodeStates, sbatch, waitFor } from '../slurm-cli.js';
import { type Arm, slurmEnv, type TrialTiming } from './arms.js';
import { allocations, type JobWait, readyAt, respondingTimes, StateIntegrator } from './measure.js';
import { restartSlurm } from './slurm-restart.js';
import type { TrialStream } from './stream.js';

export interface LiveArmResult {
  arm: string;
  /** Node-seconds per draw class over the window, trace seconds. */
  seconds: StateSeconds;
  /** Per started job: boot wait in trace seconds. */
  waits: JobWait[];
  submitted: number;
  /** Jobs allocated in the window whose script had not started by its end. */
  unstarted: number;
  powerDowns: number;
  boots: number;
  /** Real seconds by which the submissions ran late at most (sbatch's own time). */
  maxSubmitLagS: number;
}

const JOB_NAME = 'pcmtrial';

export async function runLiveArm(
  stream: TrialStream,
  arm: Arm,
  t: TrialTiming,
  o: { nodes: number; sampleS: number; log?: (s: string) => void },
): Promise<LiveArmResult> {
  const log = o.log ?? (() => undefined);
  restartSlurm(slurmEnv(arm, t, o.nodes));
  await waitFor(
    'every node idle after the restart',
    () => [...nodeStates().values()].every((s) => s === 'idle'),
    60,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pcm-trial-'));
  const ctlLog = join(process.env.PCM_SERVICES_DIR as string, 'slurm', 'log', 'slurmctld.log');
  const controller = arm.controller
    ? spawn('sh', ['-c', arm.controller], {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, PCM_TRIAL_SCALE: String(t.scale) },
      })
    : null;
  const windowReal = (stream.end - stream.start) / t.scale;
  const integ = new StateIntegrator();
  const ids: string[] = [];
  let next = 0;
  let lag = 0;
  const t0 = Date.now() / 1000 + 1;
  try {
    for (;;) {
      const now = Date.now() / 1000;
      while (next < stream.jobs.length && t0 + (stream.jobs[next].submit - stream.start) / t.scale <= now) {
        const j = stream.jobs[next];
        const due = t0 + (j.submit - stream.start) / t.scale;
        const minutes = Math.max(1, Math.ceil(Math.max(j.limit, j.runtime) / t.scale / 60));
        const script = `date +%s.%N > ${dir}/$SLURM_JOB_ID.start; sleep ${(j.runtime / t.scale).toFixed(3)}`;
        ids.push(
          sbatch(
            [`--job-name=${JOB_NAME}`, '--exclusive', '-N', String(j.nodes), `--time=${minutes}`],
            script,
          ),
        );
        lag = Math.max(lag, Date.now() / 1000 - due);
        next++;
      }
      integ.sample(now, nodeStates(), t0, t0 + windowReal);
      if (now >= t0 + windowReal) break;
      if (next % 20 === 0)
        log(`${arm.name}: ${(now - t0).toFixed(0)} / ${windowReal.toFixed(0)} s, ${next} submitted`);
      await sleep(o.sampleS * 1000);
    }
  } finally {
    if (controller?.pid) {
      try {
        process.kill(-controller.pid, 'SIGTERM');
      } catch {
        // already ended
      }
    }
  }
  const end = t0 + windowReal;
  const ctl = readFileSync(ctlLog, 'utf8');
  const alloc = allocations(ctl);
  const up = respondingTimes(ctl);
  const waits: JobWait[] = [];
  let unstarted = 0;
  for (const id of ids) {
    const a = alloc.get(id);
    if (a === undefined || a.t >= end) continue;
    const f = join(dir, `${id}.start`);
    if (!existsSync(f)) {
      unstarted++;
      continue;
    }
    const started = Number(readFileSync(f, 'utf8').trim());
    if (started >= end) continue;
    const ready = readyAt(expand(a.nodes), a.t, started, up);
    waits.push({
      id,
      waitS: (ready - a.t) * t.scale + Math.max(0, started - ready),
      rawS: Math.max(0, started - a.t) * t.scale,
    });
  }
  await cancelAndSettle(JOB_NAME, 120);
  rmSync(dir, { recursive: true, force: true });
  const s = integ.seconds;
  return {
    arm: arm.name,
    seconds: { off: s.off * t.scale, boot: s.boot * t.scale, idle: s.idle * t.scale, busy: s.busy * t.scale },
    waits,
    submitted: ids.length,
    unstarted,
    powerDowns: integ.powerDowns,
    boots: integ.boots,
    maxSubmitLagS: lag,
  };
}
