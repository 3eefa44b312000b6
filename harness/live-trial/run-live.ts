/**
 * One arm of a live power trial on the test Slurm: restart Slurm with the arm's settings, submit the stream's
 * jobs at their compressed submit times (`sbatch --exclusive -N n`, each script writes its own start time,
 * then sleeps its scaled run time, counted from when its nodes were up: ./ready-watch.ts), sample every node's
 * state from `sinfo` every `sampleS` real seconds, and
 * after the window cancel what is left. Figures are in trace seconds (real x scale). Each trace user submits
 * as a trial user (`sbatch --uid`, system users made once: ./users.ts), so a controller sees users as Slurm
 * shows them. The predictive arm runs `pcm power run` (predictive, `--forecast` the file ./feeder.ts writes
 * each trace minute) on a Slurm without its own power saving.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expand } from '../../src/jobs/hostlist.js';
import { statePathIn } from '../../src/power/run/state-file.js';
import type { StateSeconds } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';
import { cancelAndSettle, nodeStates, sbatch, waitFor } from '../slurm-cli.js';
import { type Arm, slurmEnv, type TrialTiming } from './arms.js';
import { ForecastFeeder } from './feeder.js';
import type { TrialForecast } from './forecast.js';
import { allocations, type JobWait, readyAt, respondingTimes, StateIntegrator } from './measure.js';
import { ReadyWatcher } from './ready-watch.js';
import { restartSlurm } from './slurm-restart.js';
import type { TrialStream } from './stream.js';
import { checkTrialUsersCanRun, ensureTrialUsers } from './users.js';

const ROOT = join(import.meta.dirname, '..', '..');

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
  /**
   * Node-seconds (trace) that jobs on booted nodes held past their own end because Slurm launched them late
   * (its fixed CONFIGURING check, 0-30 s real = 0-30·S trace s): counted busy here, idle or off on a real
   * cluster. A job longer than that lag is not counted: its script sleeps its run time from when its nodes
   * were up (./ready-watch.ts).
   */
  heldNodeS: number;
  /** The predictive arm's controller: its state file's totals (intervals, fallbacks, actions) and the feed. */
  controller?: {
    /** The state file's totals (from the controller's start, a moment before the window). */
    totals: Record<string, number>;
    /** Its intervals within the window, from its log: how many, fell back to reactive, failed. */
    window: { intervals: number; fallbacks: number; failed: number };
    feed: { minutes: number; max_lag_s: number; errors: string[] };
  };
}

/** The config `pcm power run` gets in a predictive arm: the trial's boot and shutdown, interval 60 trace s. */
export function trialRunConfig(t: TrialTiming, stateDir: string): string {
  return [
    'Cluster:',
    '  Name: trial',
    'Power:',
    `  BootSeconds: ${t.bootDelayS * t.scale}`,
    `  ShutdownSeconds: ${t.suspendTimeoutS * t.scale}`,
    '  Run:',
    '    IntervalSeconds: 60',
    '    MetricsPort: 0',
    `    StateDir: ${stateDir}`,
    '',
  ].join('\n');
}

const JOB_NAME = 'pcmtrial';

export async function runLiveArm(
  stream: TrialStream,
  arm: Arm,
  t: TrialTiming,
  o: {
    nodes: number;
    sampleS: number;
    log?: (s: string) => void;
    /** The predictive arm's forecast and the controller's config file (trialRunConfig). */
    predictive?: { tf: TrialForecast; config: string; stateDir: string };
  },
): Promise<LiveArmResult> {
  const log = o.log ?? (() => undefined);
  ensureTrialUsers(stream.jobs);
  restartSlurm(slurmEnv(arm, t, o.nodes));
  checkTrialUsersCanRun(stream.jobs);
  await waitFor(
    'every node idle after the restart',
    () => [...nodeStates().values()].every((s) => s === 'idle'),
    60,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pcm-trial-'));
  chmodSync(dir, 0o1777); // the trial users' scripts write their start files here
  const ctlLog = join(process.env.PCM_SERVICES_DIR as string, 'slurm', 'log', 'slurmctld.log');
  // the slice starts on a whole wall second a few seconds ahead: the controller's clock is mapped from it
  const t0 = Math.ceil(Date.now() / 1000) + 3;
  const submitted = new Map<string, SimJob>();
  let feeder: ForecastFeeder | null = null;
  let command = arm.controller;
  if (arm.predictive) {
    if (!o.predictive) throw new Error('predictive arm: no trial forecast');
    const file = join(dir, 'forecast.json');
    feeder = new ForecastFeeder(o.predictive.tf, file, submitted, {
      origin: stream.start,
      wallStart: t0,
      scale: t.scale,
    });
    feeder.start();
    command =
      `exec "${process.execPath}" --import tsx src/cli/main.ts power run --config "${o.predictive.config}" ` +
      `--forecast "${file}" --policy predictive --time-scale ${t.scale} --time-origin ${stream.start} --time-wall-start ${t0}`;
  }
  const controller = command
    ? spawn('sh', ['-c', command], {
        cwd: ROOT,
        detached: true,
        stdio: [
          'ignore',
          openSync(join(dir, 'controller.log'), 'a'),
          openSync(join(dir, 'controller.log'), 'a'),
        ],
        env: {
          ...process.env,
          PCM_NO_PROGRESS: '1',
          PCM_TRIAL_SCALE: String(t.scale),
          PCM_TRIAL_ORIGIN: String(stream.start),
          PCM_TRIAL_WALL_START: String(t0),
        },
      })
    : null;
  const controllerExit = controller ? new Promise((res) => controller.once('exit', res)) : null;
  const ready = new ReadyWatcher(ctlLog, dir);
  ready.start();
  const windowReal = (stream.end - stream.start) / t.scale;
  const integ = new StateIntegrator();
  let next = 0;
  let lag = 0;
  await sleep(Math.max(0, t0 * 1000 - Date.now()));
  try {
    for (;;) {
      const now = Date.now() / 1000;
      while (next < stream.jobs.length && t0 + (stream.jobs[next].submit - stream.start) / t.scale <= now) {
        const j = stream.jobs[next];
        const due = t0 + (j.submit - stream.start) / t.scale;
        const minutes = Math.max(1, Math.ceil(Math.max(j.limit, j.runtime) / t.scale / 60));
        // its start, then its run time counted from when its nodes were up (./ready-watch.ts), else from now
        const run = (j.runtime / t.scale).toFixed(3);
        const script =
          `s=$(date +%s.%N); echo $s > ${dir}/$SLURM_JOB_ID.start; ` +
          `r=$(cat ${dir}/$SLURM_JOB_ID.ready 2>/dev/null || echo $s); ` +
          `sleep $(awk -v s=$s -v r=$r 'BEGIN { x = r + ${run} - s; if (x < 0) x = 0; printf "%.3f", x }')`;
        const user = j.user === null ? [] : [`--uid=${j.user}`];
        const id = sbatch(
          [`--job-name=${JOB_NAME}`, ...user, '--exclusive', '-N', String(j.nodes), `--time=${minutes}`],
          script,
        );
        submitted.set(id, j);
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
      await Promise.race([controllerExit, sleep(30_000)]);
    }
    await feeder?.stop();
    ready.stop();
  }
  const end = t0 + windowReal;
  const ctl = readFileSync(ctlLog, 'utf8');
  const alloc = allocations(ctl);
  const up = respondingTimes(ctl);
  const waits: JobWait[] = [];
  let unstarted = 0;
  let heldS = 0;
  for (const id of submitted.keys()) {
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
    // nodes held past the job's own end because Slurm started it late (the unscalable CONFIGURING check)
    const job = submitted.get(id);
    if (job && ready > a.t) {
      const over = Math.min(started, end) - (ready + job.runtime / t.scale);
      if (over > 0) heldS += job.nodes * over * t.scale;
    }
    waits.push({
      id,
      waitS: (ready - a.t) * t.scale + Math.max(0, started - ready),
      rawS: Math.max(0, started - a.t) * t.scale,
    });
  }
  await cancelAndSettle(JOB_NAME, 120);
  let ctrl: LiveArmResult['controller'];
  if (o.predictive && feeder) {
    const state = JSON.parse(readFileSync(statePathIn(o.predictive.stateDir), 'utf8')) as {
      totals: Record<string, number>;
    };
    const win = { intervals: 0, fallbacks: 0, failed: 0 };
    for (const line of readFileSync(join(dir, 'controller.log'), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { time: number; msg: string; fallback?: string | null };
      if (r.time / 1000 < t0 || r.time / 1000 >= end) continue;
      if (r.msg === 'interval') {
        win.intervals++;
        if (r.fallback) win.fallbacks++;
      } else if (r.msg === 'interval failed') win.failed++;
    }
    ctrl = {
      totals: state.totals,
      window: win,
      feed: { minutes: feeder.fed, max_lag_s: feeder.maxLagS, errors: feeder.errors.slice(0, 5) },
    };
  }
  if (process.env.PCM_TRIAL_KEEP) log(`${arm.name}: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  const s = integ.seconds;
  return {
    arm: arm.name,
    seconds: { off: s.off * t.scale, boot: s.boot * t.scale, idle: s.idle * t.scale, busy: s.busy * t.scale },
    waits,
    submitted: submitted.size,
    unstarted,
    powerDowns: integ.powerDowns,
    boots: integ.boots,
    maxSubmitLagS: lag,
    heldNodeS: heldS,
    controller: ctrl,
  };
}
