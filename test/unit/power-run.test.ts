import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { planAdvice } from '../../src/power/advise.js';
import { parseForecast } from '../../src/power/forecast-input.js';
import { UserChains } from '../../src/power/policies/user-chains.js';
import { scaledClock } from '../../src/power/run/clock.js';
import { jobEvents, UserIds } from '../../src/power/run/job-events.js';
import { acquireControllerLock } from '../../src/power/run/lock.js';
import { Controller } from '../../src/power/run/loop.js';
import { RateLedger } from '../../src/power/run/rate-ledger.js';
import { snapshotFromSqueue } from '../../src/power/run/snapshot.js';
import { emptyState, loadState, saveState, statePathIn } from '../../src/power/run/state-file.js';
import { joinNodes, parseShowConfig, parseShowNode, parseSinfo } from '../../src/power/slurm-nodes.js';
import { UserError } from '../../src/util/errors.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pcm-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A squeue line in squeueArgs' format: id|state|submit|eligible|start|end|limit|nodes|cpus|part|user|nodelist| */
function line(
  id: string,
  state: string,
  user: string,
  nodes: number,
  submit: number,
  start = 'N/A',
  end = 'N/A',
) {
  return `${id}|${state}|${submit}|${submit}|${start}|${end}|1:00:00|${nodes}|${nodes}|debug|${user}|${start === 'N/A' ? '' : 'node01'}|`;
}
const snap = (t: number, ...lines: string[]) => snapshotFromSqueue(lines.join('\n'), t).snap;

describe('snapshot diff -> job events', () => {
  const T = 1_800_000_000;
  it('turns a new, a started, an ended, a short-lived and a vanished job into time-ordered events', () => {
    const prev = snap(
      T,
      line('1', 'PENDING', 'alice', 2, T - 30),
      line('2', 'RUNNING', 'bob', 1, T - 100, String(T - 90)),
      line('3', 'RUNNING', 'carol', 4, T - 200, String(T - 190)),
      line('9', 'COMPLETED', 'dave', 1, T - 400, String(T - 390), String(T - 300)),
    );
    const next = snap(
      T + 60,
      line('1', 'RUNNING', 'alice', 2, T - 30, String(T + 10)), // started
      line('2', 'COMPLETED', 'bob', 1, T - 100, String(T - 90), String(T + 20)), // ended
      // 3 vanished (purged while running: its end instant is lost)
      line('4', 'PENDING', 'alice', 2, T + 40), // new
      line('5', 'COMPLETED', 'erin', 1, T + 5, String(T + 6), String(T + 30)), // submitted and ended between reads
      // 9 aged out of squeue after it had ended: nothing
    );
    const users = new UserIds();
    const r = jobEvents(prev, next, users);
    assert.deepEqual(r.counts, { submitted: 2, started: 2, ended: 3, seenOnlyEnded: 1, vanished: 1 });
    const named = r.events.map((e) => [e.kind, e.t - T, Object.keys(users.ids)[e.user], e.nodes]);
    assert.deepEqual(named, [
      ['submit', 5, 'erin', 1],
      ['end', 20, 'bob', 1],
      ['end', 30, 'erin', 1],
      ['submit', 40, 'alice', 2],
      ['end', 60, 'carol', 4],
    ]);
  });

  it('the first read (no saved snapshot) delivers every listed job once; the same read again delivers nothing', () => {
    const s = snap(
      T,
      line('1', 'PENDING', 'alice', 2, T - 30),
      line('2', 'RUNNING', 'bob', 1, T - 100, String(T - 90)),
    );
    const users = new UserIds();
    assert.equal(jobEvents(null, s, users).events.length, 2);
    assert.deepEqual(jobEvents(s, s, users).events, []);
  });

  it("never goes back before the chains' newest event (a job listed late), so observe never throws", () => {
    const prev = snap(T);
    const next = snap(T + 60, line('7', 'PENDING', 'alice', 1, T - 500));
    const chains = new UserChains({ windowS: 600, maxNodes: 4, onEnd: true });
    chains.observe({ kind: 'submit', t: T + 10, user: 5, nodes: 1 });
    const { events } = jobEvents(prev, next, new UserIds(), chains.latest);
    assert.equal(events[0].t, T + 10);
    for (const e of events) chains.observe(e);
  });
});

describe('state file', () => {
  it('round-trips the chains, user ids, snapshot and last actions', async () => {
    const path = statePathIn(join(dir, 'rt'));
    const chains = new UserChains({ windowS: 600, maxNodes: 4, onEnd: true });
    const users = new UserIds();
    chains.observe({ kind: 'submit', t: 100, user: users.of('alice'), nodes: 2 });
    chains.observe({ kind: 'submit', t: 200, user: users.of('bob'), nodes: 3 });
    const s = emptyState('debug');
    s.chains = chains.save();
    s.users = users.ids;
    s.snapshot = snap(250, line('1', 'PENDING', 'alice', 2, 100));
    s.last_actions = {
      t: 250,
      outcomes: [{ node: 'node09', state: 'power_down', outcome: 'done', why: null }],
    };
    await saveState(path, s);
    const back = await loadState(path, 'debug');
    assert.ok(back);
    assert.deepEqual({ ...back, saved_at: '' }, { ...s, saved_at: '' });
    const again = UserChains.restore(chains.opts, back.chains);
    assert.equal(again.nodes(300), chains.nodes(300));
    assert.equal(again.nodes(300), 5);
    assert.equal(await loadState(join(dir, 'none.json'), null), null);
  });

  it('refuses a corrupt, foreign, other-version or other-partition file in one line naming it', async () => {
    const path = join(dir, 'bad.json');
    const cases: Array<[string, RegExp]> = [
      [
        '{"kind":"pcm-power-run-st',
        /bad\.json: not JSON .*expected a pcm-power-run-state file version 1: move it aside/,
      ],
      [
        '{"kind":"something-else","version":1}',
        /bad\.json: kind "something-else", expected "pcm-power-run-state"/,
      ],
      [
        '{"kind":"pcm-power-run-state","version":7}',
        /bad\.json: version 7, expected 1 \(written by another pcm release\)/,
      ],
      [
        JSON.stringify({ ...emptyState(null), users: { alice: 'x' } }),
        /bad\.json: users\.alice: .*expected number/,
      ],
    ];
    for (const [text, re] of cases) {
      writeFileSync(path, text);
      await assert.rejects(loadState(path, null), (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, re);
        assert.equal(e.message.split('\n').length, 1);
        return true;
      });
    }
    const gpu = JSON.stringify(emptyState('gpu'));
    writeFileSync(path, gpu);
    await assert.rejects(loadState(path, null), /written for partition gpu, expected all partitions/);
    assert.equal(readFileSync(path, 'utf8'), gpu); // never overwritten
  });
});

describe('pcm power run (CLI, before any Slurm call)', () => {
  it('stops in one line on a corrupt state file, names it, and leaves it and the lock as they were', () => {
    const stateDir = join(dir, 'cli-corrupt');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'state.json'), '{"kind":"pcm-power-run-state","version":0}');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'power',
        'run',
        '--state-dir',
        stateDir,
        '--metrics-port',
        '0',
        '--once',
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCM_NO_PROGRESS: '1' } },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /state\.json: version 0, expected 1 \(written by another pcm release\): move it aside to start afresh/,
    );
    assert.equal(
      readFileSync(join(stateDir, 'state.json'), 'utf8'),
      '{"kind":"pcm-power-run-state","version":0}',
    );
    assert.ok(!existsSync(join(stateDir, 'controller.lock')), 'the lock is released on the way out');
  });
});

describe('pcm power run: the compressed-time options', () => {
  it('--time-origin and --time-wall-start need --time-scale, each said in one line', () => {
    for (const [flag, v] of [
      ['--time-origin', '820454400'],
      ['--time-wall-start', '1796654000'],
    ]) {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'power', 'run', flag, v, '--metrics-port', '0', '--once'],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCM_NO_PROGRESS: '1' } },
      );
      assert.notEqual(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${flag} needs --time-scale`));
    }
  });
});

describe('controller lock', () => {
  function holder(stateDir: string, wait = 0): Promise<{ child: ChildProcess; first: string }> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/lock-holder.ts', stateDir, String(wait)],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    return new Promise((resolve) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve({ child, first: out.trim() });
      });
    });
  }

  it('a second process is refused while the first lives, and takes over after a kill -9', async () => {
    const stateDir = join(dir, 'lock');
    const a = await holder(stateDir);
    assert.equal(a.first, 'locked');
    const b = await holder(stateDir, 1);
    assert.match(
      b.first,
      /^refused: controller lock .*controller\.lock is held by pid \d+ on .*lock-holder test.*only one controller acts on a cluster \(waited 1 s\)$/,
    );
    await assert.rejects(acquireControllerLock(stateDir, 'test', 0), /is held by pid/);
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    assert.ok(existsSync(join(stateDir, 'controller.lock')), 'the dead holder left its lock');
    const c = await holder(stateDir);
    assert.match(c.first, new RegExp(`^locked \\(took over pid ${a.child.pid}\\)$`));
    c.child.stdin?.end();
    await new Promise((r) => c.child.once('exit', r));
    assert.ok(!existsSync(join(stateDir, 'controller.lock')), 'released on a clean exit');
    const mine = await acquireControllerLock(stateDir, 'test', 0);
    mine.release();
  });

  it('a pid reused by a process started after the lock was written (a reboot) is a stale lock', async () => {
    const stateDir = join(dir, 'lock-reused');
    mkdirSync(stateDir, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const since = new Date(Date.now() - 3600_000).toISOString();
      const stale = { pid: other.pid, host: hostname(), command: 'pcm power run', since };
      writeFileSync(join(stateDir, 'controller.lock'), JSON.stringify(stale));
      const l = await acquireControllerLock(stateDir, 'test', 0);
      assert.equal(l.tookOver?.pid, other.pid);
      l.release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a lock from another host is refused with the host named', async () => {
    const stateDir = join(dir, 'lock-other');
    const l = await acquireControllerLock(stateDir, 'test', 0);
    l.release();
    writeFileSync(
      join(stateDir, 'controller.lock'),
      JSON.stringify({ pid: 1, host: 'elsewhere', command: 'pcm power run', since: 'x' }),
    );
    await assert.rejects(
      acquireControllerLock(stateDir, 'test', 0),
      /pid 1 on elsewhere .*another host: remove the file if that host is gone/,
    );
  });
});

describe('rate ledger', () => {
  const fx = (f: string) => readFileSync(join(ROOT, 'test/fixtures/slurm', f), 'utf8');
  const NOW = 1795888078;
  const nodes = joinNodes(
    parseSinfo(fx('sinfo-N-states.txt')),
    parseShowNode(fx('scontrol-show-node-states.txt')),
  );
  const slurm = parseShowConfig(fx('scontrol-show-config.txt'));
  const power = parseConfig('Power:\n  Reactive:\n    SuspendRate: 3\n', 'test').Power;
  const t0 = Math.floor(NOW / 60) * 60;
  const timestamps = Array.from({ length: 30 }, (_, i) => new Date((t0 + 60 * (i + 1)) * 1000).toISOString());
  const forecast = parseForecast({ timestamps, p90: timestamps.map(() => 0) }, 'test');
  const downs = (used?: { power_down: number; power_up: number }) =>
    planAdvice({
      nodes,
      slurm,
      power,
      policy: 'predictive',
      forecast,
      now: NOW,
      rateUsed: used,
    }).commands.find((c) => c.state === 'power_down')?.nodes ?? 0;

  it('holds SuspendRate per minute across runs: what an earlier run did in the last 60 s counts', async () => {
    const stateDir = join(dir, 'ledger');
    assert.equal(downs(), 3);
    const first = await RateLedger.open(stateDir);
    assert.deepEqual(first.used(NOW), { power_down: 0, power_up: 0 });
    first.record(NOW - 30, 'power_down', ['node15', 'node16'], 'run');
    await first.save(NOW - 30);
    // a second process (advise --apply from cron) in the same minute
    const second = await RateLedger.open(stateDir);
    const used = second.used(NOW);
    assert.deepEqual(used, { power_down: 2, power_up: 0 });
    assert.equal(downs(used), 1);
    const adv = planAdvice({
      nodes,
      slurm,
      power,
      policy: 'predictive',
      forecast,
      now: NOW,
      rateUsed: { power_down: 3, power_up: 0 },
    });
    assert.equal(adv.commands.length, 0);
    assert.ok(adv.nodes.some((n) => n.why === 'held back: SuspendRate 3/min reached'));
    assert.deepEqual(adv.limits, {
      suspend_rate: 3,
      resume_rate: adv.limits.resume_rate,
      max_actions: 64,
      suspend_used: 3,
      resume_used: 0,
    });
    // a minute later the rate is free again
    assert.deepEqual(second.used(NOW + 31), { power_down: 0, power_up: 0 });
  });

  it('refuses a corrupt ledger in one line', async () => {
    const stateDir = join(dir, 'ledger-bad');
    await RateLedger.open(stateDir).then((l) => l.save(NOW));
    writeFileSync(
      RateLedger.pathIn(stateDir),
      '{"kind":"pcm-power-rate-ledger","version":1,"entries":[{"t":"x"}]}',
    );
    await assert.rejects(
      RateLedger.open(stateDir),
      /ledger\.json: entries\.0\.t: .*expected number.*move it aside/,
    );
  });
});

describe('compressed time (--time-scale, for trials)', () => {
  // the captured test cluster (test/fixtures/slurm): idle nodes last busy 16-53 s before the capture
  const fx = (f: string) => readFileSync(join(ROOT, 'test/fixtures/slurm', f), 'utf8');
  const CAPTURE = 1795888078;
  const TRACE0 = 820_454_400; // a trace's clock: 1996-01-01
  const runner = async (cmd: string, args: string[]) => {
    if (cmd === 'sinfo') return fx('sinfo-N-states.txt');
    if (cmd === 'scontrol' && args[1] === 'node') return fx('scontrol-show-node-states.txt');
    if (cmd === 'scontrol' && args[1] === 'config') return fx('scontrol-show-config.txt');
    if (cmd === 'squeue') return line('77', 'RUNNING', 'alice', 1, CAPTURE - 30, String(CAPTURE - 20));
    throw new Error(`unexpected ${cmd} ${args.join(' ')}`);
  };
  const step = async (scale: number, name: string) => {
    const cfg = parseConfig(
      `Power:\n  Reactive:\n    SuspendTime: 600\n  Run:\n    StateDir: ${join(dir, name)}\n    MetricsPort: 0\n`,
      'run.yaml',
      {},
    );
    const c = await Controller.start({
      cfg,
      policy: 'reactive',
      dryRun: true,
      run: runner,
      log: () => {},
      clock: scaledClock(scale, TRACE0, CAPTURE, () => CAPTURE + 1),
    });
    try {
      const r = await c.step();
      return { r, job: c.state.snapshot?.jobs['77'] };
    } finally {
      await c.stop();
    }
  };

  it('a forecast file not there (yet) is no forecast: the interval falls back to the reactive rule and says so', async () => {
    const cfg = parseConfig(
      `Power:\n  Reactive:\n    SuspendTime: 600\n  Run:\n    StateDir: ${join(dir, 'nofile')}\n    MetricsPort: 0\n`,
      'run.yaml',
      {},
    );
    const c = await Controller.start({
      cfg,
      policy: 'predictive',
      forecastFile: join(dir, 'not-written-yet.json'),
      dryRun: true,
      run: runner,
      log: () => {},
      clock: scaledClock(60, TRACE0, CAPTURE, () => CAPTURE + 1),
    });
    try {
      const r = await c.step();
      assert.equal(r.error, null, 'the interval did not fail');
      assert.match(r.fallback ?? '', /not-written-yet\.json: cannot read \(ENOENT/);
      assert.doesNotMatch(r.fallback ?? '', /try --fallback/, 'the advice to fall back is for advise alone');
      assert.equal(r.adv?.policy, 'reactive');
    } finally {
      await c.stop();
    }
  });

  it("maps Slurm's instants into trace time: idle times, job times and now scale together", async () => {
    // wall clock speed: 54 s of idle at most, under SuspendTime 600 -> nothing
    const wall = await step(1, 'scale1');
    assert.equal(wall.r.adv?.now, TRACE0 + 1);
    assert.equal(wall.r.adv?.commands.length, 0);
    assert.equal(wall.job?.submit, TRACE0 - 30);
    // 60x: the same nodes have been idle 16-53 minutes of trace time -> past SuspendTime, powered down
    const fast = await step(60, 'scale60');
    assert.equal(fast.r.adv?.now, TRACE0 + 60);
    assert.equal(fast.job?.submit, TRACE0 - 1800);
    assert.equal(fast.job?.start, TRACE0 - 1200);
    const down = fast.r.adv?.nodes.filter((n) => n.action === 'power_down').map((n) => n.name);
    assert.deepEqual(down, ['node08', 'node15', 'node16']);
  });
});
