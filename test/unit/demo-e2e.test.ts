import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function pcm(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, PCM_NO_PROGRESS: '1' },
  });
}

describe('pcm demo (the main job), small sizes, without serving', () => {
  it('simulates, trains, evaluates next to the baselines, and reuses its work on a re-run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-demo-'));
    try {
      const args = [
        'demo',
        '--dir',
        dir,
        '--days',
        '4',
        '--nodes',
        '32',
        '--train-minutes',
        '0.15',
        '--no-serve',
      ];
      const first = pcm(args);
      assert.equal(first.status, 0, first.stderr);
      for (const f of [
        'config.yaml',
        'timeline.csv',
        'jobs.csv',
        'model/model.json',
        'model/training-curves.svg',
        'eval.json',
      ])
        assert.ok(existsSync(join(dir, f)), `${f} written`);
      assert.ok(
        readdirSync(join(dir, 'plots')).some((f) => f.endsWith('.svg')),
        'plots written',
      );
      const ev = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
      assert.equal(ev.horizons.length, 30);
      for (const m of ['persistence', 'seasonal_day', 'seasonal_week', 'ridge'])
        assert.equal(ev.models[m].mae.length, 30, m);
      const trained = Object.keys(ev.models).filter(
        (m) => !['persistence', 'seasonal_day', 'seasonal_week', 'ridge'].includes(m),
      );
      assert.equal(trained.length, 1, 'the trained model is evaluated next to the baselines');
      assert.match(first.stdout, /MAE\s+persistence/);
      // one line on whether the model beats persistence 30 minutes ahead, with the figures
      assert.match(
        first.stderr,
        /pcm demo: the trained forecaster (beats|does not beat) persistence 30 minutes ahead on the test window:? \(?P50 MAE [\d.]+ vs persistence [\d.]+ nodes/,
      );
      // the workload: the real cluster's twin, rescaled to the 32 nodes (jobs capped at them)
      const cfg = readFileSync(join(dir, 'config.yaml'), 'utf8');
      assert.match(cfg, /KTH SP2/);
      assert.match(cfg, /^ {2}Nodes: 32$/m);
      assert.match(cfg, /^ {4}MaxNodes: 32$/m);

      const second = pcm(args);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stderr, /simulate: reusing/);
      assert.match(second.stderr, /train: reusing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
