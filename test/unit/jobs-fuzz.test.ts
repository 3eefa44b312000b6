/**
 * Garbled input for the SWF, sacct and job CSV parsers: no crash, every line accounted for (a job or a
 * skip), every skip a one-line reason, every record well-formed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { JOBS_CSV_HEADER, parseJobsCsvText } from '../../src/jobs/jobs-csv.js';
import { JOB_STATES, type JobRecord, type ParseReport } from '../../src/jobs/record.js';
import { parseSacctText } from '../../src/jobs/sacct.js';
import { parseSwfText } from '../../src/jobs/swf.js';
import { InputError } from '../../src/util/errors.js';
import { withRun } from '../helpers/adversarial.js';
import { bounded } from '../helpers/fuzz.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const swfLines = gunzipSync(readFileSync(`${FIX}traces/SDSC-SP2-1998-4.2-cln.head2000.swf.gz`))
  .toString('utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith(';'))
  .slice(0, 200);
const sacctText = readFileSync(`${FIX}sacct-handwritten.txt`, 'utf8').trimEnd().split('\n');
const sacctHeader = sacctText[0];
const sacctRows = sacctText.slice(1);

const STATES = new Set<string>(JOB_STATES);
const time = (v: number | null) => v === null || Number.isSafeInteger(v);

function checkRecord(j: JobRecord): void {
  assert.ok(typeof j.id === 'string' && j.id.length > 0);
  assert.ok(time(j.submit) && time(j.eligible) && time(j.start) && time(j.end) && time(j.timeLimit));
  assert.ok(Number.isSafeInteger(j.nodes) && j.nodes >= 0, `nodes ${j.nodes}`);
  assert.ok(Number.isFinite(j.cpus) && j.cpus >= 0, `cpus ${j.cpus}`);
  assert.ok(STATES.has(j.state));
}

function checkReport(r: ParseReport): void {
  for (const s of r.firstSkipped) {
    assert.ok(s.line >= 1 && s.line <= r.lines, `line ${s.line} of ${r.lines}`);
    assert.ok(s.reason.length > 5 && !/[\n\r]/.test(s.reason), `reason ${JSON.stringify(s.reason)}`);
  }
}

/** A line garbled by a few random edits: replace, insert or delete characters, or cut it. */
function garbled(lines: string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat(),
    fc.constantFrom('replace', 'insert', 'delete', 'cut'),
    fc.string({ maxLength: 3 }),
  );
  return fc.tuple(fc.constantFrom(...lines), fc.array(edit, { maxLength: 4 })).map(([line, edits]) => {
    let s = line;
    for (const [pos, op, text] of edits) {
      const p = s.length ? pos % s.length : 0;
      if (op === 'replace') s = s.slice(0, p) + text + s.slice(p + text.length);
      else if (op === 'insert') s = s.slice(0, p) + text + s.slice(p);
      else if (op === 'delete') s = s.slice(0, p) + s.slice(p + 1 + (text.length % 3));
      else s = s.slice(0, p);
    }
    return s;
  });
}

const anyLine = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789 -.|;:,"\t'.split('')), maxLength: 80 }),
  },
);

describe('parser fuzz (fast-check)', () => {
  it('SWF: garbled and random lines never crash; each job line is a job or a reasoned skip', () => {
    const line = fc.oneof({ weight: 3, arbitrary: garbled(swfLines) }, { weight: 1, arbitrary: anyLine });
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 30 }),
        fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
        (lines, ppn) => {
          const text = `; UnixStartTime: 893466664\n; MaxNodes: 128\n; MaxProcs: 128\n${lines.join('\n')}`;
          const { jobs, report } = bounded(text, () => parseSwfText(text, { ppn }));
          // a line that the splitter sees as blank or as a comment is neither a job nor a skip
          const physical = text.split('\n');
          const data = physical.filter((l) => !/^[ \t]*(;|$)/.test(l));
          assert.equal(jobs.length + report.skipped, data.length);
          assert.equal(report.jobs, jobs.length);
          jobs.forEach(checkRecord);
          checkReport(report);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('sacct: garbled rows never crash; each row is a job, a step or a reasoned skip', () => {
    const row = fc.oneof({ weight: 3, arbitrary: garbled(sacctRows) }, { weight: 1, arbitrary: anyLine });
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 30 }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
        (rows, tz) => {
          const text = [sacctHeader, ...rows].join('\n');
          const { jobs, report } = bounded(text, () => parseSacctText(text, { timeZone: tz }));
          const data = rows.filter((r) => r.trim() !== '');
          assert.equal(jobs.length + report.skipped + (report.notes.steps_skipped ?? 0), data.length);
          jobs.forEach(checkRecord);
          checkReport(report);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('sacct: a garbled header is accepted or refused with an InputError, never a crash', () => {
    fc.assert(
      fc.property(garbled([sacctHeader]), anyLine, (header, row) => {
        try {
          const { report } = bounded(header, () => parseSacctText(`${header}\n${row}\n`));
          checkReport(report);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.ok(!e.message.includes('\n'));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('job CSV: garbled rows never crash; quotes may join lines but every record is accounted for', () => {
    const csvRows = [
      '1,10,,20,30,1,4,3600,batch,COMPLETED,alice,"cn[1-2],gpu1"',
      '2,10,15,,,2,8,,"a ""quoted"" name",PENDING,bob,',
    ];
    const row = fc.oneof({ weight: 3, arbitrary: garbled(csvRows) }, { weight: 1, arbitrary: anyLine });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (rows) => {
        const { jobs, report } = bounded(rows, () => parseJobsCsvText([JOBS_CSV_HEADER, ...rows].join('\n')));
        assert.ok(jobs.length + report.skipped <= rows.length);
        jobs.forEach(checkRecord);
        checkReport(report);
      }),
      { numRuns: 2000 },
    );
  });

  it('long runs of blanks, digits and separators (10 000 - 200 000 characters) in every kind of line', () => {
    const swfHeader = withRun(
      fc.constantFrom('; Note: a', '; Queue: 1 batch', '; Partition: 2 x', '; MaxNodes:', ';'),
    );
    const swfJob = withRun(fc.constantFrom(...swfLines.slice(0, 20)));
    const csvRow = withRun(fc.constantFrom('1,10,,20,30,1,4,3600,batch,COMPLETED,alice,"cn[1-2]"', '"'));
    fc.assert(
      fc.property(
        swfHeader,
        swfJob,
        withRun(fc.constantFrom(...sacctRows.slice(0, 5))),
        csvRow,
        (h, j, row, csv) => {
          const swf = `; UnixStartTime: 893466664\n${h}\n${j}\n${swfLines[0]}`;
          const a = bounded(swf, () => parseSwfText(swf));
          assert.ok(a.jobs.length >= 1);
          checkReport(a.report);
          const sacct = `${sacctHeader}\n${row}\n${sacctRows[0]}`;
          checkReport(bounded(sacct, () => parseSacctText(sacct)).report);
          try {
            bounded(row, () => parseSacctText(`${row}\n${sacctRows[0]}`));
          } catch (e) {
            assert.ok(e instanceof InputError, String(e));
          }
          const jobsCsv = `${JOBS_CSV_HEADER}\n${csv}\n2,10,15,,,2,8,,x,PENDING,bob,`;
          checkReport(bounded(jobsCsv, () => parseJobsCsvText(jobsCsv)).report);
        },
      ),
      { numRuns: 150 },
    );
  });
});
