import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { ReadyWatcher } from '../../harness/live-trial/ready-watch.js';
import { rescaleNodes, trialStream } from '../../harness/live-trial/stream.js';
import { expand } from '../../src/jobs/hostlist.js';
import type { SimJob } from '../../src/sim/job.js';

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
    assert.deepEqual(parseArm('reactive2400'), { name: 'reactive2400', suspendTimeS: 2400, excNodes: 0 });
    assert.deepEqual(parseArm('reactive1200_exc1'), {
      name: 'reactive1200_exc1',
      suspendTimeS: 1200,
      excNodes: 1,
    });
    assert.equal(parseArm('predictive').predictive, true);
    assert.equal(parseArm('predictive').suspendTimeS, null, "Slurm's own power saving is off");
    assert.throws(
      () => parseArm('sometimes'),
      /arm: expected always_on, reactive\[<SuspendTime s>\]\[_exc<N>\], predictive or external:<command>/,
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

describe('live trial streams and the configuring lag (harness/live-trial/)', () => {
  it("the slice's users become trial users one to one; the days before it are kept as history", () => {
    const h = 3600;
    const j = (id: string, submit: number, user: string | null, nodes = 10): SimJob => ({
      id,
      submit,
      nodes,
      cpus: nodes,
      runtime: 600,
      limit: 1200,
      user,
      partition: null,
    });
    const T = 100 * 86400;
    const jobs = [j('old', T - 40 * 86400, 'u9'), j('h', T - h, 'u1'), j('a', T, 'u7'), j('b', T + 60, 'u3')];
    jobs.push(j('c', T + 120, 'u7'), j('d', T + 180, null), j('late', T + 3 * h, 'u1'));
    const s = trialStream(jobs, { fromNodes: 100, toNodes: 16, hours: 2, targetUtil: 0.5, start: T });
    assert.deepEqual(
      s.jobs.map((x) => [x.id, x.user, x.nodes, x.cpus]),
      [
        ['a', 'pcmt01', 2, 2],
        ['b', 'pcmt02', 2, 2],
        ['c', 'pcmt01', 2, 2],
        ['d', null, 2, 2],
      ],
    );
    assert.deepEqual(
      s.history?.map((x) => x.id),
      ['h'],
      'the default 28 days of history: the job 40 days before is left out',
    );
  });

  it("a job's ready instant is the last of its nodes up after its allocation, written as slurmctld logs it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-ready-'));
    const log = join(dir, 'slurmctld.log');
    writeFileSync(log, '[2026-12-07T11:00:00.000] Node node03 now responding\n');
    const w = new ReadyWatcher(log, dir);
    appendFileSync(
      log,
      [
        '[2026-12-07T11:58:21.556] sched: Allocate JobId=364 NodeList=node[03-04] #CPUs=8 Partition=debug',
        '[2026-12-07T11:58:22.000] sched: Allocate JobId=365 NodeList=node05 #CPUs=4 Partition=debug',
        '[2026-12-07T11:58:26.100] Node node04 now responding',
        '[2026-12-07T11:58:27.5',
      ].join('\n'),
    );
    w.poll();
    const at = (id: string) => Number(readFileSync(join(dir, `${id}.ready`), 'utf8'));
    assert.equal(at('364'), Date.parse('2026-12-07T11:58:26.100') / 1000);
    // a line split across polls is read whole; node03's answer before the allocation never counted
    appendFileSync(log, '68] Node node03 now responding\n');
    w.poll();
    assert.equal(at('364'), Date.parse('2026-12-07T11:58:27.568') / 1000);
    assert.equal(
      existsSync(join(dir, '365.ready')),
      false,
      'node05 was up: no ready file, the job runs from its start',
    );
    // node04 powered down and booted again later (another cycle): not this job's boot
    appendFileSync(log, '[2026-12-07T12:30:00.000] Node node04 now responding\n');
    w.poll();
    assert.equal(at('364'), Date.parse('2026-12-07T11:58:27.568') / 1000);
  });
});
