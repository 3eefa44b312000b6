/**
 * `pcm extract --config FILE` reads the SlurmDB section (URL when no input is named, Cluster, BatchRows,
 * the password with PCM_SLURMDB_PASSWORD winning) and `--batch-rows N` overrides BatchRows. That the
 * batch size reaches the queries is checked against a real MariaDB in
 * test/integration/extract-batch-rows.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../harness/net.js';
import { withConfig } from '../../src/cli/commands/extract.js';
import { UserError } from '../../src/util/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pcm-extract-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, slurmdb: string): string {
  const p = join(dir, name);
  writeFileSync(p, `SlurmDB:\n${slurmdb}`);
  return p;
}

const base = { tz: 'UTC', out: join(dir, 'jobs.csv') };

describe('withConfig (the SlurmDB section for pcm extract)', () => {
  const cfg = configFile(
    'a.yaml',
    '  URL: "mysql://reader@db.example.org:3306/slurm_acct_db"\n  Cluster: hpc\n  BatchRows: 777\n  Password: from-file\n',
  );

  it('takes URL, Cluster, BatchRows and Password when the command line does not say', () => {
    const o = withConfig({ ...base, config: cfg }, {});
    assert.equal(o.slurmdb, 'mysql://reader@db.example.org:3306/slurm_acct_db');
    assert.equal(o.cluster, 'hpc');
    assert.equal(o.batchRows, 777);
    assert.equal(o.password, 'from-file');
  });

  it('the command line wins over the file, the environment over the file password', () => {
    const o = withConfig(
      { ...base, config: cfg, slurmdb: 'mysql://other@h/db', cluster: 'c2', batchRows: 50 },
      { PCM_SLURMDB_PASSWORD: 'from-env' },
    );
    assert.equal(o.slurmdb, 'mysql://other@h/db');
    assert.equal(o.cluster, 'c2');
    assert.equal(o.batchRows, 50);
    assert.equal(o.password, 'from-env');
  });

  it('a file input is kept; the Slurm DB URL is not used then', () => {
    const o = withConfig({ ...base, config: cfg, swf: 'x.swf' }, {});
    assert.equal(o.slurmdb, undefined);
    assert.equal(o.cluster, undefined);
  });

  it('without --config nothing changes; a config without SlurmDB.URL and no input is a clear error', () => {
    assert.deepEqual(withConfig({ ...base, swf: 'x.swf' }, {}), { ...base, swf: 'x.swf' });
    const empty = configFile('b.yaml', '  BatchRows: 10\n');
    assert.throws(
      () => withConfig({ ...base, config: empty }, {}),
      (e: unknown) => e instanceof UserError && /set SlurmDB\.URL in .*b\.yaml/.test(e.message),
    );
    const bad = configFile('c.yaml', '  BatchRows: 0\n');
    assert.throws(() => withConfig({ ...base, config: bad }, {}), /SlurmDB\.BatchRows/);
  });
});

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'extract', ...args],
      { cwd: ROOT, env: { ...process.env, PCM_DEBUG: '', PCM_SLURMDB_PASSWORD: '', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    );
  });
}

describe('pcm extract --config / --batch-rows', () => {
  it('reads the Slurm DB URL from the config (the error names its host and port, never the password)', async () => {
    const port = await freePort();
    const secret = 'Pw:with@special/chars';
    const cfg = configFile(
      'd.yaml',
      `  URL: "mysql://reader@127.0.0.1:${port}/slurm_acct_db"\n  Cluster: hpc\n  BatchRows: 500\n`,
    );
    const out = join(dir, 'none.csv');
    const r = await cli(['--config', cfg, '--out', out], { PCM_SLURMDB_PASSWORD: secret });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^pcm: .*127\\.0\\.0\\.1:${port}`));
    assert.ok(!r.stderr.includes(secret) && !r.stderr.includes(encodeURIComponent(secret)));
    assert.equal(r.stdout, '');
  });

  it('refuses a bad --batch-rows, and --batch-rows with a file input, in one line', async () => {
    const out = ['--out', join(dir, 'x.csv')];
    for (const [args, msg] of [
      [
        ['--batch-rows', '0', '--slurmdb', 'mysql://r@h/db', '--cluster', 'c'],
        /--batch-rows: expected a positive whole number up to 1000000, got '0'/,
      ],
      [
        ['--batch-rows', '1000001', '--slurmdb', 'mysql://r@h/db', '--cluster', 'c'],
        /up to 1000000, got '1000001'/,
      ],
      [
        ['--batch-rows', '2.5', '--slurmdb', 'mysql://r@h/db', '--cluster', 'c'],
        /--batch-rows: expected a positive whole number/,
      ],
      [['--batch-rows', '10', '--swf', 'x.swf'], /--batch-rows applies to the Slurm DB \(--slurmdb\) only/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli([...args, ...out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
