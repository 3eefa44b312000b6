import type { OpenOptions } from '../jobs/source.js';
import type { Config } from './schema.js';

/** The Slurm DB source's connection options from the config's `SlurmDB` section (cluster aside). */
export function slurmDbOpenOptions(
  db: Config['SlurmDB'],
): Pick<OpenOptions, 'password' | 'batchRows' | 'queryTimeoutMs' | 'tls'> {
  return {
    password: db.Password,
    batchRows: db.BatchRows,
    queryTimeoutMs: db.QueryTimeoutSeconds * 1000,
    tls: db.TLS ? { caFile: db.TLS.CAFile, verify: db.TLS.Verify } : undefined,
  };
}
