import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extract } from '../../src/cli/commands/extract.js';
import { parseJobsCsvText } from '../../src/jobs/jobs-csv.js';
import { detectFormat, openJobSource, overlaps } from '../../src/jobs/open.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { InputError, UserError } from '../../src/util/errors.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIX = join(ROOT, 'test/fixtures');
const KTH = join(FIX, 'traces/KTH-SP2-1996-2.1-cln.head2000.swf.gz');
const CTC = join(FIX, 'traces/CTC-SP2-1996-3.1-cln.head500.swf');
const SACCT = join(FIX, 'sacct-handwritten.txt');
const tmp = mkdtempSync(join(tmpdir(), 'pcm-open-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(spec: string, opts = {}): Promise<JobRecord[]> {
  const src = await openJobSource(spec, opts);
  const out: JobRecord[] = [];
  for await (const j of src.jobs) out.push(j);
  return out;
}

describe('openJobSource', () => {
  it('detects formats by name or first line, plain or gzip', async () => {
    const ctcNoExt = join(tmp, 'ctc.log');
    copyFileSync(CTC, ctcNoExt);
    const sacctGz = join(tmp, 'sacct.out.gz');
    writeFileSync(sacctGz, gzipSync(readFileSync(SACCT)));
    const csv = join(tmp, 'jobs.csv');
    await extract({ swf: CTC, out: csv, tz: 'UTC' });
    assert.equal(await detectFormat(KTH), 'swf');
    assert.equal(await detectFormat(ctcNoExt), 'swf');
    assert.equal(await detectFormat(SACCT), 'sacct');
    assert.equal(await detectFormat(sacctGz), 'sacct');
    assert.equal(await detectFormat(csv), 'csv');
    assert.equal((await collect(sacctGz, { timeZone: 'Europe/Berlin' })).length, 14);
    assert.equal((await collect(csv)).length, 500);
  });

  it('unknown formats and missing files: one-line errors saying what is accepted', async () => {
    const junk = join(tmp, 'junk.txt');
    writeFileSync(junk, 'hello world\n');
    await assert.rejects(
      openJobSource(junk),
      (e: unknown) =>
        e instanceof InputError &&
        /unknown job file format .*accepted: SWF .*job CSV.*sacct.*mysql:\/\//.test(e.message),
    );
    const empty = join(tmp, 'empty');
    writeFileSync(empty, '');
    await assert.rejects(openJobSource(empty), /unknown job file format/);
    await assert.rejects(
      openJobSource(join(tmp, 'nope.swf')),
      (e: unknown) => e instanceof UserError && /no such file/.test(e.message),
    );
    await assert.rejects(openJobSource(tmp), /is a directory/);
  });

  it('a forced format that the file contradicts is refused', async () => {
    await assert.rejects(
      openJobSource(SACCT, { format: 'swf' }),
      /expected SWF but the file looks like sacct output/,
    );
    await assert.rejects(
      openJobSource(KTH, { format: 'csv' }),
      /expected job CSV but the file looks like SWF/,
    );
    await assert.rejects(
      openJobSource('/tmp/x.csv', { format: 'slurmdb' }),
      /expected a mysql:\/\/ or mariadb:\/\/ URL/,
    );
  });

  it('since/until keep jobs overlapping the window, counted in the report', async () => {
    const all = await collect(KTH);
    const since = Date.parse('1996-10-15T00:00:00Z') / 1000;
    const until = Date.parse('1996-10-16T00:00:00Z') / 1000;
    const src = await openJobSource(KTH, { since, until });
    const kept: JobRecord[] = [];
    for await (const j of src.jobs) kept.push(j);
    const expected = all.filter((j) => (j.submit as number) < until && (j.end as number) > since);
    assert.ok(expected.length > 10 && expected.length < all.length);
    assert.deepEqual(kept, expected);
    assert.equal(src.report.jobs, kept.length);
    assert.equal(src.report.notes.outside_window, all.length - kept.length);
    await assert.rejects(openJobSource(KTH, { since: until, until: since }), /window is empty/);
  });

  it('overlap rules: intervals, open-ended jobs, instants, no times', () => {
    const j = (o: Partial<JobRecord>): JobRecord => ({
      id: '1',
      submit: null,
      eligible: null,
      start: null,
      end: null,
      nodes: 1,
      cpus: 1,
      timeLimit: null,
      partition: null,
      state: 'COMPLETED',
      user: null,
      nodeList: null,
      ...o,
    });
    assert.equal(overlaps(j({ submit: 0, start: 10, end: 20 }), 20, 30), false); // ended at since
    assert.equal(overlaps(j({ submit: 0, start: 10, end: 21 }), 20, 30), true);
    assert.equal(overlaps(j({ submit: 30, start: 30, end: 40 }), 20, 30), false); // submitted at until
    assert.equal(overlaps(j({ submit: 0, start: 10, state: 'RUNNING' }), 100, 200), true);
    assert.equal(overlaps(j({ submit: 0, state: 'PENDING' }), 100, 200), true);
    assert.equal(overlaps(j({ submit: 0, state: 'CANCELLED' }), 100, 200), false); // SWF: never ran, no end
    assert.equal(overlaps(j({ submit: 150, state: 'CANCELLED' }), 100, 200), true);
    assert.equal(overlaps(j({}), 100, 200), false);
  });
});

describe('pcm extract', () => {
  it('writes the job CSV and summarises (function)', async () => {
    const out = join(tmp, 'sub/dir/kth.csv');
    const s = await extract({ swf: KTH, out, tz: 'UTC', since: '1996-10-15', until: '1996-10-16' });
    assert.equal(s.kind, 'swf');
    assert.equal(s.meta.maxNodes, 100);
    const back = parseJobsCsvText(readFileSync(out, 'utf8'));
    assert.equal(back.jobs.length, s.jobs);
    assert.ok(s.span.from !== null && s.span.from < '1996-10-16');
    assert.equal(s.report.notes.outside_window, 2000 - s.jobs);
  });

  it('CLI: --json on stdout, exit codes and one-line reasons', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'extract', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, PCM_NO_PROGRESS: '1' },
      });
    const out = join(tmp, 'cli.csv');
    const ok = run('--sacct', SACCT, '--tz', 'Europe/Berlin', '--out', out, '--json');
    assert.equal(ok.status, 0, ok.stderr);
    const summary = JSON.parse(ok.stdout);
    assert.equal(summary.jobs, 14);
    assert.equal(summary.report.skipped, 4);
    assert.equal(summary.report.firstSkipped[0].line, 18);
    assert.ok(existsSync(out));

    const text = run('--swf', CTC, '--out', join(tmp, 'ctc.csv'));
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, '');
    assert.match(text.stderr, /^wrote 500 jobs to .*ctc\.csv\nspan: 1996-06-26T\d\d:\d\d:\d\dZ \.\. /);
    assert.match(text.stderr, /acknowledge: Dan Dwyer and Steve Hotovy/);

    const two = run('--swf', CTC, '--sacct', SACCT, '--out', out);
    assert.equal(two.status, 1);
    assert.equal(
      two.stderr,
      'pcm: give exactly one input: --swf FILE, --sacct FILE, --jobs FILE or --slurmdb URL\n',
    );
    const badDate = run('--swf', CTC, '--since', 'yesterday', '--out', out);
    assert.equal(badDate.status, 1);
    assert.match(badDate.stderr, /^pcm: --since: 'yesterday' is not a date; expected YYYY-MM-DD/);
    const junk = join(tmp, 'junk.swf');
    writeFileSync(junk, 'not\nswf\n');
    const allBad = run('--swf', junk, '--out', join(tmp, 'none.csv'));
    assert.equal(allBad.status, 2);
    assert.match(allBad.stderr, /no jobs read, 2 line\(s\) malformed \(line 1: expected 18/);
    assert.ok(!existsSync(join(tmp, 'none.csv')));
    const noCluster = run('--slurmdb', 'mysql://u@127.0.0.1/slurm_acct_db', '--out', out);
    assert.match(noCluster.stderr, /--slurmdb needs --cluster NAME/);
  });
});
