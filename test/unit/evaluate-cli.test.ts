import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeTimelineCsv } from '../../src/timeline/csv.js';
import { syntheticTimeline } from '../helpers/model-synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-evaluate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));

// 9 days, 64 nodes, a daily cycle
const tl = syntheticTimeline({
  start: Date.parse('2024-03-25T00:00:00Z') / 1000,
  minutes: 9 * 1440,
  capacity: 64,
  busy: (t) => Math.round(32 + 24 * Math.sin((2 * Math.PI * t) / 1440) + ((t * 37) % 7) - 3),
});
const csv = join(dir, 'timeline.csv');
writeTimelineCsv(csv, tl);

function pcm(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'evaluate', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PCM_NO_PROGRESS: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('pcm evaluate', () => {
  it('prints the table, writes the JSON and the plots', () => {
    const out = join(dir, 'metrics.json');
    const plots = join(dir, 'plots');
    const r = pcm(
      '--timeline',
      csv,
      '--time-zone',
      'Europe/Stockholm',
      '--holidays',
      'SE',
      '--json',
      out,
      '--plots',
      plots,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /test 2024-04-01T\d\d:\d\d:00Z \.\. 2024-04-03T00:00:00Z/);
    assert.match(r.out, /^MAE\s+ridge\s/m);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.horizons.length, 30);
    assert.deepEqual(Object.keys(j.models), ['persistence', 'seasonal_day', 'seasonal_week', 'ridge']);
    assert.equal(j.models.ridge.coverage_p10_p90.length, 30);
    assert.equal(j.time_zone, 'Europe/Stockholm');
    for (const f of [
      'mae_by_horizon.svg',
      'rmse_by_horizon.svg',
      'sample_week_ridge.svg',
      'sample_week_persistence.svg',
    ]) {
      assert.ok(readFileSync(join(plots, f), 'utf8').startsWith('<svg'), f);
    }
  });

  it('--json - prints JSON instead of the table; --backtest and --from are honoured', () => {
    const r = pcm(
      '--timeline',
      csv,
      '--json',
      '-',
      '--from',
      '2024-03-31',
      '--backtest',
      '2',
      '--stride',
      '3',
    );
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.split.folds.length, 2);
    assert.equal(j.split.folds[0].test_start, '2024-03-31T00:00:00Z');
    assert.equal(j.models.persistence.folds.length, 2);
  });

  it('fails with a one-line reason on bad input', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--timeline', csv, '--test-fraction', '2'], /--test-fraction.*expected a number in \[0, 1\)/],
      [['--timeline', csv, '--from', '1990-01-01'], /--from: .* is not inside the timeline/],
      [['--timeline', csv, '--from', '2024-03-31', '--test-fraction', '0.2'], /cannot be used with/],
      [['--timeline', join(dir, 'missing.csv')], /missing\.csv/],
      [['--timeline', csv, '--time-zone', 'Nowhere/Land'], /Cluster\.TimeZone: unknown time zone/],
      [['--timeline', csv, '--model', join(dir, 'no-model')], /--model|no-model/],
    ];
    for (const [args, re] of cases) {
      const r = pcm(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.err, re, args.join(' '));
      assert.ok(!/\n\s+at /.test(r.err), `no stack trace for ${args.join(' ')}`);
    }
    assert.ok(!existsSync(join(dir, 'no-model')));
  });
});
