/**
 * A short live power trial on the real Slurm (harness/live-trial/, the bench is bench/studies/live-trial.ts):
 * a hand-made 2-trace-hour stream at scale 120 (one trace minute = 0.5 s, boots of 3 s = 360 trace s,
 * SuspendTime 600 s = 5 s), arms always-on, Slurm's reactive power saving and `pcm power run` with the
 * predictive policy (fed a forecast every trace minute by a ridge fitted on a week of the same pattern before
 * the slice), each measured from Slurm (sinfo states, job scripts' own start times, slurmctld's allocation
 * instants) and replayed by the twin. Asserts real behaviour: reactive saves energy against always-on, jobs
 * that hit powered-down nodes wait for a boot (and none does under always-on); the controller decides every
 * interval without falling back and powers nodes down through scontrol; and the twin's saving is within 2
 * points of the live one plus what the one timer that cannot be scaled can add: per boot, up to 30 real s of
 * CONFIGURING (= 30·S trace s) with the booted node counted busy instead of off.
 * Restarts the test Slurm per arm and leaves it with its defaults. About 4 minutes.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`) and root; PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseArm } from '../../harness/live-trial/arms.js';
import type { TrialStream } from '../../harness/live-trial/stream.js';
import { type ArmReport, runTrial } from '../../harness/live-trial/trial.js';
import { nodeStates } from '../../harness/slurm-cli.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';

const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const T0 = 999_999_960; // a whole minute, as a trace slice starts

function job(id: string, atMin: number, nodes: number, runMin: number, user: string | null = null): SimJob {
  const runtime = runMin * 60;
  return {
    id,
    submit: T0 + atMin * 60,
    nodes,
    cpus: nodes,
    runtime,
    limit: runtime * 2,
    user,
    partition: null,
  };
}

// busy, then a long gap (nodes idle well past SuspendTime, powered down), then a small job that must boot one.
// Kept small on purpose: a job on booted nodes stays CONFIGURING until slurmctld's fixed 30 s check (= 60
// trace minutes here), with its nodes counted busy; see docs/benchmarks.md "Live trial on the test Slurm".
const stream: TrialStream = {
  // submitted as root (no trial users): the test Slurm's spool lies inside the checkout, which other users
  // may not be able to traverse (a fresh clone in a mktemp -d directory is 0700)
  jobs: [job('a', 1, 12, 10), job('b', 1, 4, 5), job('c', 40, 1, 5)],
  start: T0,
  end: T0 + 2 * 3600,
  util: 0,
  // a week before it of the same two-hour pattern: what the predictive arm's forecaster learns from
  history: Array.from({ length: 7 * 12 }, (_, k) => {
    const at = -7 * 24 * 60 + 120 * k;
    return [job(`a${k}`, at + 1, 12, 10), job(`b${k}`, at + 1, 4, 5), job(`c${k}`, at + 40, 1, 5)];
  }).flat(),
};

const timing = { scale: 120, bootDelayS: 3, suspendTimeoutS: 1 };
let reports: ArmReport[] = [];

/** The twin's saving within 2 points of the live one, plus what the one timer that cannot be scaled can add. */
function assertTwin(r: ArmReport, on: ArmReport, msg: string): void {
  const twin = r.twin.slurm;
  assert.ok(twin && twin.saved_pct !== null, msg);
  // slurmctld's fixed 30 s CONFIGURING check is not scaled: per boot up to 30·S trace s busy instead of off
  const m = DEFAULT_POWER_MODEL;
  const unscaledJ = r.live.boots * 30 * timing.scale * (m.busyW - m.offW);
  const bound = 2 + (100 * unscaledJ) / (on.live.energy_kwh * 3.6e6);
  const gap = Math.abs((twin.saved_pct ?? 0) - (r.live.saved_pct ?? 0));
  assert.ok(gap < bound, `${r.arm}: twin within ${bound.toFixed(1)} points (gap ${gap.toFixed(1)}); ${msg}`);
}

describe('live power trial on the real Slurm', { skip: skipAll }, () => {
  before(async () => {
    if (!env.SLURM_CONF || !env.PCM_SERVICES_DIR) {
      throw new Error('integration env missing: bash scripts/services/up.sh && source .pcm/services/env.sh');
    }
    if (nodeStates().size !== 16) throw new Error('expected the 16-node test cluster');
    reports = await runTrial(
      stream,
      [parseArm('always_on'), parseArm('reactive'), parseArm('predictive')],
      timing,
      { nodes: 16, sampleS: 0.5 },
    );
  });

  it('reactive saves energy against always-on, boots delay the jobs that need them, the twin agrees', () => {
    const [on, re] = reports;
    const msg = JSON.stringify({ on, re });
    assert.equal(on.live.jobs_started, 3, msg);
    assert.equal(re.live.jobs_started, 3, msg);
    assert.equal(on.live.jobs_delayed, 0, `always-on: no job waits for a boot; ${msg}`);
    assert.equal(on.live.boots, 0, msg);
    assert.ok((re.live.saved_pct ?? 0) > 10, `reactive saves energy; ${msg}`);
    assert.ok(re.live.boots >= 1, `job c boots a powered-down node; ${msg}`);
    assert.ok(re.live.jobs_delayed >= 1, `job c waits for its boot; ${msg}`);
    assert.ok(re.live.mean_boot_wait_s > 0, msg);
    assertTwin(re, on, msg);
    assert.ok((re.twin.slurm?.jobs_delayed ?? 0) >= 1, msg);
  });

  it('`pcm power run` (predictive, fed a forecast every trace minute) controls the real Slurm; the twin agrees', () => {
    const [on, , pr] = reports;
    const msg = JSON.stringify({ on, pr });
    assert.equal(pr.live.jobs_started, 3, msg);
    const c = pr.live.controller;
    assert.ok(c, msg);
    // 120 trace minutes at one decision per trace minute (0.5 s real); it starts a moment before the slice,
    // when the first forecast is still ahead of its clock
    assert.ok(c.window.intervals >= 100, `the controller decided every interval; ${msg}`);
    assert.equal(c.window.failed, 0, msg);
    assert.equal(c.window.fallbacks, 0, `within the slice the forecast was never missing or stale; ${msg}`);
    assert.deepEqual(c.feed.errors, [], msg);
    assert.ok(c.feed.minutes >= 115, `a forecast every trace minute; ${msg}`);
    assert.ok((c.totals.power_down_done ?? 0) >= 1, `it powered nodes down through scontrol; ${msg}`);
    assert.ok((pr.live.saved_pct ?? 0) > 10, `it saves energy against always-on; ${msg}`);
    assertTwin(pr, on, msg);
  });
});
