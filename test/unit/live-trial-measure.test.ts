import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArm, slurmEnv } from '../../harness/live-trial/arms.js';
import {
  allocations,
  allocationTimes,
  drawClass,
  readyAt,
  respondingTimes,
  StateIntegrator,
} from '../../harness/live-trial/measure.js';
import { rescaleNodes } from '../../harness/live-trial/stream.js';
import { expand } from '../../src/jobs/hostlist.js';

describe('live trial measurements (harness/live-trial/)', () => {
  it('sinfo states to draw classes', () => {
    const got = [
      'idle',
      'idle~',
      'idle#',
      'allocated#',
      'idle%',
      'allocated',
      'mixed',
      'completing',
      'idle!',
    ].map(drawClass);
    assert.deepEqual(got, ['idle', 'off', 'boot', 'boot', 'idle', 'busy', 'busy', 'busy', 'idle']);
  });

  it('node-seconds held between samples, clipped to the window; boots and power-downs counted', () => {
    const i = new StateIntegrator();
    i.sample(
      0,
      new Map([
        ['a', 'idle'],
        ['b', 'allocated'],
      ]),
      1,
      10,
    );
    i.sample(
      2,
      new Map([
        ['a', 'idle~'],
        ['b', 'allocated'],
      ]),
      1,
      10,
    );
    i.sample(
      5,
      new Map([
        ['a', 'idle#'],
        ['b', 'idle'],
      ]),
      1,
      10,
    );
    i.sample(
      12,
      new Map([
        ['a', 'idle'],
        ['b', 'idle'],
      ]),
      1,
      10,
    );
    assert.deepEqual(i.seconds, { idle: 1 + 5, busy: 1 + 3, off: 3, boot: 5 });
    assert.equal(i.powerDowns, 1);
    assert.equal(i.boots, 1);
  });

  it('allocation instants from both slurmctld log lines (main scheduler and backfill)', () => {
    const log = [
      '[2026-12-07T11:51:25.697] sched/backfill: _start_job: Started JobId=142 in debug on node01',
      '[2026-12-07T11:51:29.042] sched: Allocate JobId=145 NodeList=node[02-04] #CPUs=12 Partition=debug',
    ].join('\n');
    const m = allocationTimes(log);
    assert.equal(m.size, 2);
    assert.ok(Math.abs((m.get('145') ?? 0) - (m.get('142') ?? 0) - 3.345) < 1e-3);
  });

  it('arms and their scaled Slurm settings', () => {
    const env = slurmEnv(parseArm('reactive_exc2'), { scale: 60, bootDelayS: 5, suspendTimeoutS: 1 }, 16);
    assert.equal(env.PCM_SLURM_SUSPEND_TIME, '10');
    assert.equal(env.PCM_SLURM_SUSPEND_EXC, 'node[01-16]:2');
    assert.equal(env.PCM_SLURM_SCHED_PARAMS, 'bf_interval=1,sched_interval=1');
    assert.equal(
      slurmEnv(parseArm('always_on'), { scale: 60, bootDelayS: 5, suspendTimeoutS: 1 }, 16)
        .PCM_SLURM_SUSPEND_TIME,
      '31536000',
    );
    assert.throws(
      () => parseArm('sometimes'),
      /arm: expected always_on, reactive, reactive_exc<N> or external:<command>/,
    );
    assert.equal(rescaleNodes(100, 100, 16), 16);
    assert.equal(rescaleNodes(1, 100, 16), 1);
    assert.equal(rescaleNodes(10, 100, 16), 2);
  });
});

describe('live trial boot waits (harness/live-trial/measure.ts)', () => {
  it('the job is ready when the last of its booted nodes responds; nodes already up do not count', () => {
    const log = [
      '[2026-12-07T11:58:21.556] sched: Allocate JobId=364 NodeList=node[03-04] #CPUs=8 Partition=debug',
      '[2026-12-07T11:58:10.000] Node node04 now responding',
      '[2026-12-07T11:58:27.568] Node node03 now responding',
    ].join('\n');
    const a = allocations(log).get('364');
    assert.equal(a?.nodes, 'node[03-04]');
    const t = a?.t ?? 0;
    const ready = readyAt(expand(a?.nodes ?? ''), t, t + 30, respondingTimes(log));
    assert.ok(Math.abs(ready - t - 6.012) < 1e-3);
    assert.equal(readyAt(['node04'], t, t + 30, respondingTimes(log)), t);
  });
});
