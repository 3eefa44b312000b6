/**
 * `pcm collect --once` (child process) against the real Slurm of scripts/services/up.sh (SLURM_CONF) and an
 * InfluxDB that fails: nothing listening, then a PRIVATE influxd 1.6 with auth enabled (free ports, its
 * own directory; the shared one is never touched) given a wrong password and a wrong token, then the right
 * password. The secrets are full of URL and shell special characters. A failure exits non-zero and its
 * reason is one line that names the InfluxDB without any secret; the right password writes the row.
 *
 * Needs the env written by up.sh (`source .pcm/services/env.sh`): SLURM_CONF. PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../harness/net.js';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const HINT =
  'start the services first: bash scripts/services/up.sh && source .pcm/services/env.sh, ' +
  'or set PCM_SKIP_INTEGRATION=1 to skip';
const PASSWORD = `Pw@1:/#%'"x ;&$`;
const WRONG = `Wr@ng:/#%'"y`;
const TOKEN = `Tok@:/#%'"z`;
const SECRETS = [PASSWORD, WRONG, TOKEN, encodeURIComponent(PASSWORD), encodeURIComponent(WRONG)];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'collect', '--once', '--cluster', 'faults'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PCM_INFLUX_URL: '',
          PCM_INFLUX_TOKEN: '',
          PCM_INFLUX_USERNAME: '',
          PCM_INFLUX_PASSWORD: '',
          PCM_DEBUG: '',
          ...env,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: number }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Non-zero; the row summary, then one line with the reason; no secret anywhere. */
function checkFailure(r: Run, reason: RegExp): string {
  assert.ok(r.code !== 0 && r.code !== null && r.code !== 70, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const last = lines[lines.length - 1];
  assert.match(last, /^pcm: /);
  assert.match(last, reason);
  for (const l of lines.slice(0, -1)) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\dZ faults\/_all: busy /, l);
  for (const s of SECRETS) assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s), 'a secret was printed');
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  return last;
}

describe('pcm collect with a failing InfluxDB and secrets (real Slurm)', { skip }, () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let url = '';

  before(async () => {
    if (!process.env.SLURM_CONF) throw new Error(`integration env missing (SLURM_CONF): ${HINT}`);
    dir = mkdtempSync(join(tmpdir(), 'pcm-faults-influx-'));
    const http = await freePort();
    const rpc = await freePort();
    url = `http://127.0.0.1:${http}`;
    writeFileSync(
      join(dir, 'influxdb.conf'),
      `reporting-enabled = false\nbind-address = "127.0.0.1:${rpc}"\n[meta]\n  dir = "${dir}/meta"\n` +
        `[data]\n  dir = "${dir}/data"\n  wal-dir = "${dir}/wal"\n  query-log-enabled = false\n` +
        `[monitor]\n  store-enabled = false\n[http]\n  enabled = true\n  bind-address = "127.0.0.1:${http}"\n` +
        `  auth-enabled = true\n  log-enabled = false\n  unix-socket-enabled = false\n` +
        `[continuous_queries]\n  enabled = false\n`,
    );
    proc = spawn('influxd', ['run', '-config', join(dir, 'influxdb.conf')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/ping`)).status === 204) break;
      } catch {}
      if (i > 100) throw new Error('private influxd did not answer /ping within 20 s');
      await sleep(200);
    }
    // with auth on, the first statement creates the admin, sent without credentials
    const pw = PASSWORD.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    const q = new URLSearchParams({ q: `CREATE USER admin WITH PASSWORD '${pw}' WITH ALL PRIVILEGES` });
    const res = await fetch(`${url}/query`, { method: 'POST', body: q });
    assert.equal(res.status, 200, await res.text());
    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const c = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { Authorization: auth },
      body: new URLSearchParams({ q: 'CREATE DATABASE telemetry' }),
    });
    assert.equal(c.status, 200, await c.text());
  });
  after(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('nothing listening: connection refused, password from the URL never printed', async (t) => {
    const closed = await freePort();
    const r = await collect({
      PCM_INFLUX_URL: `http://admin:${encodeURIComponent(PASSWORD)}@127.0.0.1:${closed}`,
    });
    const line = checkFailure(
      r,
      new RegExp(`InfluxDB http://127\\.0\\.0\\.1:${closed} /write: connection refused`),
    );
    t.diagnostic(line);
  });

  it('wrong password (env) and a token: HTTP 401, neither printed', async (t) => {
    const r1 = await collect({
      PCM_INFLUX_URL: url,
      PCM_INFLUX_USERNAME: 'admin',
      PCM_INFLUX_PASSWORD: WRONG,
    });
    t.diagnostic(checkFailure(r1, /HTTP 401: .*check InfluxDB\.Token or Username\/Password/));
    const r2 = await collect({ PCM_INFLUX_URL: url, PCM_INFLUX_TOKEN: TOKEN });
    t.diagnostic(checkFailure(r2, /HTTP 401/));
  });

  it('the right password: the row is written, exit 0, no secret printed', async () => {
    const r = await collect({
      PCM_INFLUX_URL: url,
      PCM_INFLUX_USERNAME: 'admin',
      PCM_INFLUX_PASSWORD: PASSWORD,
    });
    assert.equal(r.code, 0, r.stderr);
    for (const s of SECRETS) assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s));
    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const q = new URLSearchParams({
      db: 'telemetry',
      q: "SELECT busy_nodes FROM pcm_cluster WHERE cluster = 'faults'",
    });
    const res = await fetch(`${url}/query?${q}`, { headers: { Authorization: auth } });
    const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
    assert.equal(body.results[0].series?.[0].values.length, 1);
  });
});
