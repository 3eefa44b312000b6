/**
 * A PRIVATE MariaDB for integration tests that must start, kill or fill a server without touching the
 * shared one: scripts/services/mariadb.sh with its own PCM_SERVICES_DIR and a free port. Needs mariadbd /
 * mariadb-install-db (scripts/services/install.sh) and root, like the other services.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

export class PrivateMariaDb {
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}
  get socket(): string {
    return join(this.dir, 'mariadb', 'run', 'mysqld.sock');
  }
  get pid(): number {
    return Number(readFileSync(join(this.dir, 'mariadb', 'run', 'mysqld.pid'), 'utf8').trim());
  }
  private env(keep: boolean): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PCM_SERVICES_DIR: this.dir,
      PCM_MYSQL_PORT: String(this.port),
      PCM_SERVICES_KEEP_DATA: keep ? '1' : '0',
    };
  }
  /** Start (keep = reuse the data directory, as after a crash). */
  async start(keep: boolean): Promise<void> {
    await run('bash', [join(ROOT, 'scripts/services/mariadb.sh'), 'start'], { env: this.env(keep) });
  }
  async stop(): Promise<void> {
    await run('bash', [join(ROOT, 'scripts/services/mariadb.sh'), 'stop'], { env: this.env(true) });
  }
  async running(): Promise<boolean> {
    try {
      await run('bash', [join(ROOT, 'scripts/services/mariadb.sh'), 'status'], { env: this.env(true) });
      return true;
    } catch {
      return false;
    }
  }
  /** Clean shutdown, without waiting (the server ends the running queries). */
  shutdown(): Promise<unknown> {
    return run('mariadb-admin', ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'shutdown']);
  }
  root(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: this.socket, user: 'root', database });
  }
}

/**
 * On a root connection: database slurm_acct_db with the tables a real slurmdbd 22.05 made for cluster
 * pcmtest (test/fixtures/slurmdb/pcmtest-schema.sql), a read-only `user` with `password` (from 127.0.0.1 and
 * localhost), and one cluster event row (128 nodes). Leaves the connection on slurm_acct_db.
 */
export async function createSlurmAccounting(
  c: mysql.Connection,
  user: string,
  password: string,
): Promise<void> {
  await c.query('CREATE DATABASE IF NOT EXISTS slurm_acct_db');
  await c.query('USE slurm_acct_db');
  const ddl = readFileSync(join(ROOT, 'test/fixtures/slurmdb/pcmtest-schema.sql'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const stmt of ddl) await c.query(stmt);
  for (const host of ['127.0.0.1', 'localhost']) {
    await c.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY ?`, [password]);
    await c.query(`GRANT SELECT ON slurm_acct_db.* TO '${user}'@'${host}'`);
  }
  await c.query(
    'INSERT INTO pcmtest_event_table (time_start, node_name, cluster_nodes, reason, tres) ' +
      "VALUES (1700000000, '', 'cn[001-128]', '', '1=512,2=512000,4=128,5=512')",
  );
}
