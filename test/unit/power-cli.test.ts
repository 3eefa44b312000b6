import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'pcm-power-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));
// a slice of KTH-SP2 (Parallel Workloads Archive; log provided by Lars Malinowsky, KTH)
const TRACE = 'test/fixtures/traces/KTH-SP2-1996-2.1-cln.head2000.swf.gz';

function pcm(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'power', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PCM_NO_PROGRESS: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('pcm power replay', () => {
  it('--json prints the issue-6 figures and writes power.json and the plots', () => {
    const out = join(dir, 'all');
    const r = pcm(
      'replay',
      '--jobs',
      TRACE,
      '--nodes',
      '100',
      '--ppn',
      '1',
      '--policy',
      'all',
      '--out',
      out,
      '--json',
      '--jitter-seeds',
      '1',
      '--sweep-reactive',
      '60,600',
      '--sweep-predictive',
      '0,2',
    );
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(Object.keys(j.policies), ['always_on', 'reactive', 'predictive', 'oracle']);
    for (const p of Object.values(j.policies) as Array<Record<string, number>>) {
      for (const k of [
        'energy_kwh',
        'saved_pct',
        'node_hours_off',
        'boots',
        'mean_boot_wait_s',
        'mean_added_wait_s',
        'p95_added_wait_s',
        'jobs_delayed_300s_pct',
      ]) {
        assert.equal(typeof p[k], 'number', k);
      }
    }
    assert.equal(j.policies.reactive.knob.value, 600);
    assert.deepEqual(Object.keys(j.curves.reactive[0]).sort(), ['knob', 'mean_boot_wait_s', 'saved_pct']);
    assert.equal(j.curves.predictive.length, 2);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'power.json'), 'utf8')).policies, j.policies);
    for (const f of [
      'tradeoff.svg',
      'week-always_on.svg',
      'week-reactive.svg',
      'week-predictive.svg',
      'week-oracle.svg',
    ]) {
      assert.ok(existsSync(join(out, f)), f);
      assert.match(readFileSync(join(out, f), 'utf8'), /^<svg /);
    }
  });

  it('one policy: always-on stays as the baseline; the table names it', () => {
    const r = pcm(
      'replay',
      '--jobs',
      TRACE,
      '--nodes',
      '100',
      '--policy',
      'reactive',
      '--out',
      join(dir, 'r'),
      '--no-sweep',
      '--jitter-seeds',
      '0',
      '--suspend-time',
      '120',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /reactive \(SuspendTime 120\)/);
    assert.match(r.out, /always_on/);
    assert.doesNotMatch(r.out, /predictive/);
  });

  it('fails with a one-line reason on bad input', () => {
    const bad = pcm('replay', '--jobs', TRACE, '--out', join(dir, 'x'), '--policy', 'sometimes');
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--policy: expected all or one of/);
    const missing = pcm('replay', '--jobs', join(dir, 'nope.swf'), '--out', join(dir, 'x'));
    assert.notEqual(missing.code, 0);
    assert.equal(missing.err.trim().split('\n').length, 1);
  });
});
