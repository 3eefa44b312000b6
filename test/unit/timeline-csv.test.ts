import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobRecord } from '../../src/jobs/record.js';
import { buildTimeline, TimelineBuilder } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS, type Timeline } from '../../src/timeline/columns.js';
import {
  CSV_HEADER,
  formatValue,
  readTimelineCsv,
  writeTimelineCsv,
  writeTimelineCsvPerYear,
  yearSlices,
} from '../../src/timeline/csv.js';
import { formatSummary, summarizeTimeline } from '../../src/timeline/summary.js';
import { InputError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-timeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T = 1_704_067_200; // 2024-01-01T00:00:00Z

function job(
  id: number,
  submit: number,
  start: number | null,
  end: number | null,
  nodes: number,
  limit: number | null,
) {
  const j: JobRecord = {
    id: String(id),
    submit,
    eligible: null,
    start,
    end,
    nodes,
    cpus: nodes * 3,
    timeLimit: limit,
    partition: null,
    state: start === null ? 'CANCELLED' : 'COMPLETED',
    user: null,
    nodeList: null,
  };
  return j;
}

/** A few hundred jobs over ~2 days with fractional means, so every column has non-trivial values. */
function sample(): JobRecord[] {
  const jobs: JobRecord[] = [];
  for (let k = 0; k < 300; k++) {
    const submit = T + k * 577 + (k % 7) * 13.5;
    const start = k % 11 === 0 ? null : submit + (k % 5) * 301;
    const end = start === null ? submit + 900 : start + 600 + (k % 13) * 977;
    jobs.push(job(k, submit, start, end, 1 + (k % 6), k % 4 === 0 ? null : 3600 * (1 + (k % 3))));
  }
  return jobs;
}

describe('timeline CSV', () => {
  it('formats integers without decimals and other values with 6 significant digits', () => {
    assert.equal(formatValue(0), '0');
    assert.equal(formatValue(1152), '1152');
    assert.equal(formatValue(0.5), '0.5');
    assert.equal(formatValue(1 / 3), '0.333333');
    assert.equal(formatValue(2 / 3), '0.666667');
    assert.equal(formatValue(12345.678), '12345.7');
    assert.equal(formatValue(1234567.5), '1234568');
    assert.equal(formatValue(-0.000123456789), '-0.000123457');
  });

  it('writes the header and ISO UTC timestamps, and reads back the same timeline', async () => {
    const tl = buildTimeline(sample(), { capacity: 12, cpusPerNode: 3 });
    const p = join(dir, 'tl.csv');
    writeTimelineCsv(p, tl);
    const text = readFileSync(p, 'utf8');
    const lines = text.split('\n');
    assert.equal(lines[0], CSV_HEADER);
    assert.ok(lines[0].startsWith('timestamp,running_jobs,queued_jobs,busy_nodes,'));
    assert.ok(lines[0].endsWith(',ended_last_min,capacity,total_cpus'));
    assert.ok(lines[1].startsWith('2024-01-01T00:00:00Z,'));
    assert.ok(lines[2].startsWith('2024-01-01T00:01:00Z,'));
    assert.equal(lines.length, tl.minutes + 2); // header + rows + final newline
    assert.deepEqual(readdirSync(dir), ['tl.csv']); // no temp file left behind

    const back = await readTimelineCsv(p);
    assert.equal(back.start, tl.start);
    assert.equal(back.minutes, tl.minutes);
    assert.equal(back.capacity, 12);
    assert.equal(back.totalCpus, 36);
    let nonInteger = 0;
    for (const c of TIMELINE_COLUMNS) {
      for (let i = 0; i < tl.minutes; i++) {
        const a = tl.columns[c][i];
        const b = back.columns[c][i];
        if (!Number.isInteger(a)) nonInteger++;
        assert.ok(Math.abs(a - b) <= 5e-6 * Math.max(1, Math.abs(a)), `${c}[${i}]: ${a} vs ${b}`);
        if (Number.isInteger(a)) assert.equal(b, a);
      }
    }
    assert.ok(nonInteger > 100, 'the sample exercises fractional values');
  });

  it('splits per UTC year into job_timeline_YYYY.<hash>.csv and reads the directory back as one timeline', async () => {
    // 2023-12-31T23:00Z .. 2024-01-01T01:00Z crosses a year boundary
    const start = T - 3600;
    const tl = buildTimeline([job(1, start, start + 60, T + 3600, 2, 7200)], { capacity: 4 });
    assert.deepEqual(
      yearSlices(tl).map((s) => [s.year, s.to - s.from]),
      [
        [2023, 60],
        [2024, 61],
      ],
    );
    const out = join(dir, 'years');
    const paths = writeTimelineCsvPerYear(out, tl);
    const names = readdirSync(out).sort();
    assert.deepEqual(
      names.map((f) => f.replace(/\.[0-9a-f]{12}\.csv$/, '.csv')),
      ['job_timeline.manifest.json', 'job_timeline_2023.csv', 'job_timeline_2024.csv'],
    ); // the year files under their content's hash, and the set's manifest (src/timeline/year-set.ts)
    assert.equal(paths.length, 3);
    const y2024 = readFileSync(join(out, names[2]), 'utf8').split('\n');
    assert.equal(y2024[0], CSV_HEADER);
    assert.ok(y2024[1].startsWith('2024-01-01T00:00:00Z,'));
    const back = await readTimelineCsv(out);
    assert.equal(back.start, tl.start);
    assert.equal(back.minutes, tl.minutes);
    assert.deepEqual(Array.from(back.columns.busy_nodes), Array.from(tl.columns.busy_nodes));
  });

  it('ignores extra columns and accepts any column order', async () => {
    const p = join(dir, 'reordered.csv');
    const cols = [...TIMELINE_COLUMNS].reverse();
    const rows = [0, 1].map(
      (i) =>
        `${i ? '2024-01-01T00:01:00Z' : '2024-01-01T00:00:00Z'},x${i},${cols.map((_, k) => k + i).join(',')}`,
    );
    writeFileSync(p, `timestamp,note,${cols.join(',')}\n${rows.join('\n')}\n`);
    const tl = await readTimelineCsv(p, { capacity: 100 });
    assert.equal(tl.minutes, 2);
    assert.equal(tl.capacity, 100);
    assert.equal(tl.totalCpus, 100);
    assert.equal(tl.columns.ended_last_min[1], 1); // first of the reversed columns
    assert.equal(tl.columns.running_jobs[0], TIMELINE_COLUMNS.length - 1);
  });

  const bad = async (name: string, text: string, re: RegExp, opts = { capacity: 10 }) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    await assert.rejects(readTimelineCsv(p, opts), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, re);
      return true;
    });
  };
  const okRow = (ts: string) => `${ts},${TIMELINE_COLUMNS.map(() => '1').join(',')}`;
  const header = `timestamp,${TIMELINE_COLUMNS.join(',')}`;

  it('rejects missing columns, naming them', async () => {
    const h = header.replace(',busy_nodes', '').replace(',ended_last_min', '');
    await bad('missing.csv', `${h}\n`, /line 1: missing columns busy_nodes, ended_last_min/);
  });

  it('refuses a CSV of an older pcm (no age / expected-end columns) with the reason', async () => {
    const old = TIMELINE_COLUMNS.filter(
      (c) => !c.startsWith('age_') && c !== 'expected_end_30m_nodes' && c !== 'ending_60m_nodes',
    );
    await bad(
      'old.csv',
      `timestamp,${old.join(',')}\n`,
      /line 1: no ending_60m_nodes, age_lt5m_nodes, .*expected_end_30m_nodes: written by an older pcm; rebuild it/,
    );
  });

  it('rejects gaps and disorder with the line', async () => {
    const gap = [header, okRow('2024-01-01T00:00:00Z'), okRow('2024-01-01T00:03:00Z')].join('\n');
    await bad('gap.csv', gap, /line 3: timestamp 2024-01-01T00:03:00Z gap of 2 missing minute\(s\)/);
    const back = [header, okRow('2024-01-01T00:01:00Z'), okRow('2024-01-01T00:00:00Z')].join('\n');
    await bad('back.csv', back, /line 3: .* not after the previous row/);
    const dup = [header, okRow('2024-01-01T00:01:00Z'), okRow('2024-01-01T00:01:00Z')].join('\n');
    await bad('dup.csv', dup, /line 3: .* not after the previous row/);
  });

  it('rejects bad timestamps, bad numbers, ragged rows, and a missing capacity', async () => {
    await bad(
      'local.csv',
      `${header}\n${okRow('2024-01-01T00:00:00')}\n`,
      /line 2: timestamp .*expected ISO UTC/,
    );
    await bad('sec.csv', `${header}\n${okRow('2024-01-01T00:00:30Z')}\n`, /line 2: .*not on a whole minute/);
    const nan = `${header}\n${okRow('2024-01-01T00:00:00Z').replace(',1,1,', ',1,abc,')}\n`;
    await bad('nan.csv', nan, /line 2: queued_jobs: expected a number, got "abc"/);
    await bad(
      'ragged.csv',
      `${header}\n${okRow('2024-01-01T00:00:00Z')},9\n`,
      new RegExp(
        `line 2: expected ${TIMELINE_COLUMNS.length + 1} fields, found ${TIMELINE_COLUMNS.length + 2}`,
      ),
    );
    const p = join(dir, 'nocap.csv');
    writeFileSync(p, `${header}\n${okRow('2024-01-01T00:00:00Z')}\n`);
    await assert.rejects(readTimelineCsv(p), /no capacity column/);
    await assert.rejects(readTimelineCsv(join(dir, 'nope.csv')), /cannot read .*nope.csv: no such file/);
  });
});

describe('timeline summary', () => {
  it('reports span, busy/unclipped means, overshoot and data quality', () => {
    const b = new TimelineBuilder({ capacity: 3 });
    b.add(job(1, T, T, T + 240, 2, null));
    b.add(job(2, T, T + 60, T + 120, 2, null)); // overshoot at T+60
    b.add(job(3, T, null, T + 120, 5, null)); // cancelled while pending
    const tl: Timeline = b.finish();
    const report = {
      source: 'x.swf',
      lines: 5,
      jobs: 3,
      skipped: 1,
      firstSkipped: [{ line: 4, reason: 'expected 18 fields' }],
      notes: { alloc_from_requested: 1 },
    };
    const s = summarizeTimeline(tl, { stats: b.stats, report });
    assert.equal(s.first, '2024-01-01T00:00:00Z');
    assert.equal(s.last, '2024-01-01T00:04:00Z');
    assert.equal(s.minutes, 5);
    assert.deepEqual(s.busyNodes, { mean: (2 + 3 + 2 + 2 + 0) / 5, max: 3 });
    assert.deepEqual(s.rawNodes, { mean: (2 + 4 + 2 + 2 + 0) / 5, max: 4 });
    assert.deepEqual(s.overshoot, { minutes: 1, percent: 20 });
    assert.equal(s.queue.maxJobs, 2); // at T: job 2 (starts T+60) and job 3
    assert.equal(s.jobs?.neverStarted, 1);
    const text = formatSummary(s);
    assert.match(text, /overshoot\s+1 minutes \(20\.00%\)/);
    assert.match(text, /x\.swf: 5 lines, 3 jobs, 1 skipped \(first: line 4: expected 18 fields\)/);
    assert.match(text, /alloc_from_requested=1/);
    assert.doesNotThrow(() => JSON.stringify(s));
  });
});
