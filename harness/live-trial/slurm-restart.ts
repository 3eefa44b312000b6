/**
 * Restart the test Slurm (scripts/services/slurm.sh; MariaDB stays up) with other PCM_SLURM_* settings, on the
 * ports the running one uses: they are read back from its slurm.conf and slurmdbd.conf, so a private stack
 * (own PCM_SERVICES_DIR and ports) stays private even when only the env written by up.sh is at hand.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SLURM_SH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'services', 'slurm.sh');

function key(text: string, name: string, file: string): string {
  const m = new RegExp(`^${name}=(\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`${file}: no ${name}= line, expected one written by scripts/services/slurm.sh`);
  return m[1];
}

/** The PCM_* port variables of the running test Slurm, from its config files. */
export function portsOfRunningSlurm(slurmConf: string): Record<string, string> {
  const conf = readFileSync(slurmConf, 'utf8');
  const dbdFile = join(dirname(slurmConf), 'slurmdbd.conf');
  const dbd = readFileSync(dbdFile, 'utf8');
  const base = /^NodeName=.* Port=\[(\d+)-\d+\]/m.exec(conf) ?? /^NodeName=.* Port=(\d+)/m.exec(conf);
  if (!base) throw new Error(`${slurmConf}: no NodeName line with Port=, expected one written by slurm.sh`);
  return {
    PCM_SLURMCTLD_PORT: key(conf, 'SlurmctldPort', slurmConf),
    PCM_SLURMD_PORT: key(conf, 'SlurmdPort', slurmConf),
    PCM_SLURMDBD_PORT: key(conf, 'AccountingStoragePort', slurmConf),
    PCM_SLURMD_BASE_PORT: base[1],
    PCM_MYSQL_PORT: key(dbd, 'StoragePort', dbdFile),
  };
}

/** Stop and start slurm.sh with `settings` (PCM_SLURM_* variables; others of the caller's env are dropped). */
export function restartSlurm(settings: Record<string, string>): void {
  const slurmConf = process.env.SLURM_CONF;
  const dir = process.env.PCM_SERVICES_DIR;
  if (!slurmConf || !dir)
    throw new Error('SLURM_CONF and PCM_SERVICES_DIR must be set (source the env up.sh wrote)');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PCM_SLURM_')) env[k] = v;
  Object.assign(env, portsOfRunningSlurm(slurmConf), settings, { PCM_SERVICES_DIR: dir });
  for (const cmd of ['stop', 'start']) {
    const r = spawnSync('bash', [SLURM_SH, cmd], { env, encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`slurm.sh ${cmd} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}
