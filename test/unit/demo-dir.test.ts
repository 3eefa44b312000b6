/**
 * `pcm demo`'s working directory and port: a directory built with other options is refused with the
 * difference (or started over with --rebuild, removing only the demo's files), and a taken port fails at
 * once with one line naming --port, before any of the long steps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { prepareDemoDir } from '../../src/cli/commands/demo-dir.js';
import { UserError } from '../../src/util/errors.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pcm-demo-dir-'));
}

const A = { nodes: 120, days: 28, seed: 1, 'train-minutes': 4, recipe: 1 };

describe('prepareDemoDir', () => {
  it('records a new directory, then reuses it for the same options', () => {
    const dir = tmp();
    try {
      assert.equal(prepareDemoDir(dir, 'pcm-demo', A, false), 'new');
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).options, A);
      writeFileSync(join(dir, 'timeline.csv'), 'x');
      assert.equal(prepareDemoDir(dir, 'pcm-demo', { ...A }, false), 'same');
      assert.ok(existsSync(join(dir, 'timeline.csv')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses other options with the difference and the two ways out; nothing is removed', () => {
    const dir = tmp();
    try {
      prepareDemoDir(dir, 'pcm-demo', A, false);
      writeFileSync(join(dir, 'timeline.csv'), 'x');
      assert.throws(
        () => prepareDemoDir(dir, 'pcm-demo', { ...A, nodes: 200, days: 7 }, false),
        (e: Error) =>
          e instanceof UserError &&
          e.message ===
            'pcm-demo was built with --nodes 120 --days 28; this run asks for --nodes 200 --days 7. Add --rebuild to build it again (its config.yaml, timeline.csv, jobs.csv, model, eval.json, plots are replaced), or choose another --dir',
      );
      assert.ok(existsSync(join(dir, 'timeline.csv')));
      // a recipe change (the demo's settings changed in code) counts like an option
      assert.throws(
        () => prepareDemoDir(dir, 'pcm-demo', { ...A, recipe: 2 }, false),
        /--recipe 1.*--recipe 2/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--rebuild removes the demo files only and records the new options', () => {
    const dir = tmp();
    try {
      prepareDemoDir(dir, 'pcm-demo', A, false);
      mkdirSync(join(dir, 'model'));
      writeFileSync(join(dir, 'model', 'model.json'), '{}');
      for (const f of ['timeline.csv', 'config.yaml', 'notes.txt']) writeFileSync(join(dir, f), 'x');
      assert.equal(prepareDemoDir(dir, 'pcm-demo', { ...A, seed: 2 }, true), 'rebuilt');
      assert.ok(!existsSync(join(dir, 'model')) && !existsSync(join(dir, 'timeline.csv')));
      assert.ok(!existsSync(join(dir, 'config.yaml')));
      assert.ok(existsSync(join(dir, 'notes.txt')), 'a file the demo did not write stays');
      assert.equal(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).options.seed, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory from a pcm demo that kept no record is refused, not reused', () => {
    const dir = tmp();
    try {
      writeFileSync(join(dir, 'timeline.csv'), 'x');
      assert.throws(
        () => prepareDemoDir(dir, 'old', A, false),
        /^UserError: old holds timeline.csv from an earlier pcm demo that did not record its options\. Add --rebuild/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function pcm(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PCM_NO_PROGRESS: '1' },
  });
}

describe('pcm demo fails at once', () => {
  it('when its port is taken: one line naming --port, before simulating anything', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = tmp();
    try {
      const r = pcm(['demo', '--dir', join(dir, 'd'), '--port', String(port), '--days', '1']);
      assert.notEqual(r.status, 0);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.equal(
        lines[0],
        `pcm: cannot listen on 127.0.0.1:${port}: the port is in use by another program; choose another with --port N (npm start -- --port N)`,
      );
      assert.ok(!existsSync(join(dir, 'd')), 'nothing written');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the directory was built with other options', () => {
    const dir = tmp();
    try {
      prepareDemoDir(dir, dir, { ...A, days: 4, nodes: 32 }, false);
      writeFileSync(join(dir, 'timeline.csv'), 'x');
      const r = pcm(['demo', '--dir', dir, '--days', '5', '--nodes', '32', '--no-serve']);
      assert.notEqual(r.status, 0);
      // (other defaults may differ too when the demo's settings change: only --days is asserted)
      assert.match(r.stderr, /was built with .*--days 4.*; this run asks for .*--days 5.*\. Add --rebuild/);
      assert.equal(readFileSync(join(dir, 'timeline.csv'), 'utf8'), 'x');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
