/**
 * A short live power trial on the real Slurm (harness/live-trial/, the bench is bench/studies/live-trial.ts):
 * a hand-made 2-trace-hour stream at scale 120 (one trace minute = 0.5 s, boots of 3 s = 360 trace s,
 * SuspendTime 600 s = 5 s), arms always-on and Slurm's reactive power saving, each measured from Slurm
 * (sinfo states, job scripts' own start times, slurmctld's allocation instants) and replayed by the twin.
 * Asserts real behaviour: reactive saves energy against always-on, jobs that hit powered-down nodes wait for
 * a boot (and none does under always-on), and the twin's saving is within 2 points of the live one plus what
 * the one timer that cannot be scaled can add: per boot, up to 30 real s of CONFIGURING (= 30·S trace s) with
 * the booted node counted busy instead of off.
 * Restarts the test Slurm per arm and leaves it with its defaults. About 3 minutes.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`) and root; PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArm } from '../../harness/live-trial/arms.js';
import type { TrialStream } from '../../harness/live-trial/stream.js';
import { runTrial } from '../../harness/live-trial/trial.js';
import { nodeStates } from '../../harness/slurm-cli.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import type { SimJob } from '../../src/sim/job.js';

const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const T0 = 1_000_000_000;

function job(id: string, atMin: number, nodes: number, runMin: number): SimJob {
  const runtime = runMin * 60;
  return {
    id,
    submit: T0 + atMin * 60,
    nodes,
    cpus: nodes,
    runtime,
    limit: runtime * 2,
    user: null,
    partition: null,
  };
}

// busy, then a long gap (nodes idle well past SuspendTime, powered down), then a small job that must boot one.
// Kept small on purpose: a job on booted nodes stays CONFIGURING until slurmctld's fixed 30 s check (= 60
// trace minutes here), with its nodes counted busy; see docs/benchmarks.md "Live trial on the test Slurm".
const stream: TrialStream = {
  jobs: [job('a', 1, 12, 10), job('b', 1, 4, 5), job('c', 40, 1, 5)],
  start: T0,
  end: T0 + 2 * 3600,
  util: 0,
};

describe('live power trial on the real Slurm', { skip: skipAll }, () => {
  it('reactive saves energy against always-on, boots delay the jobs that need them, the twin agrees', async () => {
    if (!env.SLURM_CONF || !env.PCM_SERVICES_DIR) {
      throw new Error('integration env missing: bash scripts/services/up.sh && source .pcm/services/env.sh');
    }
    if (nodeStates().size !== 16) throw new Error('expected the 16-node test cluster');
    const timing = { scale: 120, bootDelayS: 3, suspendTimeoutS: 1 };
    const [on, re] = await runTrial(stream, [parseArm('always_on'), parseArm('reactive')], timing, {
      nodes: 16,
      sampleS: 0.5,
    });
    const msg = JSON.stringify({ on, re });
    assert.equal(on.live.jobs_started, 3, msg);
    assert.equal(re.live.jobs_started, 3, msg);
    assert.equal(on.live.jobs_delayed, 0, `always-on: no job waits for a boot; ${msg}`);
    assert.equal(on.live.boots, 0, msg);
    assert.ok((re.live.saved_pct ?? 0) > 10, `reactive saves energy; ${msg}`);
    assert.ok(re.live.boots >= 1, `job c boots a powered-down node; ${msg}`);
    assert.ok(re.live.jobs_delayed >= 1, `job c waits for its boot; ${msg}`);
    assert.ok(re.live.mean_boot_wait_s > 0, msg);
    const twin = re.twin.slurm;
    assert.ok(twin && twin.saved_pct !== null, msg);
    // slurmctld's fixed 30 s CONFIGURING check is not scaled: per boot up to 30·S trace s busy instead of off
    const m = DEFAULT_POWER_MODEL;
    const unscaledJ = re.live.boots * 30 * timing.scale * (m.busyW - m.offW);
    const bound = 2 + (100 * unscaledJ) / (on.live.energy_kwh * 3.6e6);
    const gap = Math.abs((twin.saved_pct ?? 0) - (re.live.saved_pct ?? 0));
    assert.ok(gap < bound, `twin within ${bound.toFixed(1)} points (gap ${gap.toFixed(1)}); ${msg}`);
    assert.ok(twin.jobs_delayed >= 1, msg);
  });
});
