import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobRecord } from '../../src/jobs/record.js';
import { formatSwf, openSwf, parseSwfText, writeSwf } from '../../src/jobs/swf.js';
import { InputError } from '../../src/util/errors.js';

const FIX = new URL('../fixtures/traces/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'pcm-swf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function readAll(path: string, ppn?: number) {
  const src = await openSwf(path, { ppn });
  const jobs: JobRecord[] = [];
  for await (const j of src.jobs) jobs.push(j);
  return { src, jobs };
}

/** An 18-field job line from a few fields (1-based numbers as in the format doc); the rest -1. */
function line(f: Record<number, number | string>): string {
  const a: Array<number | string> = new Array(18).fill(-1);
  for (const [k, v] of Object.entries(f)) a[Number(k) - 1] = v;
  return a.join(' ');
}

describe('SWF real slices', () => {
  it('KTH (gzip): header into meta, every line a job, the mapping of the first line', async () => {
    const { src, jobs } = await readAll(join(FIX, 'KTH-SP2-1996-2.1-cln.head2000.swf.gz'));
    assert.equal(src.kind, 'swf');
    assert.equal(src.meta.maxNodes, 100);
    assert.equal(src.meta.maxProcs, 100);
    assert.equal(src.meta.ppn, 1);
    assert.equal(src.meta.timeZone, 'Europe/Stockholm');
    assert.equal(src.meta.header?.Acknowledge, 'Lars Malinowsky');
    assert.equal(src.meta.header?.UnixStartTime, '843480031');
    assert.match(
      src.meta.header?.Note ?? '',
      /THIS IS A CLEANED VERSION OF THE LOG!\nThe filter used to produce it was/,
    );
    assert.equal(jobs.length, 2000);
    assert.equal(src.report.jobs, 2000);
    assert.equal(src.report.skipped, 0);
    // 15 599850 192180 3477 4 -1 -1 4 53940 -1 1 12 12 -1 -1 -1 -1 -1
    assert.deepEqual(jobs[0], {
      id: '15',
      submit: 843480031 + 599850,
      eligible: null,
      start: 843480031 + 599850 + 192180,
      end: 843480031 + 599850 + 192180 + 3477,
      nodes: 4,
      cpus: 4,
      timeLimit: 53940,
      partition: null,
      state: 'COMPLETED',
      user: '12',
      nodeList: null,
    });
  });

  it('SDSC: keeps the copyright notice, names queues, cancelled jobs without allocation', async () => {
    const { src, jobs } = await readAll(join(FIX, 'SDSC-SP2-1998-4.2-cln.head2000.swf.gz'));
    const copyright = src.meta.header?.Copyright ?? '';
    assert.match(copyright, /^JOBLOG Repository Data Usage Agreement:/);
    assert.match(copyright, /provided that this copyright notice is preserved in all copies/);
    assert.match(src.meta.header?.Information ?? '', /joblog\.npaci\.edu\/\nhttp:\/\/www\.cs\.huji/);
    assert.equal(jobs.length, 2000);
    // 19 580157 20861 -1 -1 -1 -1 38 6900 -1 5 189 75 18288 5 -1 -1 -1
    const j19 = jobs.find((j) => j.id === '19');
    assert.deepEqual(j19, {
      id: '19',
      submit: 893466664 + 580157,
      eligible: null,
      start: null,
      end: null,
      nodes: 38,
      cpus: 38,
      timeLimit: 6900,
      partition: 'standby',
      state: 'CANCELLED',
      user: '189',
      nodeList: null,
    });
    assert.equal(src.report.notes.run_time_unknown, 127);
    assert.equal(src.report.notes.requested_procs_not_run, 126);
    assert.equal(src.report.notes.alloc_from_requested, undefined);
    const queues = new Set(jobs.map((j) => j.partition));
    assert.deepEqual([...queues].sort(), ['express', 'high', 'low', 'normal', 'standby']);
  });

  it('LLNL-Thunder: wait -1 means start = submit; lines with no submit time are skipped with line numbers', async () => {
    const { src, jobs } = await readAll(join(FIX, 'LLNL-Thunder-2007-1.1-cln.head2000.swf.gz'));
    assert.equal(src.meta.ppn, 4); // 4008 / 1002
    assert.equal(jobs.length, 1980);
    assert.equal(src.report.skipped, 20);
    assert.equal(src.report.firstSkipped[0].line, 325);
    assert.match(src.report.firstSkipped[0].reason, /field 2 \(submit time\)/);
    assert.equal(src.report.notes.wait_unknown, 1980);
    for (const j of jobs) assert.equal(j.start, j.submit);
    // 1 0 -1 34616 472 -1 -1 156 -1 -1 0 16 -1 64 -1 1 -1 -1
    assert.equal(jobs[0].nodes, 118);
    assert.equal(jobs[0].cpus, 472);
    assert.equal(jobs[0].end, 1170175078 + 34616);
    assert.equal(jobs[0].partition, 'pbatch');
    assert.equal(jobs[0].state, 'FAILED');
    assert.equal(jobs[0].timeLimit, null);
  });

  it('--ppn overrides the header', async () => {
    const { src, jobs } = await readAll(join(FIX, 'LLNL-Thunder-2007-1.1-cln.head2000.swf.gz'), 8);
    assert.equal(src.meta.ppn, 8);
    assert.equal(jobs[0].nodes, 59);
  });

  it('CTC (plain text): annotated MaxNodes, fractional CPU time, LoadLeveler classes as partitions', async () => {
    const { src, jobs } = await readAll(join(FIX, 'CTC-SP2-1996-3.1-cln.head500.swf'));
    assert.equal(src.meta.maxNodes, 338);
    assert.equal(src.meta.header?.MaxNodes, '338 (batch partition; 512 total)');
    assert.equal(src.meta.ppn, 1);
    assert.equal(jobs.length, 500);
    assert.equal(src.report.skipped, 0);
    // 1 0 588530 937 306 142.00 -1 -1 35100 -1 1 97 -1 307 3 -1 -1 -1
    assert.equal(jobs[0].submit, 835823160);
    assert.equal(jobs[0].start, 835823160 + 588530);
    assert.equal(jobs[0].end, 835823160 + 588530 + 937);
    assert.equal(jobs[0].nodes, 306);
    assert.equal(jobs[0].partition, 'piofs');
  });

  it('refuses a bad --ppn and reports damaged gzip as InputError', async () => {
    await assert.rejects(openSwf(join(FIX, 'CTC-SP2-1996-3.1-cln.head500.swf'), { ppn: 0 }), InputError);
    const whole = readFileSync(join(FIX, 'KTH-SP2-1996-2.1-cln.head2000.swf.gz'));
    const cut = join(tmp, 'cut.swf.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await assert.rejects(
      readAll(cut),
      (e: unknown) => e instanceof InputError && /damaged gzip/.test(e.message),
    );
  });
});

describe('SWF header lines: linear time (issue 15, ReDoS)', () => {
  it('a 1 MB header line of blanks after the keyword parses in well under a second, value trimmed', () => {
    const blanks = ' '.repeat(1 << 20);
    const text = [
      '; UnixStartTime: 0',
      `; Note: a${blanks}b${blanks}`,
      `; Queue: 3${blanks}batch${blanks}`,
      `; Partition:${blanks}`,
      line({ 1: 1, 2: 0, 3: 0, 4: 10, 5: 1, 15: 3 }),
    ].join('\n');
    const t0 = performance.now();
    const { jobs, meta } = parseSwfText(text);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    assert.equal(meta.header?.Note, `a${blanks}b`);
    assert.equal(meta.header?.Partition, '');
    assert.equal(jobs[0].partition, 'batch');
  });

  it('keeps the old meaning: a value is trimmed, `http://` is not a keyword, a line break ends a value', () => {
    const { meta } = parseSwfText('; Note:   x  y \t\n; Information: http://example.org\n;  Queue: 1  q \n');
    assert.equal(meta.header?.Note, 'x  y');
    assert.equal(meta.header?.Information, 'http://example.org');
    assert.equal(meta.header?.Queue, '1  q');
    assert.equal(parseSwfText('; Note: a\u2028b\n').meta.header?.Note, undefined);
  });
});

describe('SWF mapping rules', () => {
  const head = '; UnixStartTime: 1000\n; MaxNodes: 10\n; MaxProcs: 40\n';

  it('allocated processors from requested when f5 = -1 and the job ran', () => {
    const { jobs, report } = parseSwfText(head + line({ 1: 7, 2: 5, 3: 10, 4: 100, 8: 9, 11: 1 }));
    assert.equal(jobs[0].cpus, 9);
    assert.equal(jobs[0].nodes, 3); // ceil(9 / 4)
    assert.equal(jobs[0].start, 1015);
    assert.equal(jobs[0].end, 1115);
    assert.equal(report.notes.alloc_from_requested, 1);
  });

  it('run time -1: start and end unknown; wait -1: start = submit; wait 0 and run 0', () => {
    const { jobs, report } = parseSwfText(
      head +
        [
          line({ 1: 1, 2: 0, 3: 50, 4: -1, 5: 4, 11: 5 }),
          line({ 1: 2, 2: 10, 3: -1, 4: 20, 5: 4, 11: 1 }),
          line({ 1: 3, 2: 20, 3: 0, 4: 0, 5: 4, 11: 1 }),
        ].join('\n'),
    );
    assert.equal(jobs[0].start, null);
    assert.equal(jobs[0].end, null);
    assert.equal(jobs[1].start, 1010);
    assert.equal(jobs[1].end, 1030);
    assert.equal(jobs[2].start, 1020);
    assert.equal(jobs[2].end, 1020);
    assert.deepEqual(report.notes, { run_time_unknown: 1, wait_unknown: 1 });
  });

  it('status codes, including partial records', () => {
    const states = [1, 0, 5, -1, 2, 3, 4, 9].map(
      (s, i) => parseSwfText(head + line({ 1: i + 1, 2: 0, 3: 0, 4: 1, 5: 4, 11: s })).jobs[0].state,
    );
    assert.deepEqual(states, [
      'COMPLETED',
      'FAILED',
      'CANCELLED',
      'UNKNOWN',
      'COMPLETED',
      'COMPLETED',
      'FAILED',
      'UNKNOWN',
    ]);
    const { report } = parseSwfText(head + line({ 1: 1, 2: 0, 4: 1, 5: 4, 11: 9 }));
    assert.equal(report.notes.unknown_status, 1);
  });

  it('user, time limit, partition and queue names', () => {
    const text = `${head}; Queue: 0 interactive\n; Queue: 1  \n; Partition: 2 pbatch\n${[
      line({ 1: 1, 2: 0, 4: 1, 5: 4, 9: 3600, 12: 42, 15: 0 }),
      line({ 1: 2, 2: 0, 4: 1, 5: 4, 9: 0, 15: 1 }),
      line({ 1: 3, 2: 0, 4: 1, 5: 4, 15: 0, 16: 2 }),
      line({ 1: 4, 2: 0, 4: 1, 5: 4, 16: 7 }),
    ].join('\n')}`;
    const { jobs } = parseSwfText(text);
    assert.deepEqual(
      jobs.map((j) => [j.user, j.timeLimit, j.partition]),
      [
        ['42', 3600, 'interactive'],
        [null, null, '1'],
        [null, null, 'pbatch'],
        [null, null, '7'],
      ],
    );
  });

  it('ppn: MaxProcs/MaxNodes when whole, else 1; option wins', () => {
    assert.equal(parseSwfText('; MaxNodes: 5544\n; MaxProcs: 93312\n').meta.ppn, 1);
    assert.equal(parseSwfText('; MaxNodes: 70  (dual)\n; MaxProcs: 140\n').meta.ppn, 2);
    assert.equal(parseSwfText('; MaxNodes: 1024\n; MaxProcs: 8192\n', { ppn: 16 }).meta.ppn, 16);
    assert.equal(parseSwfText('').meta.ppn, 1);
  });

  it('header variants: no space after ;, continuation lines, stray comments, CRLF', () => {
    const text =
      ';   --- converted ---\r\n;Version: SWF v2\r\n; Note: first\r\n;       second\r\n;\r\n; Note: third\r\n; UnixStartTime: 5\r\n' +
      `${line({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 })}\r\n`;
    const { jobs, meta, report } = parseSwfText(text);
    assert.equal(meta.header?.Version, 'SWF v2');
    assert.equal(meta.header?.Comment, '--- converted ---');
    assert.equal(meta.header?.Note, 'first\nsecond\nthird');
    assert.equal(jobs[0].submit, 6);
    assert.equal(report.skipped, 0);
  });

  it('no UnixStartTime: times relative to 0, noted', () => {
    const { jobs, report } = parseSwfText(line({ 1: 1, 2: 100, 3: 0, 4: 1, 5: 1 }));
    assert.equal(jobs[0].submit, 100);
    assert.equal(report.notes.no_unix_start_time, 1);
  });

  it('malformed lines are skipped with line numbers and reasons, the rest kept', () => {
    const good = line({ 1: 1, 2: 0, 3: 0, 4: 1, 5: 1 });
    const text = [
      head.trimEnd(),
      good,
      '1 2 3',
      `${good} 7`,
      good.replace(/^1 0/, '1 abc'),
      good.replace(/^1 0/, '1 12.5'),
      good.replace(/^1 0/, '1 -7'),
      '',
      good.replace(/^1 /, '1e3 '),
      good,
    ].join('\n');
    const { jobs, report } = parseSwfText(text);
    assert.equal(jobs.length, 2);
    assert.equal(report.skipped, 6);
    assert.deepEqual(report.firstSkipped, [
      { line: 5, reason: 'expected 18 whitespace-separated numbers, found 3' },
      { line: 6, reason: 'expected 18 whitespace-separated numbers, found 19' },
      { line: 7, reason: 'field 2 (submit time): "abc" is not a number' },
      { line: 8, reason: 'field 2 (submit time): "12.5" is not a whole number' },
      { line: 9, reason: 'field 2 (submit time): -7 is negative (unknown submit time)' },
      { line: 11, reason: 'field 1 (job number): "1e3" is not a number' },
    ]);
    assert.equal(report.lines, 12);
  });
});

describe('SWF writer', () => {
  it('round-trips a real slice: write, read back, same records and header facts', async () => {
    const { src, jobs } = await readAll(join(FIX, 'SDSC-SP2-1998-4.2-cln.head2000.swf.gz'));
    const out = join(tmp, 'sdsc.swf');
    const res = writeSwf(out, jobs, src.meta);
    assert.deepEqual(res, { written: 2000, skipped: 0, renumbered: false });
    const back = await readAll(out);
    assert.deepEqual(back.jobs, jobs);
    assert.equal(back.src.meta.header?.Copyright, src.meta.header?.Copyright);
    assert.equal(back.src.meta.header?.Acknowledge, 'Victor Hazlewood');
    assert.equal(back.src.meta.maxNodes, 128);
    assert.equal(back.src.meta.timeZone, 'US/Pacific');
    assert.equal(back.src.report.skipped, 0);
  });

  it('writes records from other sources: names become numbers, unplaceable jobs are left out', () => {
    const base: JobRecord = {
      id: 'a_1',
      submit: 2000,
      eligible: null,
      start: 2010,
      end: 2100,
      nodes: 2,
      cpus: 8,
      timeLimit: 600,
      partition: 'batch',
      state: 'TIMEOUT',
      user: 'alice',
      nodeList: 'n[1-2]',
    };
    const jobs: JobRecord[] = [
      base,
      {
        ...base,
        id: 'b',
        submit: 1500,
        start: null,
        end: null,
        state: 'CANCELLED',
        user: '7',
        partition: 'gpu',
      },
      { ...base, id: 'c', submit: null, start: null, end: null },
    ];
    const text = formatSwf(jobs, { ppn: 4, maxNodes: 10, header: { Computer: 'test' } });
    assert.match(text, /^; Version: 2\.2\n; Computer: test\n/);
    assert.match(text, /; MaxProcs: 40\n/);
    assert.match(text, /; Partition: 1 gpu\n; Partition: 2 batch\n/);
    const { jobs: back, meta } = parseSwfText(text);
    assert.equal(meta.ppn, 4);
    assert.equal(back.length, 2);
    assert.deepEqual(
      back.map((j) => [
        j.id,
        j.submit,
        j.start,
        j.end,
        j.nodes,
        j.cpus,
        j.state,
        j.user,
        j.partition,
        j.timeLimit,
      ]),
      [
        ['1', 1500, null, null, 2, 8, 'CANCELLED', '7', 'gpu', 600],
        ['2', 2000, 2010, 2100, 2, 8, 'FAILED', '8', 'batch', 600],
      ],
    );
  });
});
