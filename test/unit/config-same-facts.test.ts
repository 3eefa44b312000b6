/**
 * Facts two config sections both state (src/config/same-facts.ts): Predictor.ForecastMinutes and
 * Model.Horizon, Predictor.LookbackMinutes and Model.LookbackMinutes. A disagreement names both keys with
 * their values and lines; a key set on one side only is followed by the other; `pcm config check` says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { SAME_FACTS } from '../../src/config/same-facts.js';

const get = (o: unknown, key: string) =>
  key.split('.').reduce((v, p) => (v as Record<string, unknown>)[p], o) as unknown;

/** The YAML text that sets the dotted keys. */
function yaml(values: Record<string, number>): string {
  const sections = new Map<string, string[]>();
  for (const [k, v] of Object.entries(values)) {
    const [s, key] = k.split('.');
    sections.set(s, [...(sections.get(s) ?? []), `  ${key}: ${v}`]);
  }
  return [...sections].map(([s, lines]) => `${s}:\n${lines.join('\n')}\n`).join('');
}

describe('facts two sections state', () => {
  it('the defaults agree', () => {
    const c = parseConfig('', 'defaults', {});
    for (const { keys } of SAME_FACTS) assert.equal(get(c, keys[0]), get(c, keys[1]), keys.join(' = '));
    assert.equal(c.Predictor.ForecastMinutes, 30);
    assert.equal(c.Model.LookbackMinutes, 240);
  });

  it('a key set on one side only: the other follows it, either way', () => {
    for (const { keys } of SAME_FACTS) {
      for (const [set, other] of [keys, [keys[1], keys[0]]]) {
        const c = parseConfig(yaml({ [set]: 60 }), 'c.yaml', {});
        assert.equal(get(c, set), 60, set);
        assert.equal(get(c, other), 60, `${other} follows ${set}`);
      }
    }
  });

  it('both set alike: fine', () => {
    const c = parseConfig(yaml({ 'Predictor.ForecastMinutes': 45, 'Model.Horizon': 45 }), 'c.yaml', {});
    assert.equal(c.Model.Horizon, 45);
  });

  it('both set differently: one error naming both keys, their values and lines', () => {
    const text =
      'Predictor:\n  ForecastMinutes: 60\n  LookbackMinutes: 120\nModel:\n  Horizon: 30\n  LookbackMinutes: 480\n';
    assert.throws(
      () => parseConfig(text, 'c.yaml', {}),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.problems.length, 2);
        assert.match(
          e.problems[0],
          /^Predictor\.ForecastMinutes \(line 2\) is 60 but Model\.Horizon \(line 5\) is 30: both state the forecast horizon/,
        );
        assert.match(
          e.problems[1],
          /^Predictor\.LookbackMinutes \(line 3\) is 120 but Model\.LookbackMinutes \(line 6\) is 480/,
        );
        return true;
      },
    );
  });

  it('a followed value is checked by the section it joins, and the error says where it came from', () => {
    // 242 is a fine Predictor lookback but not a multiple of Model.ResolutionMinutes (5)
    assert.throws(
      () => parseConfig('Predictor:\n  LookbackMinutes: 242\n', 'c.yaml', {}),
      /Model\.ResolutionMinutes: LookbackMinutes must be a multiple of ResolutionMinutes \(Model\.LookbackMinutes follows Predictor\.LookbackMinutes \(line 2\) = 242\)/,
    );
    // two keys follow into Model: the error names both
    assert.throws(
      () => parseConfig('Predictor:\n  ForecastMinutes: 20\n  LookbackMinutes: 242\n', 'c.yaml', {}),
      /\(Model\.Horizon follows Predictor\.ForecastMinutes \(line 2\) = 20, Model\.LookbackMinutes follows Predictor\.LookbackMinutes \(line 3\) = 242\)$/,
    );
    const c = parseConfig(
      'Predictor:\n  LookbackMinutes: 242\nModel:\n  ResolutionMinutes: 2\n',
      'c.yaml',
      {},
    );
    assert.equal(c.Model.LookbackMinutes, 242);
  });

  it('a value invalid on its own is reported as before (its key and line), not as a disagreement', () => {
    assert.throws(
      () => parseConfig('Predictor:\n  ForecastMinutes: 0\nModel:\n  Horizon: 30\n', 'c.yaml', {}),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.problems.length, 1);
        assert.match(e.problems[0], /^Predictor\.ForecastMinutes \(line 2\): /);
        return true;
      },
    );
  });
});

describe('pcm config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcm-same-facts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const check = (text: string, ...args: string[]) => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    return spawnSync(process.execPath, ['--import', 'tsx', main, 'config', 'check', f, ...args], {
      encoding: 'utf8',
    });
  };

  it('refuses a disagreement in one line naming both keys', () => {
    const r = check('Predictor:\n  ForecastMinutes: 60\n\nModel:\n  Horizon: 30\n');
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^pcm: .*c\w+\.yaml: invalid config: Predictor\.ForecastMinutes \(line 2\) is 60 but Model\.Horizon \(line 5\) is 30/,
    );
  });

  it('shows the followed value in the effective config', () => {
    const r = check('Model:\n  Horizon: 15\n', '--json');
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.equal(c.Predictor.ForecastMinutes, 15);
    assert.equal(c.Model.Horizon, 15);
  });
});
