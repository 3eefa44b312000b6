import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KTH = join(ROOT, 'test/fixtures/traces/KTH-SP2-1996-2.1-cln.head2000.swf.gz');
const dir = mkdtempSync(join(tmpdir(), 'pcm-sim-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pcm(args: string[]) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'simulate', ...args],
    {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, PCM_NO_PROGRESS: '1', PCM_INFLUX_URL: '', PCM_SLURMDB_URL: '' },
      timeout: 120_000,
    },
  );
}

function config(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Run a small simulation writing all three files into `sub`; returns their contents. */
function run(sub: string, seed: number): Record<string, string> {
  const out = join(dir, sub);
  const files = { swf: join(`${out}.swf`), jobs: `${out}.jobs.csv`, timeline: `${out}.timeline.csv` };
  const r = pcm([
    '--nodes',
    '32',
    '--days',
    '3',
    '--start',
    '2026-02-02',
    '--seed',
    String(seed),
    '--out-swf',
    files.swf,
    '--out-jobs',
    files.jobs,
    '--out-timeline',
    files.timeline,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /scheduled \d+ jobs/);
  return Object.fromEntries(Object.entries(files).map(([k, p]) => [k, readFileSync(p, 'utf8')]));
}

describe('pcm simulate (CLI)', () => {
  it('same seed -> byte-identical SWF, job CSV and timeline; another seed -> different', () => {
    const a = run('a', 11);
    const b = run('b', 11);
    const c = run('c', 12);
    for (const k of ['swf', 'jobs', 'timeline']) {
      assert.ok(a[k].length > 1000, `${k} has content`);
      assert.equal(a[k], b[k], `${k} differs between two runs with the same seed`);
      assert.notEqual(a[k], c[k], `${k} is the same for another seed`);
    }
    // the job CSV carries the allocated nodes as hostlists of the default names
    assert.match(a.jobs, /,node\[\d\d-\d\d\]/);
  });

  it('bad config -> exit 2 with the key named', () => {
    const cases: Array<[string, string[], RegExp]> = [
      [
        'Simulator:\n  Classes:\n    Short:\n      Share: 0.9\n',
        [],
        /Simulator\.Classes.*class shares \(Short \+ Regular \+ Long\) must sum to 1, got 1\.33/,
      ],
      ['Simulator:\n  Arrivals:\n    JobsPerDay: -5\n', [], /Simulator\.Arrivals\.JobsPerDay \(line 3\)/],
      [
        'Simulator:\n  Sizes:\n    MaxNodes: 64\n',
        ['--nodes', '32'],
        /Simulator\.Sizes\.MaxNodes: largest job \(64 nodes\) exceeds the cluster/,
      ],
      [
        'Simulator:\n  Classes:\n    Long:\n      RuntimeQuantiles: [20000, 30000, 25000]\n',
        [],
        /Simulator\.Classes\.Long\.RuntimeQuantiles\.2.*must not decrease \(25000 after 30000\)/,
      ],
      [
        'Simulator:\n  Sizes:\n    Log2Shares: [0.5, 0.2]\n',
        [],
        /Simulator\.Sizes\.Log2Shares.*shares must sum to 1, got 0\.7/,
      ],
      ['Simulator:\n  Bogus: 1\n', [], /Simulator\.Bogus \(line 2\): unknown key/],
    ];
    cases.forEach(([text, extra, re], i) => {
      const r = pcm(['--config', config(`bad${i}.yaml`, text), '--days', '1', ...extra]);
      assert.equal(r.status, 2, `case ${i}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, re, `case ${i}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `case ${i}: one line`);
      assert.equal(r.stdout, '');
    });
  });

  it('bad options -> one line, non-zero, naming the option', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--speed', '60'], /--speed is for --live/],
      [['--live', '--speed', '0'], /--speed: expected a number in \(0, 10000000\], got '0'/],
      [['--live', '--out-swf', join(dir, 'x.swf')], /--live writes telemetry rows only/],
      [['--replace'], /--replace is for --out-slurmdb/],
      [
        ['--nodes', '16', '--days', '1', '--node-names', 'n[1-8]'],
        /--node-names: n\[1-8\] names 8 nodes, expected 16/,
      ],
      [['--live', '--origin', 'yesterday'], /--origin: expected an ISO date-time or epoch seconds/],
      [
        ['--days', '0.1', '--out-slurmdb', 'http://x/db'],
        /invalid Slurm DB URL http:\/\/x\/db: scheme http: is not mysql:/,
      ],
      [
        ['--days', '0.1', '--out-slurmdb', 'mysql://u:s3cret@127.0.0.1:1/slurm_acct_db', '--cluster', 'c1'],
        /cannot connect to the Slurm DB at 127\.0\.0\.1:1: connection refused/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = pcm(args);
      assert.doesNotMatch(r.stderr, /s3cret/, 'no password in messages');
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('--calibrate writes a Simulator section that simulates (empirical sizes and run times included)', () => {
    const out = join(dir, 'twin.yaml');
    const r = pcm(['--calibrate', KTH, '--ppn', '1', '--nodes', '100', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const sec = parse(readFileSync(out, 'utf8')).Simulator;
    assert.equal(sec.Sizes.Log2Shares.length, 7); // KTH jobs have 1..100 nodes: bands 1, 2-3, ..., 64-127
    assert.equal(sec.Classes.SharesBySize.length, 7);
    assert.equal(sec.Classes.Regular.RuntimeQuantiles.length, 21);
    const s = pcm(['--config', out, '--days', '7', '--json']);
    assert.equal(s.status, 0, s.stderr);
    const sum = JSON.parse(s.stdout);
    assert.equal(sum.nodes, 100);
    assert.ok(sum.stats.ran > 100, `${sum.stats.ran} jobs ran`);
  });

  it('--live with the embedded store prints rows with --json and stops at the end of the workload', () => {
    const r = pcm([
      '--live',
      '--speed',
      '1000000',
      '--nodes',
      '8',
      '--days',
      '0.25',
      '--origin',
      '2026-03-04T05:00:00Z',
      '--preroll',
      '1',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 60, `${rows.length} rows`);
    assert.equal(rows[0].time, Date.UTC(2026, 2, 4, 4, 0, 0) / 1000);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i].time - rows[i - 1].time, 60);
    assert.equal(rows[0].capacity, 8);
    assert.equal(rows[0].partition, '_all');
    assert.match(r.stderr, /workload ended; wrote \d+ rows/);
  });
});
