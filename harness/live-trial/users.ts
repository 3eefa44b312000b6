/**
 * The trial users a live trial's jobs are submitted as (`sbatch --uid`, root only): system users without a
 * home or a login shell, made once on the test host (`useradd --system`), so that Slurm — and a controller
 * that follows users' submission chains — sees the trace's users as distinct users.
 */
import { spawnSync } from 'node:child_process';
import type { SimJob } from '../../src/sim/job.js';
import { slurm } from '../slurm-cli.js';
import { TRIAL_USER_PREFIX } from './stream.js';

export function ensureTrialUsers(jobs: readonly SimJob[]): void {
  const names = new Set<string>();
  for (const j of jobs) if (j.user !== null) names.add(j.user);
  for (const name of names) {
    if (!name.startsWith(TRIAL_USER_PREFIX))
      throw new Error(`trial user ${name}: expected ${TRIAL_USER_PREFIX}NN`);
    if (spawnSync('id', ['-u', name]).status === 0) continue;
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      encoding: 'utf8',
    });
    // a concurrent useradd may have made it meanwhile
    if (r.status !== 0 && spawnSync('id', ['-u', name]).status !== 0)
      throw new Error(`useradd ${name} failed: ${r.stderr.trim()} (the live trial needs root)`);
  }
}

/**
 * A trial user's job runs the script slurmd stored under SlurmdSpoolDir: every directory above it must be
 * searchable by that user (a checkout in a 0700 directory is not). Say so before the arm, not as jobs that
 * never start.
 */
export function checkTrialUsersCanRun(jobs: readonly SimJob[]): void {
  const user = jobs.find((j) => j.user !== null)?.user;
  if (!user) return;
  const m = /^SlurmdSpoolDir\s*=\s*(\S+)/m.exec(slurm('scontrol', ['show', 'config']));
  if (!m) return;
  const dir = m[1].replace(/%n.*$/, '').replace(/\/[^/]*$/, '');
  const r = spawnSync('runuser', ['-u', user, '--', 'test', '-x', dir]);
  if (r.status !== 0)
    throw new Error(
      `trial user ${user} cannot reach SlurmdSpoolDir ${m[1]} (a directory above it is not searchable by other users): run the trial from a checkout others may traverse`,
    );
}
