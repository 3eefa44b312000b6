import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  JOBS_CSV_HEADER,
  jobCsvRow,
  openJobsCsv,
  parseJobsCsvText,
  splitCsv,
  writeJobsCsv,
} from '../../src/jobs/jobs-csv.js';
import { JOB_STATES, type JobRecord } from '../../src/jobs/record.js';
import { InputError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-csv-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const base: JobRecord = {
  id: '4105',
  submit: 1709541000,
  eligible: null,
  start: 1709542931,
  end: 1709545623,
  nodes: 32,
  cpus: 2048,
  timeLimit: 86400,
  partition: 'large',
  state: 'NODE_FAIL',
  user: 'carol',
  nodeList: 'cn[033-048,065-080],gpu01',
};

const time = fc.option(fc.integer({ min: 0, max: 4_000_000_000 }), { nil: null });
const text = fc.option(
  fc.string({ maxLength: 12 }).filter((s) => s !== ''),
  { nil: null },
);
const record: fc.Arbitrary<JobRecord> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 10 }),
    submit: time,
    eligible: time,
    start: time,
    end: time,
    nodes: fc.integer({ min: 0, max: 100_000 }),
    cpus: fc.integer({ min: 0, max: 10_000_000 }),
    timeLimit: time,
    partition: text,
    state: fc.constantFrom(...JOB_STATES),
    user: text,
    nodeList: text,
  })
  .map((r) => ({ ...r })); // plain objects (fast-check makes null-prototype ones)

describe('job CSV', () => {
  it('writes the header and quotes text cells with commas', () => {
    assert.equal(
      JOBS_CSV_HEADER,
      'id,submit,eligible,start,end,nodes,cpus,time_limit,partition,state,user,nodelist',
    );
    assert.equal(
      jobCsvRow(base),
      '4105,1709541000,,1709542931,1709545623,32,2048,86400,large,NODE_FAIL,carol,"cn[033-048,065-080],gpu01"',
    );
    assert.equal(
      jobCsvRow({ ...base, user: 'a "b"', partition: null })
        .split(',')
        .slice(8)
        .join(','),
      ',NODE_FAIL,"a ""b""","cn[033-048,065-080],gpu01"',
    );
  });

  it('round-trips any records through a file (atomically written, streamed back)', async () => {
    const jobs = fc.sample(fc.array(record, { maxLength: 50 }), { numRuns: 20, seed: 7 }).flat();
    jobs.push(base, { ...base, user: 'line\nbreak', partition: ' padded ' });
    const path = join(tmp, 'jobs.csv');
    assert.equal(await writeJobsCsv(path, jobs), jobs.length);
    assert.deepEqual(readdirSync(tmp), ['jobs.csv']); // no temp file left behind
    const src = await openJobsCsv(path);
    const back: JobRecord[] = [];
    for await (const j of src.jobs) back.push(j);
    assert.deepEqual(back, jobs);
    assert.equal(src.report.skipped, 0);
    assert.equal(src.kind, 'csv');
  });

  it('round-trips in memory for thousands of random records', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (jobs) => {
        const t = `${JOBS_CSV_HEADER}\n${jobs.map((j) => `${jobCsvRow(j)}\n`).join('')}`;
        const r = parseJobsCsvText(t);
        assert.deepEqual(r.jobs, jobs);
        assert.equal(r.report.skipped, 0);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the old file when writing fails part-way', async () => {
    const path = join(tmp, 'keep.csv');
    writeFileSync(path, 'old\n');
    async function* failing(): AsyncGenerator<JobRecord> {
      yield base;
      throw new InputError('boom');
    }
    await assert.rejects(writeJobsCsv(path, failing()), /boom/);
    assert.equal(readFileSync(path, 'utf8'), 'old\n');
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.startsWith('.keep')),
      [],
    );
  });

  it('skips malformed rows with line numbers and reasons; columns in any order', () => {
    const t = [
      'state,id,submit,eligible,start,end,nodes,cpus,time_limit,partition,user,nodelist,extra',
      'COMPLETED,1,10,,20,30,1,4,,p,u,n1,x',
      'COMPLETED,2,10,,20,30,1,4,,p,u,n1',
      'DONE,3,10,,20,30,1,4,,p,u,n1,x',
      'COMPLETED,4,ten,,20,30,1,4,,p,u,n1,x',
      'COMPLETED,5,10,,20,30,-1,4,,p,u,n1,x',
      'COMPLETED,,10,,20,30,1,4,,p,u,n1,x',
      'COMPLETED,7,10,,20,30,1,4,,"p"x,u,n1,x',
      'COMPLETED,8,10,,20,30,1,4,,p"q,u,n1,x',
      'COMPLETED,9,10,,20,30,1,4,,"open,u,n1,x',
    ].join('\n');
    const { jobs, report } = parseJobsCsvText(t);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.state, j.submit, j.partition]),
      [['1', 'COMPLETED', 10, 'p']],
    );
    assert.deepEqual(report.firstSkipped, [
      { line: 3, reason: 'expected 13 cells as in the header, found 12' },
      { line: 4, reason: 'state: "DONE" is not a job state' },
      { line: 5, reason: 'submit: "ten" is not epoch seconds' },
      { line: 6, reason: 'nodes: "-1" is not a whole number >= 0' },
      { line: 7, reason: 'id is empty' },
      { line: 8, reason: 'unexpected "x" after a quoted cell' },
      { line: 9, reason: 'stray quote in cell 10' },
      { line: 10, reason: 'unterminated quoted cell at end of file' },
    ]);
  });

  it('names missing header columns', () => {
    assert.throws(() => parseJobsCsvText('id,submit\n'), /lacks column\(s\) eligible, start, end/);
  });

  it('splitCsv', () => {
    assert.deepEqual(splitCsv('a,"b,c",,"d""e"'), ['a', 'b,c', '', 'd"e']);
    assert.deepEqual(splitCsv(''), ['']);
    assert.equal(splitCsv('"open'), null);
  });
});
