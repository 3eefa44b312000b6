import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { type AdviseInput, formatAdvice, planAdvice } from '../../src/power/advise.js';
import { ForecastUnavailable, parseForecast } from '../../src/power/forecast-input.js';
import {
  classify,
  joinNodes,
  parseShowConfig,
  parseShowNode,
  parseSinfo,
  parseSuspendExcNodes,
} from '../../src/power/slurm-nodes.js';
import { InputError } from '../../src/util/errors.js';

// captured from the real test Slurm 22.05.8 (see test/fixtures/slurm/README.md)
const root = fileURLToPath(new URL('../..', import.meta.url));
const fx = (f: string) => readFileSync(join(root, 'test/fixtures/slurm', f), 'utf8');
const NOW = 1795888078; // capture time
const nodes = joinNodes(
  parseSinfo(fx('sinfo-N-states.txt')),
  parseShowNode(fx('scontrol-show-node-states.txt')),
);
const slurm = parseShowConfig(fx('scontrol-show-config.txt'));

const dir = mkdtempSync(join(tmpdir(), 'pcm-advise-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A forecast from NOW: 30 minutes of the given P90. */
function flat(p90: number, start = NOW) {
  const t0 = Math.floor(start / 60) * 60;
  const timestamps = Array.from({ length: 30 }, (_, i) => new Date((t0 + 60 * (i + 1)) * 1000).toISOString());
  return parseForecast(
    { origin: new Date(t0 * 1000).toISOString(), timestamps, p90: timestamps.map(() => p90) },
    'test',
  );
}

function plan(over: Partial<AdviseInput> = {}, yaml = '') {
  const power = parseConfig(yaml, 'test').Power;
  return planAdvice({ nodes, slurm, power, policy: 'predictive', forecast: flat(0), now: NOW, ...over });
}

const byName = (adv: ReturnType<typeof plan>) => new Map(adv.nodes.map((n) => [n.name, n]));

describe('parsing captured Slurm 22.05 output', () => {
  it('reads every node with its sinfo state, scontrol flags, LastBusyTime and partitions', () => {
    assert.equal(nodes.length, 16);
    const n = new Map(nodes.map((x) => [x.name, x]));
    assert.deepEqual(
      nodes.map((x) => x.sinfoState),
      [
        'allocated',
        'allocated',
        'mixed',
        'drained',
        'draining',
        'down',
        'reserved',
        'idle',
        'idle#',
        'idle%',
      ].concat(['idle~', 'idle~', 'idle', 'idle', 'idle', 'idle']),
    );
    assert.equal(n.get('node05')?.state, 'MIXED+DRAIN');
    assert.equal(n.get('node04')?.reason.startsWith('maintenance'), true);
    assert.equal(n.get('node13')?.lastBusy, 1795888062);
    assert.equal(n.get('node11')?.lastBusy, null); // Unknown while powered down
    assert.deepEqual(n.get('node01')?.partitions, ['debug']);
  });

  it('reads the power-save settings of scontrol show config', () => {
    assert.equal(slurm.version, '22.05.8');
    assert.equal(slurm.powerSave, true);
    assert.equal(slurm.suspendRate, 60);
    assert.equal(slurm.resumeRate, 300);
    assert.deepEqual(
      slurm.suspendExcNodes.map((s) => [s.text, s.count, s.nodes.size]),
      [
        ['node14', null, 1],
        ['node[09-16]:1', 1, 8],
      ],
    );
    const off = parseShowConfig('SuspendProgram          = (null)\nSuspendTime             = INFINITE\n');
    assert.equal(off.powerSave, false);
  });

  it('splits SuspendExcNodes at top-level commas only', () => {
    const s = parseSuspendExcNodes('node[01-08]:1,node[09-16]:2');
    assert.deepEqual(
      s.map((x) => [x.count, x.nodes.size]),
      [
        [1, 8],
        [2, 8],
      ],
    );
  });

  it('names the line of malformed output', () => {
    assert.throws(() => parseSinfo('node01|idle\ngarbage\n'), /sinfo line 2/);
    assert.throws(() => parseShowNode('NodeName=node01 Arch=x\n'), /scontrol show node line 1/);
  });
});

describe('classify (state strings seen on 22.05; COMPLETING and NOT_RESPONDING-only written by hand)', () => {
  const cases: Array<[string, string, string | null]> = [
    ['IDLE', 'idle', null],
    ['ALLOCATED', 'busy', 'allocated'],
    ['MIXED', 'busy', 'mixed (running jobs)'],
    ['IDLE+COMPLETING', 'busy', 'completing a job'],
    ['ALLOCATED+POWER_DOWN', 'busy', 'allocated'],
    ['MIXED+DRAIN', 'busy', 'mixed (running jobs), draining'],
    ['IDLE+DRAIN', 'unavailable', 'drained'],
    ['DOWN', 'unavailable', 'down'],
    ['DOWN+POWERED_DOWN+NOT_RESPONDING', 'unavailable', 'down (powered down)'],
    ['IDLE+RESERVED', 'idle', 'reserved'],
    ['IDLE+POWERED_DOWN', 'off', null],
    ['IDLE+POWERED_DOWN+NOT_RESPONDING', 'off', null],
    ['IDLE+POWER_UP+POWERED_DOWN', 'booting', 'powering up already'],
    ['IDLE+NOT_RESPONDING+POWERING_UP', 'booting', 'powering up already'],
    ['IDLE+POWER_DOWN', 'shutting', 'powering down already'],
    ['IDLE+POWERING_DOWN', 'shutting', 'powering down already'],
    ['IDLE+DRAIN+POWER_DOWN', 'unavailable', 'drained'],
    ['IDLE+NOT_RESPONDING', 'unavailable', 'not responding'],
    ['UNKNOWN', 'unavailable', 'state UNKNOWN'],
  ];
  for (const [state, kind, why] of cases) {
    it(`${state} -> ${kind}`, () => assert.deepEqual(classify(state), { kind, refusal: why }));
  }
});

describe('planAdvice on the captured cluster', () => {
  it('powers down the longest-idle eligible nodes (LastBusyTime; ties: highest-numbered; as the replay) and says why every other node is left alone', () => {
    // demand 0: keep busy (4) + margin 2 available; 4 busy + 6 idle + 1 booting -> 5 wanted down
    const adv = plan({}, 'Power:\n  Advise:\n    ExcludeNodes: node16\n');
    assert.deepEqual(adv.view, {
      capacity: 14,
      busy: 4,
      idle: 6,
      booting: 1,
      off: 2,
      shutting: 1,
      unavailable: 2,
    });
    assert.equal(adv.wanted.power_down, 5);
    assert.deepEqual(
      adv.commands.map((c) => c.argv.join(' ')),
      ['scontrol update nodename=node[08,15] state=power_down'],
    );
    const n = byName(adv);
    const why = (name: string) => n.get(name)?.why;
    assert.equal(why('node01'), 'allocated');
    assert.equal(why('node03'), 'mixed (running jobs)');
    assert.equal(why('node04'), 'drained');
    assert.equal(why('node05'), 'mixed (running jobs), draining');
    assert.equal(why('node06'), 'down');
    assert.equal(why('node07'), 'reserved');
    assert.equal(why('node09'), 'powering up already');
    assert.equal(why('node10'), 'powering down already');
    assert.equal(why('node13'), 'kept powered by SuspendExcNodes=node[09-16]:1'); // first idle of the set
    assert.equal(why('node14'), 'excluded by SuspendExcNodes=node14');
    assert.equal(why('node16'), 'excluded by Power.Advise.ExcludeNodes');
    const text = formatAdvice(adv, false);
    assert.match(
      text,
      /dry run \(add --apply to run\):\n {2}scontrol update nodename=node\[08,15\] state=power_down/,
    );
    assert.match(text, /node\[01-02\]: allocated/);
  });

  it('never advises an action on a refused node, whatever the forecast', () => {
    for (const p90 of [0, 3, 8, 16]) {
      const adv = plan({ forecast: flat(p90) });
      for (const nd of adv.nodes) {
        if (nd.action === 'power_down') assert.equal(nd.kind, 'idle', `${p90}: ${nd.name}`);
        if (nd.action === 'power_up') assert.equal(nd.kind, 'off', `${p90}: ${nd.name}`);
        if (nd.action)
          assert.ok(!['node01', 'node04', 'node05', 'node07', 'node13', 'node14'].includes(nd.name));
      }
    }
  });

  it('powers up the lowest-numbered powered-down nodes when demand rises', () => {
    // keep 10 + 2 = 12 available; busy 4 + idle 6 + booting 1 = 11
    const adv = plan({ forecast: flat(10) });
    assert.equal(adv.wanted.power_up, 1);
    assert.deepEqual(
      adv.commands.map((c) => c.argv.join(' ')),
      ['scontrol update nodename=node11 state=power_up'],
    );
    assert.equal(byName(adv).get('node12')?.why, 'powered down, not needed yet');
  });

  it('honours --max-actions and SuspendRate/ResumeRate (the smaller of the config and Slurm)', () => {
    const one = plan({ maxActions: 1 });
    assert.deepEqual(
      one.commands.map((c) => c.hostlist),
      ['node15'],
    );
    assert.equal(byName(one).get('node08')?.why, 'held back: max actions 1 reached');
    const rate = plan({}, 'Power:\n  Reactive:\n    SuspendRate: 2\n');
    assert.equal(rate.limits.suspend_rate, 2);
    assert.deepEqual(
      rate.commands.map((c) => c.hostlist),
      ['node[08,15]'],
    );
    assert.equal(byName(rate).get('node16')?.why, 'held back: SuspendRate 2/min reached');
    const up = plan({ forecast: flat(16) }, 'Power:\n  Reactive:\n    ResumeRate: 1\n');
    assert.deepEqual(
      up.commands.map((c) => c.hostlist),
      ['node11'],
    );
    assert.equal(byName(up).get('node12')?.why, 'held back: ResumeRate 1/min reached');
  });

  it('reactive: powers down the nodes idle at least SuspendTime (LastBusyTime), never the refused ones', () => {
    const yaml = 'Power:\n  Reactive:\n    SuspendTime: 60\n';
    // at NOW: idle 53 s at most -> nothing
    assert.equal(plan({ policy: 'reactive', forecast: undefined }, yaml).commands.length, 0);
    // 65 s later than LastBusyTime of most nodes; node13 (busy until ...062) only 28 s
    const adv = plan({ policy: 'reactive', forecast: undefined, now: 1795888090 }, yaml);
    assert.deepEqual(
      adv.commands.map((c) => c.hostlist),
      ['node[08,15-16]'],
    );
    assert.equal(adv.policy, 'reactive');
  });

  it('refuses a stale forecast with ForecastUnavailable (the --fallback trigger)', () => {
    assert.throws(() => plan({ forecast: flat(3, NOW - 7200) }), ForecastUnavailable);
    assert.throws(() => plan({ forecast: undefined }), /no forecast/);
  });

  it('warns when Slurm power saving is off', () => {
    const adv = plan({ slurm: { ...slurm, powerSave: false, suspendTime: 'INFINITE' } });
    assert.match(adv.warnings.join('\n'), /power saving is off/);
  });
});

describe('parseForecast', () => {
  it('names the bad field', () => {
    assert.throws(() => parseForecast({ timestamps: ['x'], p90: [1] }, 'f.json'), /f.json: timestamps\[0\]/);
    assert.throws(() => parseForecast({ timestamps: ['2026-01-01T00:00:00Z'], p90: [] }, 'f.json'), /p90/);
    assert.throws(() => parseForecast({ p90: [1] }, 'f.json'), InputError);
    assert.throws(
      () => parseForecast({ timestamps: ['2026-01-01T00:00:00Z'], p90: [-1] }, 'f.json'),
      /p90\[0\]: expected a number >= 0/,
    );
  });
});

describe('pcm power advise (CLI errors)', () => {
  const pcm = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'power', 'advise', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PCM_NO_PROGRESS: '1', ...env },
    });

  it('says so in one line when sinfo is not installed', () => {
    const r = pcm(['--policy', 'reactive'], { PATH: mkdtempSync(join(dir, 'empty-path-')) });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /sinfo not found on PATH/);
  });

  it('rejects a bad --policy and a bad forecast file with one line', () => {
    let r = pcm(['--policy', 'oracle'], {});
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--policy: expected predictive or reactive/);
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"timestamps": [');
    r = pcm(['--forecast', f, '--service', 'http://x'], {});
    assert.match(r.stderr, /give one of them/);
  });

  it('one-line error when Slurm is unreachable (real sinfo, no controller)', (t) => {
    if (spawnSync('sinfo', ['--version']).error) return t.skip('no sinfo on this host');
    const conf = join(dir, 'slurm.conf');
    writeFileSync(
      conf,
      'ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\nNodeName=n1\nMessageTimeout=1\nTCPTimeout=1\n',
    );
    const r = pcm(['--policy', 'reactive'], { SLURM_CONF: conf });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /(sinfo|scontrol) .* failed \(exit \d+\)/);
  });
});
