/**
 * `pcm power advise` against the real single-host Slurm 22.05 (node[01-16], cluster pcmtest) started by
 * scripts/services/up.sh, whose power-save hooks stop/start a node's slurmd (SuspendTime is a year, so only
 * manual power_down/power_up act). With a 3-node job running on node[01-03] and node04 drained:
 * - a forecast of 3 busy nodes: `--apply` powers down all idle nodes of node[05-16] but one, those idle
 *   longest first (which ones depends on the jobs earlier tests ran), and they reach `idle~` in sinfo; the
 *   job stays RUNNING on its nodes with its sacct record unchanged; node04 is refused as drained;
 * - then a forecast of 8 busy nodes: `--apply` powers up the 5 lowest-numbered of them, which return to `idle`.
 * The cluster is restored at the end (job cancelled, node04 resumed, every node powered up and idle).
 * Takes about 30-60 s.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); without it the tests FAIL with a hint.
 * PCM_SKIP_INTEGRATION=1 skips them explicitly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compress, expand } from '../../src/jobs/hostlist.js';
import {
  checkPowerSlurm,
  forecastFile,
  pcm,
  restoreCluster,
  runningJob,
  sacct,
  skipAll,
  slurm,
  states,
  waitFor,
} from '../helpers/live-slurm.js';

const NAME = `pcmh14${process.pid}`; // job name, to cancel only ours
const dir = mkdtempSync(join(tmpdir(), 'pcm-advise-it-'));
const forecast = (p90: number) => forecastFile(dir, p90);
const advise = (...args: string[]) => pcm(['power', 'advise', '--config', join(dir, 'pcm.yaml'), ...args]);

describe('pcm power advise on the real Slurm', { skip: skipAll }, () => {
  let job = '';

  before(async () => {
    await checkPowerSlurm();
    writeFileSync(
      join(dir, 'pcm.yaml'),
      `Power:\n  BootSeconds: 5\n  ShutdownSeconds: 10\n  WarmPoolMargin: 1\n  Predictive:\n    IntervalSeconds: 60\n  Run:\n    ApplyGroupSize: 64\n    StateDir: ${join(dir, 'state')}\n`,
    );
    job = await runningJob(NAME, 3, 'node[01-03]');
    slurm('scontrol', ['update', 'nodename=node04', 'state=drain', 'reason=pcm-advise-test']);
  });

  after(async () => {
    try {
      await restoreCluster(NAME);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('powers down idle nodes, never the job nodes or the drained one, then powers nodes up for rising demand', async () => {
    const n = states().size;
    const last = `node${String(n).padStart(2, '0')}`;
    // slurmdbd hears of the start a moment after slurmctld
    await waitFor(`sacct to show job ${job} running`, () => sacct(job)[0]?.split('|')[1] === 'RUNNING', 30);
    const record = sacct(job);
    assert.equal(record.length, 1, record.join('\n'));
    assert.match(record[0], new RegExp(`^${job}\\|RUNNING\\|node\\[01-03\\]\\|\\d+\\|3$`));

    // dry run: the commands are printed, nothing changes. Demand 3 + margin 1 = 4 nodes available: of the
    // idle node05..N all but one power down, those idle longest first (LastBusyTime, which earlier tests set)
    const low = forecast(3);
    const plan = JSON.parse(advise('--forecast', low, '--json').out);
    assert.equal(plan.commands.length, 1, JSON.stringify(plan.commands));
    const hostlist: string = plan.commands[0].hostlist;
    const planned = expand(hostlist);
    const idle = expand(`node[05-${last.slice(4)}]`);
    assert.equal(planned.length, idle.length - 1, hostlist);
    assert.ok(
      planned.every((x) => idle.includes(x)),
      hostlist,
    );
    const kept = idle.find((x) => !planned.includes(x)) as string;
    const dry = advise('--forecast', low);
    assert.equal(dry.code, 0, dry.err);
    assert.ok(dry.out.includes(`scontrol update nodename=${hostlist} state=power_down`), dry.out);
    assert.match(dry.out, /node04: drained/);
    assert.match(dry.out, /node\[01-03\]: allocated/);
    assert.ok([...states().values()].every((st) => !st.endsWith('~')));

    // apply: the same nodes power down, the job's and the drained node are refused
    const down = advise('--forecast', low, '--apply', '--json');
    assert.equal(down.code, 0, down.err);
    const a = JSON.parse(down.out);
    assert.equal(a.applied, true);
    assert.deepEqual(
      a.commands.map((c: { argv: string[] }) => c.argv.join(' ')),
      [`scontrol update nodename=${hostlist} state=power_down`],
    );
    const why = new Map(a.nodes.map((x: { name: string; why: string }) => [x.name, x.why]));
    assert.equal(why.get('node04'), 'drained');
    assert.equal(why.get('node01'), 'allocated');
    await waitFor('powered-down nodes to reach idle~', () => {
      const s = states();
      return planned.every((x) => s.get(x) === 'idle~');
    });
    let s = states();
    for (const x of ['node01', 'node02', 'node03']) assert.equal(s.get(x), 'allocated', x);
    assert.equal(s.get('node04'), 'drained');
    assert.equal(s.get(kept), 'idle');
    assert.equal(slurm('squeue', ['-h', '-j', job, '-o', '%T|%N']).trim(), 'RUNNING|node[01-03]');

    // demand rises to 8: 9 available wanted, 4 there -> the 5 lowest-numbered powered-down nodes boot
    const boot = planned.slice(0, 5);
    const up = advise('--forecast', forecast(8), '--apply', '--json');
    assert.equal(up.code, 0, up.err);
    const b = JSON.parse(up.out);
    assert.deepEqual(
      b.commands.map((c: { argv: string[] }) => c.argv.join(' ')),
      [`scontrol update nodename=${compress(boot)} state=power_up`],
    );
    await waitFor('powered-up nodes to return to idle', () => {
      const st = states();
      return boot.every((x) => st.get(x) === 'idle');
    });
    s = states();
    for (const x of planned.slice(5)) assert.equal(s.get(x), 'idle~', x);
    for (const x of ['node01', 'node02', 'node03']) assert.equal(s.get(x), 'allocated', x);

    // the job never noticed: same single accounting record, still running on its nodes
    assert.deepEqual(sacct(job), record);
  });
});
