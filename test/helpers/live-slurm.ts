/**
 * What the power integration tests (power-advise, power-run) share on the real test Slurm started by
 * scripts/services/up.sh: the Slurm client commands with the env up.sh wrote, node states, waiting, a
 * job's accounting record, a saved forecast, the `pcm` CLI as a child process, and putting the cluster back
 * (jobs cancelled, node04 resumed, every node powered up and idle).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = join(import.meta.dirname, '..', '..');
export const env = process.env;
export const skipAll = env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/install.sh && bash scripts/services/up.sh && ' +
  'source .pcm/services/env.sh (stop with bash scripts/services/down.sh), or set PCM_SKIP_INTEGRATION=1 to skip';

export function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...env, SLURM_TIME_FORMAT: '%s' } });
}

/** node -> sinfo %T (e.g. idle~, allocated, drained). */
export function states(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of slurm('sinfo', ['-h', '-N', '-o', '%N|%T']).trim().split('\n')) {
    const [n, s] = line.split('|');
    m.set(n, s);
  }
  return m;
}

export async function waitFor(what: string, ok: () => boolean, timeoutS = 60): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  while (!ok()) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutS} s waiting for ${what}; sinfo: ${[...states()].join(' ')}`);
    }
    await sleep(500);
  }
}

/** The env up.sh writes, the power-save hooks on and no SuspendExcNodes; then every node idle. */
export async function checkPowerSlurm(): Promise<void> {
  const missing = ['SLURM_CONF', 'PCM_TEST_SLURM_CLUSTER'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`integration env missing (${missing.join(', ')}): ${HINT}`);
  const conf = slurm('scontrol', ['show', 'config']);
  if (/^SuspendProgram\s+=\s+\(null\)/m.test(conf) || /^SuspendTime\s+=\s+(INFINITE|NONE)/m.test(conf)) {
    throw new Error(
      `the test Slurm runs without the power-save hooks (SuspendProgram unset or SuspendTime INFINITE): restart it with the current scripts/services/slurm.sh (bash scripts/services/down.sh && bash scripts/services/up.sh)`,
    );
  }
  if (!/^SuspendExcNodes\s+=\s+\(null\)/m.test(conf)) {
    throw new Error('the test Slurm has SuspendExcNodes set: start it without PCM_SLURM_SUSPEND_EXC');
  }
  // jobs cancelled by an earlier test leave nodes `completing` or `planned` (backfill plans) for a while
  await waitFor(
    '>= 12 nodes, all idle, before the test',
    () => {
      const s = states();
      return s.size >= 12 && [...s.values()].every((st) => st === 'idle');
    },
    90,
  );
}

/** A saved forecast in `dir`: 30 minutes from now of the given P90. */
export function forecastFile(dir: string, p90: number): string {
  const t0 = Math.floor(Date.now() / 60_000) * 60;
  const timestamps = Array.from({ length: 30 }, (_, i) => new Date((t0 + 60 * (i + 1)) * 1000).toISOString());
  const f = join(dir, `forecast-${p90}.json`);
  writeFileSync(
    f,
    JSON.stringify({ origin: new Date(t0 * 1000).toISOString(), timestamps, p90: timestamps.map(() => p90) }),
  );
  return f;
}

/** `pcm ARGS` from the checkout (tsx), synchronously. */
export function pcm(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, PCM_NO_PROGRESS: '1', ...extraEnv },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `pcm ARGS` as a child process without blocking this one (which may be serving what the child asks). */
export function pcmAsync(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const ch = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...env, PCM_NO_PROGRESS: '1', ...extraEnv },
    });
    let out = '';
    let err = '';
    ch.stdout.on('data', (d) => {
      out += d;
    });
    ch.stderr.on('data', (d) => {
      err += d;
    });
    ch.once('exit', (code) => resolve({ code, out, err }));
  });
}

/** The job's accounting record: JobID|State|NodeList|Start|AllocNodes (one line per attempt with -D). */
export function sacct(id: string): string[] {
  return slurm('sacct', ['-n', '-P', '-X', '-D', '-j', id, '-o', 'JobID,State,NodeList,Start,AllocNodes'])
    .trim()
    .split('\n');
}

/** sbatch a `sleep` job named `name` on `nodes` (a hostlist) of `n` nodes; returns its id once RUNNING. */
export async function runningJob(name: string, n: number, nodes: string): Promise<string> {
  const job = slurm('sbatch', [
    '--parsable',
    `--job-name=${name}`,
    '--output=/dev/null',
    '-N',
    String(n),
    '--exclusive',
    '-w',
    nodes,
    '--wrap',
    'sleep 600',
  ])
    .trim()
    .split(';')[0];
  await waitFor(
    `job ${job} running`,
    () => slurm('squeue', ['-h', '-j', job, '-o', '%T']).trim() === 'RUNNING',
  );
  return job;
}

/** Cancel the jobs named `name`, resume node04, power every node up and wait until all are idle. */
export async function restoreCluster(name: string): Promise<void> {
  spawnSync('scancel', ['-n', name], { env });
  spawnSync('scontrol', ['update', 'nodename=node04', 'state=resume'], { env });
  // a node still powering down must finish first; power_up on it then resumes it
  await waitFor('power-downs to finish', () => ![...states().values()].some((st) => /[%!]$/.test(st)), 60);
  const off = [...states()].filter(([, st]) => /~$/.test(st)).map(([n]) => n);
  if (off.length) spawnSync('scontrol', ['update', `nodename=${off.join(',')}`, 'state=power_up'], { env });
  await waitFor('every node idle again', () => [...states().values()].every((st) => st === 'idle'), 90);
}
