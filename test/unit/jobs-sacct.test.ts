import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { JobRecord } from '../../src/jobs/record.js';
import { openSacct, parseSacctText, parseSlurmDuration } from '../../src/jobs/sacct.js';
import { InputError, UserError } from '../../src/util/errors.js';

const FIXTURE = new URL('../fixtures/sacct-handwritten.txt', import.meta.url).pathname;
const TEXT = readFileSync(FIXTURE, 'utf8');
const BERLIN = { timeZone: 'Europe/Berlin' };
const tmp = mkdtempSync(join(tmpdir(), 'pcm-sacct-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const utc = (iso: string) => Date.parse(`${iso}Z`) / 1000;

/** Rewrite parsable text with its columns in another order (malformed rows keep their own shape). */
function permuteColumns(text: string, order: (n: number) => number[]): string {
  const lines = text.trimEnd().split('\n');
  const n = lines[0].split('|').length;
  const idx = order(n);
  return lines
    .map((l) => {
      const f = l.split('|');
      return f.length === n ? idx.map((i) => f[i]).join('|') : l;
    })
    .join('\n');
}

function byId(jobs: JobRecord[], id: string): JobRecord[] {
  return jobs.filter((j) => j.id === id);
}

describe('sacct parsable2', () => {
  const { jobs, report } = parseSacctText(TEXT, BERLIN, 'fixture');

  it('reads the hand-written export: jobs, steps skipped, malformed lines with line numbers', () => {
    assert.equal(jobs.length, 14);
    assert.equal(report.jobs, 14);
    assert.equal(report.notes.steps_skipped, 3);
    assert.deepEqual(
      report.firstSkipped.map((s) => s.line),
      [18, 19, 20, 21],
    );
    assert.match(report.firstSkipped[0].reason, /^NNodes: "many" is not a whole number$/);
    assert.match(report.firstSkipped[1].reason, /^Start: "2024-13-04T13:07:00" is not a time/);
    assert.match(
      report.firstSkipped[2].reason,
      /^expected 16 '\|'-separated fields as in the header, found 6$/,
    );
    assert.match(report.firstSkipped[3].reason, /^Timelimit: "soon" is not/);
  });

  it('local times in the given zone (CET in March), everything mapped', () => {
    assert.deepEqual(byId(jobs, '4101')[0], {
      id: '4101',
      submit: utc('2024-03-04T07:59:12'),
      eligible: utc('2024-03-04T07:59:12'),
      start: utc('2024-03-04T08:00:05'),
      end: utc('2024-03-04T10:12:40'),
      nodes: 4,
      cpus: 256,
      timeLimit: 4 * 3600,
      partition: 'batch',
      state: 'COMPLETED',
      user: 'alice',
      nodeList: 'cn[001-004]',
    });
  });

  it('across the spring-forward night', () => {
    const j = byId(jobs, '4117')[0];
    assert.equal(j.submit, utc('2024-03-31T00:50:00'));
    assert.equal(j.end, utc('2024-03-31T01:05:00'));
    assert.equal((j.end as number) - (j.start as number), 600); // matches Elapsed 00:10:00
  });

  it('requeued runs stay separate rows; array and het ids intact', () => {
    assert.deepEqual(
      byId(jobs, '4105').map((j) => j.state),
      ['NODE_FAIL', 'REQUEUED', 'COMPLETED'],
    );
    assert.ok(byId(jobs, '4102_1').length === 1 && byId(jobs, '4109+1').length === 1);
  });

  it('a job cancelled while pending keeps start = end (as the DB stores it); pending and running jobs have open times', () => {
    const c = byId(jobs, '4106')[0];
    assert.equal(c.state, 'CANCELLED');
    assert.equal(c.start, utc('2024-03-04T10:20:00'));
    assert.equal(c.end, utc('2024-03-04T10:20:00'));
    assert.equal(c.nodes, 2);
    assert.equal(c.cpus, 128); // requested, since nothing was allocated
    assert.equal(c.nodeList, null);
    assert.equal(report.notes.never_allocated, 1);
    const p = byId(jobs, '4111')[0];
    assert.deepEqual(
      [p.state, p.eligible, p.start, p.end, p.cpus, p.timeLimit],
      ['PENDING', null, null, null, 4096, 172800],
    );
    const r = byId(jobs, '4109+0')[0];
    assert.deepEqual([r.state, r.end, r.timeLimit], ['RUNNING', null, null]);
  });

  it('time limits: MM:SS, D-HH:MM:SS, UNLIMITED, Partition_limit', () => {
    assert.equal(byId(jobs, '4102_1')[0].timeLimit, 1800);
    assert.equal(byId(jobs, '4105')[0].timeLimit, 86400);
    assert.equal(byId(jobs, '4108')[0].timeLimit, null);
    assert.equal(report.notes.timelimit_partition, 1);
  });

  it('any column order gives the same jobs', () => {
    const reversed = permuteColumns(TEXT, (n) => [...Array(n).keys()].reverse());
    const rotated = permuteColumns(TEXT, (n) => [...Array(n).keys()].map((i) => (i + 5) % n));
    for (const t of [reversed, rotated]) {
      const r = parseSacctText(t, BERLIN);
      assert.deepEqual(r.jobs, jobs);
      assert.equal(r.report.skipped, 4);
    }
  });

  it('names the missing required columns', () => {
    assert.throws(
      () => parseSacctText('JobID|Start|NNodes|State\n1|Unknown|1|PENDING\n', {}, 'x.txt'),
      (e: unknown) =>
        e instanceof InputError &&
        /x\.txt: sacct header \(line 1\) lacks required column\(s\) Submit, End, AllocCPUS or NCPUS or ReqCPUS/.test(
          e.message,
        ),
    );
  });

  it('alternative columns: JobIDRaw, AllocNodes/ReqNodes, NCPUS/ReqCPUS; unknown columns ignored', () => {
    const t =
      'Foo|JobIDRaw|Submit|Start|End|AllocNodes|ReqNodes|ReqCPUS|NCPUS|Bar\n' +
      'x|77|2024-01-01T00:00:00|2024-01-01T00:01:00|2024-01-01T00:02:00|2|2|8|16|y\n' +
      'x|78|2024-01-01T00:00:00|Unknown|Unknown|0|3|24|0|y\n';
    const { jobs } = parseSacctText(t);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.nodes, j.cpus, j.state, j.start]),
      [
        ['77', 2, 16, 'UNKNOWN', utc('2024-01-01T00:01:00')],
        ['78', 3, 24, 'UNKNOWN', null],
      ],
    );
  });

  it('default UTC; ISO with Z or offset accepted whatever the zone', () => {
    const t =
      'JobID|Submit|Start|End|NNodes|AllocCPUS\n' +
      '1|2024-07-01T12:00:00|2024-07-01T12:00:00Z|2024-07-01T14:00:00+02:00|1|1\n';
    const a = parseSacctText(t).jobs[0];
    assert.deepEqual(
      [a.submit, a.start, a.end],
      [utc('2024-07-01T12:00:00'), utc('2024-07-01T12:00:00'), utc('2024-07-01T12:00:00')],
    );
    const b = parseSacctText(t, BERLIN).jobs[0];
    assert.equal(b.submit, utc('2024-07-01T10:00:00')); // CEST
    assert.equal(b.start, utc('2024-07-01T12:00:00'));
  });

  it('states: "CANCELLED by N", trailing +, aliases, unknown words', () => {
    const rows = [
      'CANCELLED by 1234',
      'CANCELLED+',
      'REQUEUE_HOLD',
      'SPECIAL_EXIT',
      'PREEMPTED',
      'BOOT_FAIL',
      'WHATEVER',
      '',
    ];
    const t = `JobID|Submit|Start|End|NNodes|AllocCPUS|State\n${rows
      .map((s, i) => `${i}|None|None|None|1|1|${s}`)
      .join('\n')}\n`;
    const { jobs, report } = parseSacctText(t);
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['CANCELLED', 'CANCELLED', 'REQUEUED', 'FAILED', 'PREEMPTED', 'BOOT_FAIL', 'UNKNOWN', 'UNKNOWN'],
    );
    assert.equal(report.notes.unknown_state, 1);
  });

  it('--parsable (trailing |) works too; End from Elapsed when a finished job lacks it', () => {
    const t =
      'JobID|Submit|Start|End|NNodes|AllocCPUS|State|Elapsed|\n' +
      '5|2024-01-01T00:00:00|2024-01-01T00:00:10|Unknown|1|4|COMPLETED|1-00:00:05|\n';
    const { jobs, report } = parseSacctText(t);
    assert.equal(report.skipped, 0);
    assert.equal(jobs[0].end, utc('2024-01-02T00:00:15'));
    assert.equal(report.notes.end_from_elapsed, 1);
  });

  it('rejects rows whose End is before Start, and unknown time zones', () => {
    const t = 'JobID|Submit|Start|End|NNodes|AllocCPUS\n1|None|2024-01-01T01:00:00|2024-01-01T00:00:00|1|1\n';
    assert.match(parseSacctText(t).report.firstSkipped[0].reason, /End is before Start/);
    assert.throws(() => parseSacctText(t, { timeZone: 'Mars/Olympus' }), UserError);
  });

  it('streams from a file, plain or gzip, and checks the header at open', async () => {
    const plain = join(tmp, 'a.txt');
    const gz = join(tmp, 'a.txt.gz');
    writeFileSync(plain, TEXT);
    writeFileSync(gz, gzipSync(TEXT));
    for (const p of [plain, gz]) {
      const src = await openSacct(p, BERLIN);
      const got: JobRecord[] = [];
      for await (const j of src.jobs) got.push(j);
      assert.deepEqual(got, jobs);
      assert.equal(src.report.skipped, 4);
    }
    const bad = join(tmp, 'bad.txt');
    writeFileSync(bad, 'JobID|Start\n');
    await assert.rejects(openSacct(bad), /lacks required column/);
    writeFileSync(bad, '\n\n');
    await assert.rejects(openSacct(bad), /empty; expected a sacct header/);
  });
});

describe('Slurm durations', () => {
  it('parses the forms sacct prints and Slurm accepts', () => {
    const cases: Array<[string, number | undefined]> = [
      ['00:30:00', 1800],
      ['30:00', 1800],
      ['05:07', 307],
      ['1-00:00:00', 86400],
      ['2-12:30:15', 2 * 86400 + 12 * 3600 + 30 * 60 + 15],
      ['1-06', 86400 + 6 * 3600],
      ['1-06:30', 86400 + 6 * 3600 + 1800],
      ['100:00:00', 360000],
      ['90', 5400],
      ['00:00:01.250', 1],
      ['1:60:00', undefined],
      ['00:00:61', undefined],
      ['1-25:00:00', undefined],
      ['soon', undefined],
      ['', undefined],
      ['-1', undefined],
    ];
    for (const [t, v] of cases) assert.equal(parseSlurmDuration(t), v, t);
  });
});
