/**
 * `pcm power run`, the live controller, against the real single-host Slurm 22.05 (node[01-16]) started by
 * scripts/services/up.sh (power-save hooks on, SuspendTime a year: only the controller acts), each test on
 * its own state directory and putting the cluster back after itself:
 * - restart: kill -9 mid-run, then a new run resumes (stale lock taken over, users' chains and the rate
 *   ledger restored, no job event delivered twice);
 * - lock: a second `run` and an `advise --apply` are refused while a run lives; two `advise --apply` at the
 *   same moment act once (the second waits for the lock and sees the first's work);
 * - token: a service with RequireAuthForReads: run and advise succeed with the token and fail in one line
 *   without it;
 * - fallback: service down -> the reactive rule, said in the log and in /metrics; SIGTERM stops it cleanly;
 * - one failing scontrol call (a fault injected in front of the real scontrol): its group is retried node
 *   by node and the other node is powered down;
 * - apply race: a job lands on the node between plan and apply -> the node is not powered down and the
 *   job's accounting record is unchanged.
 * About 2 minutes. Needs the env written by up.sh (`source .pcm/services/env.sh`); PCM_SKIP_INTEGRATION=1
 * skips.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../harness/net.js';
import { parseConfig } from '../../src/config/load.js';
import { expand } from '../../src/jobs/hostlist.js';
import { Controller } from '../../src/power/run/loop.js';
import { runSlurm, type SlurmRunner } from '../../src/power/slurm-nodes.js';
import {
  checkPowerSlurm,
  env,
  forecastFile,
  pcm,
  pcmAsync,
  ROOT,
  restoreCluster,
  runningJob,
  sacct,
  skipAll,
  slurm,
  states,
  waitFor,
} from '../helpers/live-slurm.js';
import { syntheticTimeline } from '../helpers/model-synthetic.js';
import { serviceOver, storeWith } from '../helpers/service-helpers.js';

const NAME = `pcmrun${process.pid}`;
const TOKEN = 'run-test-token-7Qx2mP9vR4';
const root = mkdtempSync(join(tmpdir(), 'pcm-run-it-'));
type Rec = Record<string, unknown> & { msg: string };

/** A fresh directory with pcm.yaml (state dir inside it, interval 5 s). */
function setup(name: string, extra = ''): { dir: string; config: string; stateDir: string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const stateDir = join(dir, 'state');
  const config = join(dir, 'pcm.yaml');
  writeFileSync(
    config,
    `Cluster:\n  Name: c\nPower:\n  BootSeconds: 5\n  ShutdownSeconds: 10\n  WarmPoolMargin: 1\n  Advise:\n    TimeoutSeconds: 3\n${extra}  Run:\n    IntervalSeconds: 5\n    LockWaitSeconds: 5\n    MetricsPort: 0\n    StateDir: ${stateDir}\n`,
  );
  return { dir, config, stateDir };
}

const records = (out: string): Rec[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);

/** `pcm power run` in the background, its JSON log lines collected as they come. */
function startRun(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'power', 'run', ...args], {
    cwd: ROOT,
    env: { ...env, PCM_NO_PROGRESS: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: Rec[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    log.push(...records(lines.join('\n')));
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  running.add(child);
  const until = async (what: string, pred: (r: Rec) => boolean, timeoutS = 40): Promise<Rec> => {
    const end = Date.now() + timeoutS * 1000;
    for (;;) {
      const hit = log.find(pred);
      if (hit) return hit;
      if (Date.now() > end || child.exitCode !== null)
        throw new Error(`no log line ${what} (exit ${child.exitCode}): ${JSON.stringify(log)} ${err}`);
      await sleep(200);
    }
  };
  return { child, log, until, exited, stderr: () => err };
}
const running = new Set<ChildProcess>();

const intervals = (log: Rec[]) => log.filter((r) => r.msg === 'interval');

describe('pcm power run on the real Slurm', { skip: skipAll }, () => {
  before(checkPowerSlurm);
  afterEach(async () => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    running.clear();
    await restoreCluster(NAME);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('restart: kill -9 mid-run, then a new run resumes with the chains and the rate ledger', async () => {
    const { dir, config, stateDir } = setup('restart');
    await runningJob(NAME, 1, 'node01'); // root submits: root's chain becomes active
    // demand 14 + margin 1 = 15 nodes available -> one idle node powers down (the one idle longest)
    const f = forecastFile(dir, 14);
    const a = startRun(['--config', config, '--forecast', f]);
    const first = await a.until('with a power-down', (r) => r.msg === 'interval');
    assert.deepEqual(first.done, { power_down: 1, power_up: 0 }, JSON.stringify(first));
    const planned = first.planned as string[];
    assert.equal(planned.length, 1, JSON.stringify(first));
    const off = planned[0].replace('power_down ', '');
    a.child.kill('SIGKILL');
    await a.exited;
    assert.ok(existsSync(join(stateDir, 'controller.lock')), 'kill -9 leaves the lock behind');
    const saved = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    assert.deepEqual(Object.keys(saved.users), ['root']);
    assert.equal(saved.chains.active.length, 1);
    assert.equal(saved.chains.active[0][2], 1, "root's latest job size");
    const ledger = JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8'));
    assert.deepEqual(
      ledger.entries.map((e: { state: string; nodes: string[] }) => [e.state, e.nodes]),
      [['power_down', [off]]],
    );

    const b = pcm(['power', 'run', '--config', config, '--forecast', f, '--once']);
    assert.equal(b.code, 0, b.err);
    const log = records(b.out);
    const start = log.find((r) => r.msg === 'start') as Rec;
    assert.equal(start.state, 'resumed');
    assert.equal((start.lock_taken_over as { pid: number }).pid, a.child.pid);
    assert.equal(start.active_users, 1);
    assert.equal(start.ledger_entries, 1);
    const [iv] = intervals(log);
    assert.equal((iv.jobs as { submitted: number }).submitted, 0, 'no job delivered twice');
    assert.deepEqual(iv.rate_used, { power_down: 1, power_up: 0 }, 'the ledger of the killed run counts');
    assert.deepEqual(iv.done, { power_down: 0, power_up: 0 }, `${off} already powering down: nothing more`);
    assert.equal(iv.arrivals, 1, "root's chain holds one idle node");
    const again = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    assert.equal(again.totals.intervals, (saved.totals.intervals as number) + 1);
    assert.ok(!existsSync(join(stateDir, 'controller.lock')), 'released at exit');
  });

  it('lock: a second run and advise --apply are refused while a run lives; two advise --apply act once', async () => {
    const { dir, config, stateDir } = setup('lock');
    const a = startRun(['--config', config, '--forecast', forecastFile(dir, 16), '--dry-run']);
    const start = await a.until('start', (r) => r.msg === 'start');
    assert.equal(start.state, 'new');
    const b = pcm(['power', 'run', '--config', config, '--forecast', forecastFile(dir, 16), '--once']);
    assert.notEqual(b.code, 0);
    assert.equal(b.err.trim().split('\n').length, 1, b.err);
    assert.match(
      b.err,
      new RegExp(
        `controller lock .*controller\\.lock is held by pid ${a.child.pid} on .*pcm power run.*only one controller acts on a cluster`,
      ),
    );
    const low = forecastFile(dir, 13);
    const c = pcm(['power', 'advise', '--config', config, '--forecast', low, '--apply']);
    assert.notEqual(c.code, 0);
    assert.match(c.err, /is held by pid \d+ .*\(pcm power run, since/);
    assert.ok(
      [...states().values()].every((s) => s === 'idle'),
      'nothing acted',
    );
    const dry = pcm(['power', 'advise', '--config', config, '--forecast', low]);
    assert.equal(dry.code, 0, 'a dry run needs no lock');
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    assert.ok(!existsSync(join(stateDir, 'controller.lock')));

    // two advise --apply at once: demand 13 + 1 -> two nodes power down, once in all
    const both = await Promise.all(
      [0, 1].map(() =>
        pcmAsync(['power', 'advise', '--config', config, '--forecast', low, '--apply', '--json']),
      ),
    );
    for (const r of both) assert.equal(r.code, 0, r.err);
    const cmds = both.flatMap((r) =>
      JSON.parse(r.out).commands.map((x: { argv: string[] }) => x.argv.join(' ')),
    );
    assert.equal(cmds.length, 1, `one of the two acted: ${cmds.join('; ')}`);
    const acted = both.flatMap((r) =>
      JSON.parse(r.out).commands.map((x: { hostlist: string }) => x.hostlist),
    );
    const ledger = JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8'));
    const nodes = ledger.entries.flatMap((e: { nodes: string[] }) => e.nodes);
    assert.equal(nodes.length, 2);
    assert.deepEqual(expand(acted[0]), nodes);
  });

  describe('with a prediction service that requires a token for reads', () => {
    let url = '';
    let close = async () => {};
    before(async () => {
      const minutes = 3000;
      const now = Date.now() / 1000;
      const start = Math.floor(now / 60) * 60 - 60 * (minutes - 1);
      const tl = syntheticTimeline({ start, minutes, capacity: 16, busy: (t) => 3 + (t % 3) });
      const { store, clock } = storeWith(tl, now - (start + 60 * (minutes - 1)));
      clock.now = () => Date.now() / 1000;
      const { app } = serviceOver(store, clock, `  ApiToken: ${TOKEN}\n  RequireAuthForReads: true\n`);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      close = () => app.close();
    });
    after(() => close());

    it('token: run and advise succeed with the token, and fail in one line without it', async () => {
      const { dir, config } = setup('token');
      const withToken = { PCM_API_TOKEN: TOKEN };
      const ok = await pcmAsync(
        ['power', 'run', '--config', config, '--service', url, '--once', '--dry-run'],
        withToken,
      );
      assert.equal(ok.code, 0, ok.err);
      const [iv] = intervals(records(ok.out));
      assert.equal(iv.fallback, null, JSON.stringify(iv));
      assert.equal(iv.policy, 'predictive');
      const no = await pcmAsync([
        'power',
        'run',
        '--config',
        config,
        '--service',
        url,
        '--once',
        '--dry-run',
      ]);
      assert.notEqual(no.code, 0);
      assert.equal(no.err.trim().split('\n').length, 1, no.err);
      assert.match(
        no.err,
        /HTTP 401: the service requires a bearer token: set PCM_API_TOKEN, Service\.ApiToken or Power\.Advise\.TokenFile/,
      );

      const adv = await pcmAsync(['power', 'advise', '--config', config, '--service', url], withToken);
      assert.equal(adv.code, 0, adv.err);
      assert.match(adv.out, /^policy predictive:/);
      const bad = await pcmAsync([
        'power',
        'advise',
        '--config',
        config,
        '--service',
        url,
        '--fallback',
        'reactive',
      ]);
      assert.notEqual(bad.code, 0, 'a missing token is not an outage: no fallback');
      assert.match(bad.err, /HTTP 401/);
      // the token from a file (a host without the service's config)
      writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
      const tf = setup('token-file', `    TokenFile: ${join(dir, 'token')}\n`);
      const viaFile = await pcmAsync(['power', 'advise', '--config', tf.config, '--service', url]);
      assert.equal(viaFile.code, 0, viaFile.err);
      assert.match(viaFile.out, /^policy predictive:/);
    });
  });

  it('fallback: service down -> the reactive rule, in the log and in /metrics; SIGTERM stops cleanly', async () => {
    const { config, stateDir } = setup('fallback');
    const [down, metricsPort] = [await freePort(), await freePort()];
    const a = startRun([
      '--config',
      config,
      '--service',
      `http://127.0.0.1:${down}`,
      '--metrics-port',
      String(metricsPort),
    ]);
    const iv = await a.until('interval', (r) => r.msg === 'interval');
    assert.equal(iv.level, 40);
    assert.equal(iv.policy, 'reactive');
    assert.match(
      String(iv.fallback),
      new RegExp(`prediction service http://127\\.0\\.0\\.1:${down} unreachable`),
    );
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(metric('pcm_power_fallback'), 1);
    assert.ok(metric('pcm_power_fallbacks_total') >= 1);
    assert.ok(metric('pcm_power_forecast_age_seconds') > 0);
    assert.equal(metric('pcm_power_nodes\\{state="idle"\\}'), states().size);
    assert.ok(metric('pcm_power_decisions_total\\{policy="reactive"\\}') >= 1);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    assert.ok(a.log.some((r) => r.msg === 'stop'));
    assert.ok(!existsSync(join(stateDir, 'controller.lock')));
    assert.ok(existsSync(join(stateDir, 'state.json')));
  });

  it('one failing scontrol call holds back no other node: the group is retried node by node', async () => {
    const { dir, config, stateDir } = setup('partial');
    const cfg = parseConfig(readFileSync(config, 'utf8'), config);
    const calls: string[] = [];
    // the real Slurm, with one fault injected: every update naming the group's first node fails as
    // scontrol would (the group's call, then that node's own)
    let bad = '';
    const run: SlurmRunner = async (cmd, args) => {
      if (cmd === 'scontrol' && args[0] === 'update') {
        calls.push(args[1]);
        bad ||= expand(args[1].replace('nodename=', ''))[0];
        if (expand(args[1].replace('nodename=', '')).includes(bad))
          throw new Error(`scontrol ${args.join(' ')} failed (exit 1): injected`);
      }
      return runSlurm(cmd, args);
    };
    const c = await Controller.start({
      cfg,
      policy: 'predictive',
      forecastFile: forecastFile(dir, 13),
      log: () => {},
      run,
    });
    let rep: Awaited<ReturnType<Controller['step']>>;
    try {
      rep = await c.step();
    } finally {
      await c.stop();
    }
    const group = expand(calls[0].replace('nodename=', ''));
    assert.equal(group.length, 2, calls.join(' '));
    const good = group[1];
    assert.deepEqual(calls, [calls[0], `nodename=${bad}`, `nodename=${good}`]);
    assert.deepEqual(
      rep.outcomes.map((o) => [o.node, o.outcome]),
      [
        [bad, 'failed'],
        [good, 'done'],
      ],
    );
    assert.match(String(rep.outcomes[0].why), /injected/);
    await waitFor(`${good} powered down`, () => states().get(good) === 'idle~');
    assert.equal(states().get(bad), 'idle');
    const ledger = JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8'));
    assert.deepEqual(
      ledger.entries.flatMap((e: { nodes: string[] }) => e.nodes),
      [good],
    );
  });

  it('apply race: a job lands on the node between plan and apply; the node is not powered down', async () => {
    const { dir, config, stateDir } = setup('race');
    const cfg = parseConfig(readFileSync(config, 'utf8'), config);
    let job = '';
    let target = '';
    const c = await Controller.start({
      cfg,
      policy: 'predictive',
      forecastFile: forecastFile(dir, 14), // 15 nodes wanted of 16: one node planned to power down
      log: () => {},
      beforeApply: async (adv) => {
        assert.equal(adv.commands.length, 1);
        assert.equal(adv.commands[0].nodes, 1);
        target = adv.commands[0].hostlist;
        job = await runningJob(NAME, 1, target);
      },
    });
    let rep: Awaited<ReturnType<Controller['step']>>;
    try {
      rep = await c.step();
    } finally {
      await c.stop();
    }
    assert.equal(rep.error, null);
    assert.deepEqual(rep.outcomes, [
      { node: target, state: 'power_down', outcome: 'refused', why: 'allocated' },
    ]);
    await waitFor(`sacct to show job ${job} running`, () => sacct(job)[0]?.split('|')[1] === 'RUNNING', 30);
    const record = sacct(job);
    assert.match(record[0], new RegExp(`^${job}\\|RUNNING\\|${target}\\|\\d+\\|1$`));
    await sleep(3000);
    assert.equal(states().get(target), 'allocated');
    assert.equal(slurm('squeue', ['-h', '-j', job, '-o', '%T|%N']).trim(), `RUNNING|${target}`);
    assert.deepEqual(sacct(job), record);
    const ledger = existsSync(join(stateDir, 'ledger.json'))
      ? JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8')).entries
      : [];
    assert.deepEqual(ledger, [], 'nothing recorded as done');
    const saved = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    assert.equal(saved.last_actions.outcomes[0].outcome, 'refused');
  });
});
