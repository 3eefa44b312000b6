import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runTimeline, type TimelineCommandOptions } from '../../src/cli/commands/timeline.js';
import { readTimelineCsv } from '../../src/timeline/csv.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-timeline-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// 2023-12-31T23:00:00Z; a tiny SWF log (8 nodes x 2 procs) crossing a year boundary
const T = 1_704_063_600;
const swfJob = (id: number, submit: number, wait: number, run: number, procs: number, limit: number) =>
  `${id} ${submit} ${wait} ${run} ${procs} -1 -1 ${procs} ${limit} -1 1 1 1 -1 1 -1 -1 -1`;
const swf = [
  '; Version: 2.2',
  `; UnixStartTime: ${T}`,
  '; MaxNodes: 8',
  '; MaxProcs: 16',
  swfJob(1, 0, 0, 7200, 4, 7200), // 2 nodes, 23:00 .. 01:00
  swfJob(2, 60, 540, 3000, 8, 3600), // 4 nodes, waits 9 minutes
  swfJob(3, 1800, 0, 5400, 16, 7200), // 8 nodes: overshoot from 23:30
].join('\n');
const swfPath = join(dir, 'tiny.swf');
writeFileSync(swfPath, `${swf}\n`);
const noHeader = join(dir, 'noheader.swf');
writeFileSync(noHeader, `${swf.split('\n').slice(4).join('\n')}\n`);

const opts = (o: Partial<TimelineCommandOptions>): TimelineCommandOptions => ({
  jobs: swfPath,
  tz: 'UTC',
  ...o,
});

describe('pcm timeline', () => {
  it('--summary: nodes from the SWF header, ppn from MaxProcs/MaxNodes', async () => {
    const r = await runTimeline(opts({ summary: true }));
    assert.deepEqual(r.written, []);
    assert.equal(r.summary.capacity, 8);
    assert.equal(r.summary.totalCpus, 16);
    assert.equal(r.summary.first, '2023-12-31T23:00:00Z');
    assert.equal(r.summary.last, '2024-01-01T01:00:00Z');
    assert.equal(r.summary.rawNodes.max, 14);
    assert.equal(r.summary.busyNodes.max, 8);
    assert.equal(r.summary.queue.maxJobs, 1);
    assert.equal(r.summary.jobs?.jobs, 3);
    assert.equal(r.summary.parse?.skipped, 0);
  });

  it('--out writes a CSV that reads back; --since/--until clip the rows', async () => {
    const out = join(dir, 'tl.csv');
    const r = await runTimeline(opts({ out, since: '2023-12-31T23:30:00Z', until: '2024-01-01T00:30:00Z' }));
    assert.deepEqual(r.written, [out]);
    const tl = await readTimelineCsv(out);
    assert.equal(tl.minutes, 60);
    assert.equal(tl.start, T + 1800);
    assert.equal(tl.capacity, 8);
    assert.equal(tl.columns.busy_nodes[0], 8);
    assert.equal(tl.columns.overshoot_nodes[0], 6);
  });

  it('--per-year --out DIR writes one file per UTC year', async () => {
    const out = join(dir, 'years');
    const r = await runTimeline(opts({ out, perYear: true, nodes: 10 }));
    assert.equal(r.written.length, 3); // two years and the manifest
    assert.deepEqual(
      readdirSync(out)
        .map((f) => f.replace(/\.[0-9a-f]{12}\.csv$/, '.csv'))
        .sort(),
      ['job_timeline.manifest.json', 'job_timeline_2023.csv', 'job_timeline_2024.csv'],
    );
    const tl = await readTimelineCsv(out);
    assert.equal(tl.capacity, 10);
    assert.equal(tl.minutes, r.timeline.minutes);
  });

  it('clear errors: no node count, no output, --per-year without --out', async () => {
    await assert.rejects(runTimeline(opts({ jobs: noHeader, summary: true })), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^--nodes: required, .*noheader\.swf does not say how many nodes/);
      return true;
    });
    await assert.rejects(runTimeline(opts({})), /--out FILE, --per-year --out DIR, or --summary/);
    await assert.rejects(runTimeline(opts({ perYear: true })), /--per-year needs --out DIR/);
    await assert.rejects(
      runTimeline(opts({ summary: true, since: 'yesterday' })),
      /--since: 'yesterday' is not a date/,
    );
  });

  it('the command: JSON on stdout, one-line reason and non-zero exit on bad input', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', main, 'timeline', ...args], {
        encoding: 'utf8',
        env: { ...process.env, PCM_NO_PROGRESS: '1' },
      });
    const ok = run('--jobs', swfPath, '--summary', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).capacity, 8);
    const bad = run('--jobs', swfPath, '--nodes', '-3', '--summary');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--nodes: expected a positive whole number up to 10000000, got '-3'/);
    const missing = run('--jobs', join(dir, 'nope.swf'), '--summary');
    assert.notEqual(missing.status, 0);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  });
});
