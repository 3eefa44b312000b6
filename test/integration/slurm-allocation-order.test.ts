/**
 * Where the real Slurm 22.05 (select/cons_tres, CR_Core, node[01-16] started by scripts/services/up.sh with the
 * power-save hooks) places a job among powered idle, booting and powered-down nodes, with node weights, two
 * partitions and shared (non-exclusive) jobs. Each case asserts the node list Slurm chose; the findings and the
 * replay's order are in docs/power.md ("Where Slurm places jobs among powered, booting and powered-down nodes").
 * The boot delay of the hooks (slurm/bin/power.env, read at every resume) is raised to 15 s for the booting
 * case and restored at the end; weights and partitions made here are removed again. About 70 s.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`); without it the tests FAIL with a hint.
 * PCM_SKIP_INTEGRATION=1 skips them explicitly.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allocated, cancelAndSettle, nodeStates, sbatch, slurm, waitFor } from '../../harness/slurm-cli.js';

const env = process.env;
const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/up.sh && source .pcm/services/env.sh ' +
  '(stop with bash scripts/services/down.sh), or set PCM_SKIP_INTEGRATION=1 to skip';
const NAME = `pcmorder${process.pid}`;
const job = (args: string[], script = 'sleep 300') => sbatch([`--job-name=${NAME}`, ...args], script);
const exclusive = (n: number, ...more: string[]) => job(['--exclusive', '-N', String(n), ...more]);
const scontrol = (...args: string[]) => slurm('scontrol', args);
const allIdle = () => [...nodeStates().values()].every((s) => s === 'idle');

describe('Slurm allocation order on the real Slurm', { skip: skipAll }, () => {
  let powerEnv = '';
  let powerEnvText = '';

  before(async () => {
    const missing = ['SLURM_CONF', 'PCM_SERVICES_DIR'].filter((k) => !env[k]);
    if (missing.length) throw new Error(`integration env missing (${missing.join(', ')}): ${HINT}`);
    if (nodeStates().size !== 16)
      throw new Error('expected the 16-node test cluster (PCM_SLURM_NODES unset)');
    const conf = scontrol('show', 'config');
    if (!/^SuspendExcNodes\s+=\s+\(null\)/m.test(conf) || !/^SuspendTime\s+=\s+3153600\d/m.test(conf)) {
      throw new Error('the test Slurm must run with the default SuspendTime (a year) and no SuspendExcNodes');
    }
    powerEnv = join(env.PCM_SERVICES_DIR as string, 'slurm', 'bin', 'power.env');
    powerEnvText = readFileSync(powerEnv, 'utf8');
    await waitFor('all 16 nodes idle before the test', allIdle, 90);
  });

  after(async () => {
    await cancelAndSettle(NAME).catch(() => undefined);
    if (powerEnvText) writeFileSync(powerEnv, powerEnvText);
    scontrol('update', 'nodename=node[01-16]', 'weight=1');
    for (const p of ['pa', 'pb']) spawnQuiet('scontrol', ['delete', `PartitionName=${p}`]);
    await waitFor('boots to finish', () => ![...nodeStates().values()].some((s) => /[#%!]$/.test(s)), 60);
    const off = [...nodeStates()].filter(([, s]) => s.endsWith('~')).map(([n]) => n);
    if (off.length) scontrol('update', `nodename=${off.join(',')}`, 'state=power_up');
    await waitFor('every node idle again', allIdle, 60);
  });

  it('powered idle nodes: lowest-numbered first, not the most recently freed; then the smallest run of consecutive nodes that fits', async () => {
    const short = job(['--exclusive', '-w', 'node05'], 'sleep 1');
    await allocated(short);
    await waitFor('the job on node05 to end', () => slurm('squeue', ['-h', '-j', short]).trim() === '');
    await cancelAndSettle(NAME);
    assert.equal(await allocated(exclusive(1)), 'node01', 'node05 was freed last, node01 is lower');
    await cancelAndSettle(NAME);
    // node04 and node07 busy: free runs [01-03] [05-06] [08-16]; a 2-node job takes the smallest run that fits
    await allocated(exclusive(1, '-w', 'node04'));
    await allocated(exclusive(1, '-w', 'node07'));
    assert.equal(
      await allocated(exclusive(2)),
      'node[05-06]',
      'best fit, not the lowest-numbered node[01-02]',
    );
    await cancelAndSettle(NAME);
  });

  it('node weights: the lowest Weight first; two partitions: the first listed partition that fits', async () => {
    scontrol('update', 'nodename=node[01-08]', 'weight=10');
    assert.equal(await allocated(exclusive(1)), 'node09');
    await cancelAndSettle(NAME);
    scontrol('update', 'nodename=node[01-08]', 'weight=1');
    scontrol('create', 'PartitionName=pa', 'Nodes=node[01-08]', 'State=UP');
    scontrol('create', 'PartitionName=pb', 'Nodes=node[09-16]', 'State=UP');
    assert.equal(await allocated(exclusive(1, '-p', 'pb,pa')), 'node09');
    assert.equal(await allocated(exclusive(1, '-p', 'pa,pb')), 'node01');
    assert.equal(await allocated(exclusive(2, '-p', 'pb')), 'node[10-11]');
    await cancelAndSettle(NAME);
    scontrol('delete', 'PartitionName=pa');
    scontrol('delete', 'PartitionName=pb');
  });

  it('shared jobs (CR_Core, no --exclusive): the node with the fewest free cores that fits, so partly used ones first', async () => {
    await allocated(job(['-n', '1', '-w', 'node05']));
    assert.equal(await allocated(job(['-n', '1'])), 'node05', 'node05 (3 cores free) before idle node01');
    assert.equal(await allocated(job(['-n', '3'])), 'node01', 'node05 has 2 left: the lowest idle node');
    assert.equal(await allocated(job(['-n', '1'])), 'node01', 'node01 has 1 left, node05 2');
    await cancelAndSettle(NAME);
  });

  it('powered (and booting) nodes before powered-down ones, whatever their weight or number', async () => {
    scontrol('update', 'nodename=node[01-06]', 'state=power_down');
    const off = ['node01', 'node02', 'node03', 'node04', 'node05', 'node06'];
    await waitFor('node[01-06] powered down', () => off.every((n) => nodeStates().get(n) === 'idle~'), 40);
    // powered-down node[01-06] weigh 1, powered node[07-16] 10: a powered node still comes first
    scontrol('update', 'nodename=node[07-16]', 'weight=10');
    assert.equal(await allocated(exclusive(1)), 'node07');
    await cancelAndSettle(NAME);
    scontrol('update', 'nodename=node[07-16]', 'weight=1');

    writeFileSync(powerEnv, powerEnvText.replace(/^BOOT_DELAY=.*$/m, 'BOOT_DELAY=15'));
    scontrol('update', 'nodename=node[04-06]', 'state=power_up');
    await waitFor('node[04-06] booting', () =>
      ['node04', 'node05', 'node06'].every((n) => /#$/.test(nodeStates().get(n) ?? '')),
    );
    writeFileSync(powerEnv, powerEnvText);
    // off [01-03], booting [04-06], powered idle [07-16]: booting nodes count as powered, one run [04-16]
    assert.equal(
      await allocated(exclusive(12)),
      'node[04-15]',
      'booting node04-06 taken, powered node16 left',
    );
    assert.ok(/#$/.test(nodeStates().get('node04') ?? ''), 'node04 was still booting');
    await cancelAndSettle(NAME);
    // 13 powered or booting, one more needed: the lowest-numbered powered-down node, not the adjacent node03
    assert.equal(await allocated(exclusive(14)), 'node[01,04-16]');
    await cancelAndSettle(NAME);
  });
});

function spawnQuiet(cmd: string, args: string[]): void {
  try {
    slurm(cmd, args);
  } catch {
    // already gone
  }
}
