/**
 * The kill -9 drill of issue 15 (defect 3): `pcm collect --spool` writes one row a minute into a PRIVATE
 * influxd; influxd is stopped; collect keeps sampling, is killed with SIGKILL, restarted at once, samples on;
 * influxd comes back. Every minute from the first row to the last must then be in InfluxDB exactly once.
 * squeue/sinfo are stand-ins that print the recorded Slurm 22.05 answers, so no Slurm is needed.
 * PCM_DRILL_SPOOL=0 runs the same drill without --spool (rows kept in memory only: the old behaviour).
 * About 5 minutes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrivateInflux, ROOT, until } from '../../harness/outage-harness.js';

const SPOOL = process.env.PCM_DRILL_SPOOL !== '0';
const dir = mkdtempSync(join(tmpdir(), 'pcm-spool-drill-'));
const influx = new PrivateInflux(join(dir, 'services'));
after(async () => {
  await influx.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** squeue and sinfo that print the recorded answers. */
function fakeSlurm(): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const fix = join(ROOT, 'test/fixtures/telemetry');
  for (const [cmd, file] of [
    ['squeue', 'squeue-slurm22.05.txt'],
    ['sinfo', 'sinfo-slurm22.05.txt'],
  ]) {
    writeFileSync(join(bin, cmd), `#!/bin/sh\ncat '${join(fix, file)}'\n`);
    chmodSync(join(bin, cmd), 0o755);
  }
  return bin;
}

function startCollect(cfg: string, bin: string, log: string[]): ChildProcess {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'collect', '--config', cfg, '--interval', '10'];
  if (SPOOL) args.push('--spool', join(dir, 'collect.spool'));
  const p = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PCM_INFLUX_URL: '', PCM_DEBUG: '' },
  });
  p.stderr!.on('data', (d) => log.push(String(d)));
  return p;
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r));

test('kill -9 of collect during an InfluxDB outage loses no minute (spool)', {
  timeout: 600_000,
}, async () => {
  await influx.start();
  const bin = fakeSlurm();
  const cfg = join(dir, 'pcm.yaml');
  writeFileSync(
    cfg,
    `InfluxDB:\n  URL: ${influx.url}\n  Database: telemetry\n  TimeoutMs: 2000\nCluster:\n  Name: drill\n`,
  );
  const log: string[] = [];
  const minutes = () => influx.busyMinutes('drill', 0, 4e9);

  let c = startCollect(cfg, bin, log);
  assert.ok(await until(async () => (await minutes()).length >= 1, 60_000), `no first row: ${log.join('')}`);
  const first = (await minutes())[0];
  await influx.stop(); // outage
  const down = Date.now() / 1000;
  // collect samples through two minute boundaries with influxd down (the first of those minutes is then
  // only in its queue: the restarted process samples the current minute again, not that one), is killed,
  // and is restarted 10 s later (systemd: Restart=on-failure, RestartSec=10)
  await until(() => Date.now() / 1000 >= Math.ceil(down / 60) * 60 + 75, 180_000);
  c.kill('SIGKILL');
  await exited(c);
  await sleep(10_000);
  const killedAt = Date.now() / 1000;
  c = startCollect(cfg, bin, log);
  await until(() => Date.now() / 1000 >= Math.ceil(killedAt / 60) * 60 + 15, 120_000);
  await influx.start(true); // back, with its data
  const last = Math.floor(Date.now() / 60_000) * 60;
  const complete = async () => {
    const m = await minutes();
    return m.filter((t) => t >= first && t <= last).length === (last - first) / 60 + 1;
  };
  await until(complete, 90_000);
  c.kill('SIGTERM');
  await exited(c);

  const got = (await minutes()).filter((t) => t >= first && t <= last);
  const want = Array.from({ length: (last - first) / 60 + 1 }, (_, i) => first + 60 * i);
  const missing = want
    .filter((t) => !got.includes(t))
    .map((t) => new Date(t * 1000).toISOString().slice(11, 16));
  console.log(
    `# drill (${SPOOL ? 'spool' : 'memory only'}): minutes ${want.length}, in InfluxDB ${got.length}, missing ${missing.join(' ') || 'none'}, duplicates ${got.length - new Set(got).size}`,
  );
  if (SPOOL) {
    assert.ok(existsSync(join(dir, 'collect.spool')));
    assert.equal(readFileSync(join(dir, 'collect.spool'), 'utf8'), '', 'spool not emptied after the write');
  }
  assert.deepEqual(missing, [], log.join(''));
  assert.equal(got.length, new Set(got).size);
  assert.deepEqual(got, want);
});
