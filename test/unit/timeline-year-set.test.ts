/**
 * A `--per-year` timeline directory is one set (issue 15, defect 8; src/timeline/year-set.ts): the reader
 * reads only what the manifest names, so a year left from an earlier run is never read back; a file
 * changed after the manifest is refused; a directory without a manifest (an older pcm) is read as before
 * with a one-line warning; a reader racing a writer reads again; one writer at a time. The kill -9 drill
 * is test/unit/faults-timeline-set.test.ts.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobRecord } from '../../src/jobs/record.js';
import { buildTimeline } from '../../src/timeline/build.js';
import type { Timeline } from '../../src/timeline/columns.js';
import { readTimelineCsv, writeTimelineCsv, writeTimelineCsvPerYear } from '../../src/timeline/csv.js';
import { SET_LOCK, SET_MANIFEST } from '../../src/timeline/year-set.js';
import { InputError, UserError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-year-set-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const NEW_YEAR_2023 = 1_672_531_200; // 2023-01-01T00:00:00Z

/** A timeline from `from` to `to` (epoch s) of one job of `nodes` nodes: each run gets its own values. */
function timeline(from: number, to: number, nodes: number): Timeline {
  const j: JobRecord = {
    id: '1',
    submit: from,
    eligible: null,
    start: from,
    end: to,
    nodes,
    cpus: nodes,
    timeLimit: to - from,
    partition: null,
    state: 'COMPLETED',
    user: null,
    nodeList: null,
  };
  return buildTimeline([j], { capacity: 8, cpusPerNode: 1 });
}

const busy = (tl: Timeline) => Array.from(tl.columns.busy_nodes);

describe('per-year timeline directory as one set', () => {
  it('a stale year from an earlier run is not read back (and is removed by the next write)', async () => {
    const dir = join(tmp, 'stale');
    // earlier run: 2022-12-31T23:00 .. 2023-01-01T01:00, files for 2022 and 2023
    const earlier = timeline(NEW_YEAR_2023 - 3600, NEW_YEAR_2023 + 3600, 3);
    writeTimelineCsvPerYear(dir, earlier);
    const saved = join(tmp, 'stale-earlier');
    mkdirSync(saved);
    for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(saved, f));
    // this run starts at 2023-01-01T00:00: no 2022 file of its own
    const now = timeline(NEW_YEAR_2023, NEW_YEAR_2023 + 7200, 5);
    writeTimelineCsvPerYear(dir, now);
    const back = await readTimelineCsv(dir);
    assert.equal(back.start, now.start, 'starts where this run starts, not in the stale 2022');
    assert.equal(back.minutes, now.minutes);
    assert.deepEqual(busy(back), busy(now));
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('job_timeline_2022')), 'the stale year is removed');

    // stale files put back (by hand, or left by a crash): the old plain name and the old set's file
    for (const f of readdirSync(saved).filter((f) => f.startsWith('job_timeline_2022')))
      copyFileSync(join(saved, f), join(dir, f));
    writeTimelineCsv(join(dir, 'job_timeline_2022.csv'), earlier, { to: 60 });
    const again = await readTimelineCsv(dir);
    assert.equal(again.start, now.start);
    assert.deepEqual(busy(again), busy(now));
  });

  it('writes the year files under new names, then the manifest naming exactly them; nothing else is left', async () => {
    const dir = join(tmp, 'names');
    const tl = timeline(NEW_YEAR_2023 - 600, NEW_YEAR_2023 + 600, 2);
    const written = writeTimelineCsvPerYear(dir, tl);
    const names = readdirSync(dir).sort();
    assert.equal(names.length, 3, names.join(', '));
    assert.equal(names[0], SET_MANIFEST);
    assert.match(names[1], /^job_timeline_2022\.[0-9a-f]{12}\.csv$/);
    assert.match(names[2], /^job_timeline_2023\.[0-9a-f]{12}\.csv$/);
    assert.deepEqual(written.map((p) => p.slice(dir.length + 1)).sort(), names);
    const m = JSON.parse(readFileSync(join(dir, SET_MANIFEST), 'utf8'));
    assert.equal(m.format, 'pcm-timeline-years');
    assert.equal(m.start, '2022-12-31T23:50:00Z');
    assert.equal(m.minutes, tl.minutes);
    assert.deepEqual(
      m.files.map((f: { name: string; year: number; rows: number }) => [f.name, f.year, f.rows]),
      [
        [names[1], 2022, 10],
        [names[2], 2023, tl.minutes - 10],
      ],
    );
    for (const f of m.files) {
      assert.equal(f.bytes, readFileSync(join(dir, f.name)).length);
      assert.ok(f.sha256.startsWith(f.name.split('.')[1]));
    }
    // the same timeline again: the same names (content-addressed), still three files
    writeTimelineCsvPerYear(dir, tl);
    assert.deepEqual(readdirSync(dir).sort(), names);
  });

  it('a file changed, cut or removed after the manifest is refused (a torn set), naming the file', async () => {
    const dir = join(tmp, 'torn');
    const tl = timeline(NEW_YEAR_2023 - 600, NEW_YEAR_2023 + 600, 2);
    writeTimelineCsvPerYear(dir, tl);
    const y2023 = readdirSync(dir).find((f) => f.startsWith('job_timeline_2023'))!;
    const p = join(dir, y2023);
    const text = readFileSync(p, 'utf8');
    const refused = async (re: RegExp) =>
      assert.rejects(readTimelineCsv(dir), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(e.message, re);
        assert.ok(e.message.includes(y2023) && !e.message.includes('\n'), e.message);
        return true;
      });
    appendFileSync(p, text.split('\n')[1].replace('2022', '2029'));
    await refused(
      /\d+ bytes, job_timeline\.manifest\.json says \d+: the set changed after pcm timeline wrote it/,
    );
    writeFileSync(p, text.replace(/,2,/, ',3,')); // same size, one value changed
    await refused(/sha256 [0-9a-f]{12}\.\.\., job_timeline\.manifest\.json says [0-9a-f]{12}\.\.\./);
    rmSync(p);
    await refused(/named by job_timeline\.manifest\.json but missing/);
  });

  it('a reader racing a writer that replaces the set reads the new set whole (again, from the new manifest)', async () => {
    const dir = join(tmp, 'race');
    writeTimelineCsvPerYear(dir, timeline(NEW_YEAR_2023 - 600, NEW_YEAR_2023 + 600, 2));
    const now = timeline(NEW_YEAR_2023 - 1200, NEW_YEAR_2023 + 1200, 6);
    // the reader has its manifest and opens its first file asynchronously; the writer replaces the set
    // (and removes the files the reader's manifest names) before that open runs
    const reading = readTimelineCsv(dir);
    writeTimelineCsvPerYear(dir, now);
    const got = await reading;
    assert.equal(got.start, now.start);
    assert.deepEqual(busy(got), busy(now));
  });

  it('a manifest that is not one, or names a path outside the set, is refused', async () => {
    const dir = join(tmp, 'bad-manifest');
    writeTimelineCsvPerYear(dir, timeline(NEW_YEAR_2023, NEW_YEAR_2023 + 600, 2));
    const mp = join(dir, SET_MANIFEST);
    const good = readFileSync(mp, 'utf8');
    const refused = async (text: string, re: RegExp) => {
      writeFileSync(mp, text);
      await assert.rejects(readTimelineCsv(dir), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(e.message, re);
        return true;
      });
    };
    await refused('{"format": ', /job_timeline\.manifest\.json: not JSON/);
    await refused('{"format": "x"}', /format: expected "pcm-timeline-years"/);
    await refused(
      good.replace(/"name": "job_timeline_2023/, '"name": "../job_timeline_2023'),
      /files\[0\]\.name: expected/,
    );
    await refused(good.replace(/"version": 1/, '"version": 2'), /version 2: this pcm reads version 1/);
    await refused(good.replace(/"minutes": \d+/, '"minutes": 5'), /minutes: 5, the files hold \d+ rows/);
  });

  it('a directory without a manifest (older pcm) is read as before, with one warning line', async () => {
    const dir = join(tmp, 'older');
    mkdirSync(dir);
    const tl = timeline(NEW_YEAR_2023 - 600, NEW_YEAR_2023 + 600, 2);
    writeTimelineCsv(join(dir, 'job_timeline_2022.csv'), tl, { to: 10 });
    writeTimelineCsv(join(dir, 'job_timeline_2023.csv'), tl, { from: 10 });
    const warnings: string[] = [];
    const back = await readTimelineCsv(dir, { onWarning: (l) => warnings.push(l) });
    assert.deepEqual(busy(back), busy(tl));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no job_timeline\.manifest\.json \(written by an older pcm\?\): reading its 2/);
    assert.ok(warnings[0].includes(dir) && !warnings[0].includes('\n'));
    // rewritten by this pcm: a set, the old plain files gone, no warning
    writeTimelineCsvPerYear(dir, tl);
    assert.ok(!readdirSync(dir).includes('job_timeline_2022.csv'));
    warnings.length = 0;
    await readTimelineCsv(dir, { onWarning: (l) => warnings.push(l) });
    assert.deepEqual(warnings, []);
  });

  it("one writer at a time: a live writer's lock refuses the write, a dead one's is taken over", () => {
    const dir = join(tmp, 'locked');
    mkdirSync(dir);
    const tl = timeline(NEW_YEAR_2023, NEW_YEAR_2023 + 600, 2);
    writeFileSync(join(dir, SET_LOCK), `${process.ppid}\n`);
    assert.throws(
      () => writeTimelineCsvPerYear(dir, tl),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.includes(`process ${process.ppid} is writing a timeline into this directory`),
    );
    assert.deepEqual(readdirSync(dir), [SET_LOCK]);
    writeFileSync(join(dir, SET_LOCK), '4194999\n'); // no such process
    writeFileSync(join(dir, '.job_timeline_2023.csv.4194999.abc.tmp'), 'half'); // its half-written file
    writeTimelineCsvPerYear(dir, tl);
    const names = readdirSync(dir);
    assert.equal(names.length, 2, names.join(', ')); // the year file and the manifest
  });
});
