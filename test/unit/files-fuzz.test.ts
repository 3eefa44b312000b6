/**
 * Fuzzing the file readers end to end, through the functions the CLI calls: `openJobSource` (SWF, sacct,
 * job CSV; plain or gzip; format detected or forced) and `readTimelineCsv`, on random files: binary
 * garbage, valid files cut short or with bytes flipped, truncated gzip, huge lines, CRLF line ends, a
 * UTF-8 BOM. Every file either reads (well-formed records, one-line skip reasons) or is refused with a
 * one-line UserError naming the file; each input within the per-input bound (test/helpers/fuzz.ts).
 * Plus round trips: job CSV write -> read and timeline CSV write -> read give back what was written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  JOBS_CSV_HEADER,
  jobCsvRow,
  parseJobsCsvText,
  splitCsv,
  stillQuoted,
  writeJobsCsv,
} from '../../src/jobs/jobs-csv.js';
import { type JobFormat, openJobSource } from '../../src/jobs/open.js';
import { JOB_STATES, type JobRecord, type ParseReport } from '../../src/jobs/record.js';
import { TIMELINE_COLUMNS, type Timeline } from '../../src/timeline/columns.js';
import { readTimelineCsv, writeTimelineCsv } from '../../src/timeline/csv.js';
import { withRun } from '../helpers/adversarial.js';
import { assertClearError, bounded, boundedAsync } from '../helpers/fuzz.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'pcm-files-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function file(content: string | Uint8Array, name: string): string {
  const p = join(dir, `${seq++}-${name}`);
  writeFileSync(p, content);
  return p;
}

// valid samples of each format (small: a fuzz input should take a few ms)
const SWF = readFileSync(`${FIX}traces/CTC-SP2-1996-3.1-cln.head500.swf`, 'utf8')
  .split('\n')
  .slice(0, 60)
  .join('\n');
const SACCT = readFileSync(`${FIX}sacct-handwritten.txt`, 'utf8');
const SAMPLE_JOBS: JobRecord[] = [
  {
    id: '1',
    submit: 10,
    eligible: null,
    start: 20,
    end: 30,
    nodes: 1,
    cpus: 4,
    timeLimit: 3600,
    partition: 'batch',
    state: 'COMPLETED',
    user: 'alice',
    nodeList: 'cn[1-2],gpu1',
  },
  {
    id: '2',
    submit: 10,
    eligible: 15,
    start: null,
    end: null,
    nodes: 2,
    cpus: 8,
    timeLimit: null,
    partition: 'a "q", b',
    state: 'PENDING',
    user: 'bob',
    nodeList: null,
  },
  {
    id: '3_[1-4]',
    submit: 11,
    eligible: 11,
    start: 40,
    end: 45,
    nodes: 3,
    cpus: 3,
    timeLimit: 60,
    partition: null,
    state: 'FAILED',
    user: null,
    nodeList: 'x',
  },
];
const CSV = `${[JOBS_CSV_HEADER, ...SAMPLE_JOBS.map(jobCsvRow)].join('\n')}\n`;
const SAMPLES: Array<[string, string]> = [
  ['swf', SWF],
  ['sacct', SACCT],
  ['csv', CSV],
];

const STATES = new Set<string>(JOB_STATES);
const time = (v: number | null) => v === null || Number.isSafeInteger(v);

function checkRecord(j: JobRecord): void {
  assert.ok(typeof j.id === 'string' && j.id.length > 0);
  assert.ok(time(j.submit) && time(j.eligible) && time(j.start) && time(j.end) && time(j.timeLimit));
  assert.ok(Number.isSafeInteger(j.nodes) && j.nodes >= 0, `nodes ${j.nodes}`);
  assert.ok(Number.isFinite(j.cpus) && j.cpus >= 0, `cpus ${j.cpus}`);
  assert.ok(STATES.has(j.state), j.state);
}

function checkReport(r: ParseReport): void {
  assert.equal(r.skipped >= r.firstSkipped.length, true);
  for (const s of r.firstSkipped) {
    assert.ok(s.reason.length > 3 && !/[\n\r]/.test(s.reason), `reason ${JSON.stringify(s.reason)}`);
  }
}

type ReadResult = { jobs: JobRecord[]; report: ParseReport } | { error: Error };

/** Open and read a whole job file as the CLI does; a rejection must be a clear error naming the file. */
async function readJobs(path: string, format?: JobFormat, boundMs?: number): Promise<ReadResult> {
  return boundedAsync(
    path,
    async () => {
      try {
        const src = await openJobSource(path, { format });
        const jobs: JobRecord[] = [];
        for await (const j of src.jobs) {
          checkRecord(j);
          jobs.push(j);
        }
        checkReport(src.report);
        return { jobs, report: src.report };
      } catch (e) {
        assertClearError(e, path);
        return { error: e };
      }
    },
    boundMs,
  );
}

const NAMES = ['f.swf', 'f.swf.gz', 'f.csv', 'f.txt', 'f.gz', 'f'];
const FORMATS: Array<JobFormat | undefined> = [undefined, undefined, 'swf', 'sacct', 'csv'];

/** A valid sample damaged: cut, bytes flipped or inserted; maybe gzipped before or after the damage. */
const damaged = fc
  .tuple(
    fc.constantFrom(...SAMPLES),
    fc.constantFrom('plain', 'gzip-then-damage', 'damage-then-gzip'),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('cut', 'flip', 'insert'),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
      ),
      {
        maxLength: 4,
      },
    ),
  )
  .map(([[, text], how, edits]) => {
    const damage = (b: Buffer): Buffer => {
      let out = b;
      for (const [pos, op, bytes] of edits) {
        const p = out.length ? pos % out.length : 0;
        if (op === 'cut') out = out.subarray(0, p);
        else if (op === 'flip') {
          out = Buffer.from(out);
          for (let k = 0; k < bytes.length && p + k < out.length; k++) out[p + k] ^= bytes[k] | 1;
        } else out = Buffer.concat([out.subarray(0, p), Buffer.from(bytes), out.subarray(p)]);
      }
      return out;
    };
    const raw = Buffer.from(text);
    if (how === 'plain') return damage(raw);
    if (how === 'gzip-then-damage') return damage(gzipSync(raw));
    return gzipSync(damage(raw));
  });

describe('job files under fuzzing (openJobSource)', () => {
  it('binary garbage: read or refused clearly, never a crash (2000 files)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.string({ maxLength: 400 }).map((s) => Buffer.from(s)),
        ),
        fc.constantFrom(...NAMES),
        fc.constantFrom(...FORMATS),
        async (bytes, name, format) => {
          await readJobs(file(bytes, name), format);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('valid files cut short, with flipped bytes, truncated or damaged gzip (3000 files)', async () => {
    await fc.assert(
      fc.asyncProperty(
        damaged,
        fc.constantFrom(...NAMES),
        fc.constantFrom(...FORMATS),
        async (bytes, name, format) => {
          await readJobs(file(bytes, name), format);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('CRLF line ends and a UTF-8 BOM read exactly like the plain file, gzipped or not', async () => {
    for (const [kind, text] of SAMPLES) {
      const name = kind === 'swf' ? 'f.swf' : `f.${kind}`;
      const plain = await readJobs(file(text, name));
      assert.ok('jobs' in plain, `${kind}: ${'error' in plain ? plain.error.message : ''}`);
      assert.ok(plain.jobs.length > 0);
      const crlf = text.replace(/\n/g, '\r\n');
      for (const [how, variant] of [
        ['crlf', crlf],
        ['bom', `\uFEFF${text}`],
        ['bom+crlf', `\uFEFF${crlf}`],
      ] as const) {
        for (const gz of [false, true]) {
          const body = gz ? gzipSync(variant) : variant;
          const r = await readJobs(file(body, gz ? `${name}.gz` : name));
          assert.ok(
            'jobs' in r,
            `${kind} ${how}${gz ? ' gzip' : ''}: ${'error' in r ? r.error.message : ''}`,
          );
          assert.deepEqual(r.jobs, plain.jobs, `${kind} ${how}${gz ? ' gzip' : ''}`);
          assert.equal(r.report.skipped, plain.report.skipped, `${kind} ${how}${gz ? ' gzip' : ''}`);
        }
      }
    }
  });

  it('a huge line (1-6 MB) among valid ones: the others are read, the huge one skipped or refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SAMPLES),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('x', '1 ', '|', ',', '"', ';'),
        fc.boolean(),
        async ([kind, text], mb, unit, gz) => {
          const lines = text.trimEnd().split('\n');
          const at = Math.min(lines.length, kind === 'swf' ? 45 : 2);
          const huge = unit.repeat(Math.ceil((mb << 20) / unit.length));
          const body = [...lines.slice(0, at), huge, ...lines.slice(at)].join('\n');
          const name = kind === 'swf' ? 'f.swf' : `f.${kind}`;
          // a bound for 6 MB (gunzip + split + parse on a shared, loaded machine), still a hang guard
          const r = await readJobs(
            file(gz ? gzipSync(body) : body, gz ? `${name}.gz` : name),
            undefined,
            30_000,
          );
          if ('error' in r) return; // refused with a clear error: fine
          const plain = await readJobs(file(text, name));
          assert.ok('jobs' in plain);
          // every valid job is still there (a huge line may hold a quote that joins CSV lines: then fewer)
          if (!(kind === 'csv' && unit === '"'))
            assert.equal(r.jobs.length, plain.jobs.length, `${kind} ${unit}`);
        },
      ),
      { numRuns: 24 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// job CSV round trip

const awkward = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ',', '"', ' ', '\t', '\n', '\r', '[', '-', 'é', '😀', '\\'),
  minLength: 1,
  maxLength: 8,
});
const epoch = fc.option(fc.integer({ min: 0, max: 4_102_444_800 }), { nil: null });
const jobArb: fc.Arbitrary<JobRecord> = fc.record(
  {
    id: awkward,
    submit: epoch,
    eligible: epoch,
    start: epoch,
    end: epoch,
    nodes: fc.integer({ min: 0, max: 100_000 }),
    cpus: fc.integer({ min: 0, max: 1_000_000 }),
    timeLimit: fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: null }),
    partition: fc.option(awkward, { nil: null }),
    state: fc.constantFrom(...JOB_STATES),
    user: fc.option(awkward, { nil: null }),
    nodeList: fc.option(awkward, { nil: null }),
  },
  { noNullPrototype: true },
);

describe('job CSV record continuation (stillQuoted)', () => {
  it('says "still inside a quoted cell" exactly when splitCsv of the joined record would (5000 pairs)', () => {
    const text = fc.string({ unit: fc.constantFrom('"', ',', 'a', ' ', '\r'), maxLength: 12 });
    const open = fc
      .tuple(text, text)
      .map(([a, b]) => `${a},"${b}`)
      .filter((p) => splitCsv(p) === null);
    fc.assert(
      fc.property(open, text, (prefix, line) => {
        const joined = `${prefix}\n${line}`;
        const t = joined.endsWith('\r') ? joined.slice(0, -1) : joined;
        assert.equal(
          bounded(line, () => stillQuoted(line)),
          splitCsv(t) === null,
          JSON.stringify(joined),
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('a stray quote: one scan per following row; at most 1 MB swallowed, or the next quote ends it', () => {
    const plain = '1,10,,20,30,1,4,3600,batch,COMPLETED,alice,cn1';
    const quoted = '1,10,,20,30,1,4,3600,batch,COMPLETED,alice,"cn[1-2],gpu1"';
    for (const row of [plain, quoted]) {
      const lines = [JOBS_CSV_HEADER, '9,10,,20,30,1,4,3600,"batch,COMPLETED,alice,x'];
      for (let i = 0; i < 40_000; i++) lines.push(row);
      const { jobs, report } = bounded(row, () => parseJobsCsvText(lines.join('\n')));
      assert.equal(report.skipped, 1);
      if (row === plain) {
        // the open record runs to MAX_RECORD_CHARS (1 MB, ~21 000 rows here), then reading resumes
        assert.equal(report.firstSkipped[0].reason, 'unterminated quoted cell');
        assert.ok(jobs.length > 15_000 && jobs.length < 25_000, `${jobs.length} jobs kept`);
      } else {
        // the next row's quote closes the cell: that joined record is malformed, the rest are read
        assert.match(report.firstSkipped[0].reason, /after a quoted cell/);
        assert.equal(jobs.length, 40_000 - 1);
      }
    }
  });
});

describe('job CSV round trip (writeJobsCsv -> openJobSource)', () => {
  it('any records, with commas, quotes, line breaks and spaces in text cells, come back equal (1000 files)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jobArb, { maxLength: 12 }), async (jobs) => {
        const p = join(dir, `${seq++}-rt.csv`);
        await writeJobsCsv(p, jobs);
        const r = await readJobs(p, 'csv');
        assert.ok('jobs' in r, 'error' in r ? r.error.message : '');
        assert.equal(r.report.skipped, 0, JSON.stringify(r.report.firstSkipped));
        assert.deepEqual(r.jobs, jobs);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// timeline CSV

async function readTimeline(path: string): Promise<Timeline | Error> {
  return boundedAsync(path, async () => {
    try {
      const tl = await readTimelineCsv(path);
      assert.ok(Number.isSafeInteger(tl.minutes) && tl.minutes >= 0);
      assert.ok(Number.isFinite(tl.capacity) && tl.capacity > 0, `capacity ${tl.capacity}`);
      assert.ok(Number.isFinite(tl.totalCpus) && tl.totalCpus > 0, `totalCpus ${tl.totalCpus}`);
      assert.ok(Number.isFinite(tl.start) && tl.start % 60 === 0, `start ${tl.start}`);
      for (const c of TIMELINE_COLUMNS) {
        assert.equal(tl.columns[c].length, tl.minutes);
        for (const v of tl.columns[c]) assert.ok(Number.isFinite(v), `${c} ${v}`);
      }
      return tl;
    } catch (e) {
      assertClearError(e, path);
      return e;
    }
  });
}

const timelineArb = fc
  .tuple(
    // at least one row: the cluster size travels in the rows (the CLI never writes an empty timeline)
    fc.integer({ min: 1, max: 60 }),
    fc.integer({ min: 0, max: 50_000_000 }),
    fc.integer({ min: 1, max: 100_000 }),
    fc.integer({ min: 1, max: 64 }),
    fc.array(fc.double({ min: -1e12, max: 1e12, noNaN: true }), {
      minLength: 60 * TIMELINE_COLUMNS.length,
      maxLength: 60 * TIMELINE_COLUMNS.length,
    }),
  )
  .map(([minutes, startMin, capacity, ppn, values]): Timeline => {
    const columns = {} as Timeline['columns'];
    TIMELINE_COLUMNS.forEach((c, k) => {
      columns[c] = Float64Array.from({ length: minutes }, (_, i) => values[k * 60 + i]);
    });
    return { start: startMin * 60, minutes, capacity, totalCpus: capacity * ppn, columns };
  });

/** What the writer promises: integers exact, others to 6 significant digits. */
function close(a: number, b: number): boolean {
  if (Number.isInteger(b)) return a === b;
  return Math.abs(a - b) <= Math.max(1e-12, Math.abs(b) * 1e-5);
}

describe('timeline CSV under fuzzing (readTimelineCsv)', () => {
  it('write -> read gives back the timeline (values to 6 significant digits) (500 files)', async () => {
    await fc.assert(
      fc.asyncProperty(timelineArb, async (tl) => {
        const p = join(dir, `${seq++}-tl.csv`);
        writeTimelineCsv(p, tl);
        const back = await readTimeline(p);
        assert.ok(!(back instanceof Error), back instanceof Error ? back.message : '');
        assert.equal(back.minutes, tl.minutes);
        assert.equal(back.capacity, tl.capacity);
        assert.equal(back.totalCpus, tl.totalCpus);
        if (tl.minutes) assert.equal(back.start, tl.start);
        for (const c of TIMELINE_COLUMNS) {
          for (let i = 0; i < tl.minutes; i++) {
            assert.ok(
              close(back.columns[c][i], tl.columns[c][i]),
              `${c}[${i}] ${back.columns[c][i]} vs ${tl.columns[c][i]}`,
            );
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('garbage, damaged timelines, CRLF, BOM: a timeline or a clear error (2500 files)', async () => {
    const base = join(dir, 'base-tl.csv');
    const tl0 = fc.sample(
      timelineArb.filter((t) => t.minutes > 5),
      { numRuns: 1, seed: 7 },
    )[0];
    writeTimelineCsv(base, tl0);
    const text = readFileSync(base, 'utf8');
    const cell = fc.constantFrom(
      '',
      '1',
      '-0',
      'NaN',
      'Infinity',
      '-1',
      '1e309',
      '0x10',
      ' 2',
      'x',
      '"3"',
      '2024-01-01T00:00:00Z',
    );
    const mutated = fc
      .tuple(
        fc.array(fc.tuple(fc.nat(), fc.nat(), cell), { maxLength: 4 }),
        fc.constantFrom('', 'crlf', 'bom', 'cut'),
        fc.nat(),
      )
      .map(([edits, how, cut]) => {
        const lines = text
          .trimEnd()
          .split('\n')
          .map((l) => l.split(','));
        for (const [r, c, v] of edits) {
          const row = lines[r % lines.length];
          row[c % row.length] = v;
        }
        let out = `${lines.map((l) => l.join(',')).join('\n')}\n`;
        if (how === 'crlf') out = out.replace(/\n/g, '\r\n');
        if (how === 'bom') out = `\uFEFF${out}`;
        if (how === 'cut') out = out.slice(0, cut % (out.length + 1));
        return Buffer.from(out);
      });
    const anyBytes = fc.oneof(
      { weight: 3, arbitrary: mutated },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((s) => Buffer.from(s)) },
    );
    await fc.assert(
      fc.asyncProperty(anyBytes, fc.boolean(), async (bytes, gz) => {
        await readTimeline(file(gz ? gzipSync(bytes) : bytes, 'tl.csv'));
      }),
      { numRuns: 2500 },
    );
  });

  it('long runs of blanks, digits and separators in a cell or the header: a timeline or a clear error', async () => {
    const cells = new Array(TIMELINE_COLUMNS.length).fill('0').join(',');
    const header = `timestamp,${TIMELINE_COLUMNS.join(',')},capacity,total_cpus`;
    const row = `2024-01-01T00:00:00Z,${cells},4,4`;
    await fc.assert(
      fc.asyncProperty(
        withRun(fc.constantFrom(header, row, '0', '')),
        fc.boolean(),
        async (line, inHeader) => {
          const text = inHeader ? `${line}\n${row}\n` : `${header}\n${row}\n${line}\n`;
          await readTimeline(file(text, 'tl.csv'));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a cluster size that is not a finite positive number is refused (Infinity, 1e309, 0x0)', async () => {
    const cells = new Array(TIMELINE_COLUMNS.length).fill('0').join(',');
    for (const bad of ['Infinity', '1e309', '-1', '0x0', 'NaN', '']) {
      const p = file(
        `timestamp,${TIMELINE_COLUMNS.join(',')},capacity,total_cpus\n2024-01-01T00:00:00Z,${cells},${bad},4\n`,
        'tl.csv',
      );
      const r = await readTimeline(p);
      assert.ok(r instanceof Error, `capacity ${bad} accepted`);
      assert.match(r.message, /capacity: expected a positive number/);
    }
  });

  it('CRLF and BOM read exactly like the plain file', async () => {
    const tl0 = fc.sample(
      timelineArb.filter((t) => t.minutes > 5),
      { numRuns: 1, seed: 11 },
    )[0];
    const base = join(dir, 'base2-tl.csv');
    writeTimelineCsv(base, tl0);
    const text = readFileSync(base, 'utf8');
    const plain = await readTimeline(base);
    assert.ok(!(plain instanceof Error));
    for (const v of [text.replace(/\n/g, '\r\n'), `\uFEFF${text}`, `\uFEFF${text.replace(/\n/g, '\r\n')}`]) {
      const r = await readTimeline(file(v, 'tl.csv'));
      assert.ok(!(r instanceof Error), r instanceof Error ? r.message : '');
      assert.deepEqual(r, plain);
    }
  });
});
