/**
 * The Slurm client commands on the test cluster (SLURM_CONF from the env that scripts/services/up.sh writes):
 * sbatch, squeue, sinfo, scontrol, scancel, run synchronously. Shared by the integration tests on the real
 * Slurm and the live power trial (bench/studies/live-trial.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Run a Slurm client command; times as epoch seconds. Throws with the command's stderr on failure. */
export function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, SLURM_TIME_FORMAT: '%s' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** node -> sinfo %T (idle, idle~, idle#, allocated#, completing, ...). */
export function nodeStates(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of slurm('sinfo', ['-h', '-N', '-o', '%N|%T']).trim().split('\n')) {
    const [n, s] = line.split('|');
    if (n) m.set(n, s);
  }
  return m;
}

/** Poll `ok` every `everyMs` until it holds; throws naming `what` and the node states after `timeoutS`. */
export async function waitFor(what: string, ok: () => boolean, timeoutS = 60, everyMs = 250): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  while (!ok()) {
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutS} s waiting for ${what}; sinfo: ${[...nodeStates()].join(' ')}`,
      );
    }
    await sleep(everyMs);
  }
}

/** Submit a batch job (`--parsable`); returns its id. `args` are sbatch options, `script` the --wrap text. */
export function sbatch(args: string[], script: string): string {
  return slurm('sbatch', ['--parsable', '--output=/dev/null', ...args, '--wrap', script])
    .trim()
    .split(';')[0];
}

/** The job's node list as squeue prints it (empty while pending). */
export function jobNodes(id: string): string {
  return slurm('squeue', ['-h', '-j', id, '-o', '%N']).trim();
}

/** Wait until the job has its nodes (allocated: CONFIGURING while they boot, or RUNNING); returns the list. */
export async function allocated(id: string, timeoutS = 30): Promise<string> {
  let nodes = '';
  await waitFor(
    `job ${id} to be allocated`,
    () => {
      nodes = jobNodes(id);
      return nodes !== '';
    },
    timeoutS,
  );
  return nodes;
}

/** Cancel jobs by name (ours only) and wait until none is left and no node is completing. */
export async function cancelAndSettle(name: string, timeoutS = 60): Promise<void> {
  spawnSync('scancel', ['-n', name], { env: process.env });
  await waitFor(
    `jobs named ${name} to end and no node completing`,
    () =>
      slurm('squeue', ['-h', '-n', name, '-o', '%i']).trim() === '' &&
      ![...nodeStates().values()].some((s) => s.startsWith('completing') || s.startsWith('mixed')),
    timeoutS,
  );
}
