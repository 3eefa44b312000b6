/**
 * kill -9 during `pcm timeline --per-year` over a directory that holds an earlier run (issue 15, defect 8).
 * The built CLI (dist/cli/main.js: `npm run build` first) turns synthetic SWF logs made here into a
 * timeline of one day of 2023 and 74 days of 2024, so the 2023 file is written first and the 2024 one
 * (~12 MB) takes a while. An earlier run from jobs A fills the directory; a run from jobs B over a copy of
 * it is killed (SIGKILL) once its first year file is there (the moment a set of plain per-year files is
 * mixed), then after random further delays up to 1.5 times the time from a run's first year file to its
 * end (printed seed; PCM_FAULT_SEED=n repeats them). After each kill the reader (readTimelineCsv on the
 * directory) must return A's timeline or B's, exactly: never a mix, never an error. A last run to its end
 * leaves only B's set and its manifest.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TIMELINE_COLUMNS, type Timeline } from '../../src/timeline/columns.js';
import { readTimelineCsv } from '../../src/timeline/csv.js';
import { rng } from '../helpers/model-synthetic.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const KILLS = Number(process.env.PCM_FAULT_KILLS ?? 5);
const tmp = mkdtempSync(join(tmpdir(), 'pcm-fault-years-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** 2023-12-31T00:00:00Z */
const T0 = 1_703_980_800;
const SPAN_S = 75 * 86_400;

/** An SWF log of jobs on 64 nodes from T0 for 75 days: a job every 20 minutes, random sizes and runs. */
function swfLog(seed: number): string {
  const r = rng(seed);
  const lines = ['; Version: 2.2', `; UnixStartTime: ${T0}`, '; MaxNodes: 64', '; MaxProcs: 64'];
  for (let k = 0, t = 0; t < SPAN_S; k++, t += 1200) {
    const submit = k === 0 ? 0 : t + Math.floor(r() * 600);
    const wait = Math.floor(r() * 900);
    const run = 300 + Math.floor(r() * 20_000);
    const procs = 1 + Math.floor(r() * 16);
    lines.push(`${k + 1} ${submit} ${wait} ${run} ${procs} -1 -1 ${procs} ${run * 2} -1 1 1 1 -1 1 -1 -1 -1`);
  }
  return `${lines.join('\n')}\n`;
}

const env = { ...process.env, PCM_NO_PROGRESS: '1' };
const timelineArgs = (jobs: string, out: string, perYear: boolean) => [
  CLI,
  'timeline',
  '--jobs',
  jobs,
  ...(perYear ? ['--per-year'] : []),
  '--out',
  out,
];

function runToEnd(jobs: string, out: string, perYear: boolean): void {
  const r = spawnSync(process.execPath, timelineArgs(jobs, out, perYear), { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Year files (any naming) with their inode: a file renamed into place is a new (name, inode) pair. */
function yearFiles(dir: string): Set<string> {
  const out = new Set<string>();
  for (const f of readdirSync(dir)) {
    if (!/^job_timeline_\d{4}.*\.csv$/.test(f)) continue;
    try {
      out.add(`${f}@${statSync(join(dir, f)).ino}`);
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** Start a run from `jobs` into `dir` and wait for its first year file (a new name, or a file replaced). */
async function startUntilFirstYearFile(jobs: string, dir: string) {
  const before = yearFiles(dir);
  const child: ChildProcess = spawn(process.execPath, timelineArgs(jobs, dir, true), {
    env,
    stdio: 'ignore',
  });
  let exited = false;
  const done = new Promise<void>((res) => child.once('exit', () => res()));
  void done.then(() => {
    exited = true;
  });
  while (![...yearFiles(dir)].some((f) => !before.has(f))) {
    assert.ok(!exited, `pcm timeline ended before its first year file appeared in ${dir}`);
    await sleep(1);
  }
  return { child, done };
}

function same(a: Timeline, b: Timeline): boolean {
  if (a.start !== b.start || a.minutes !== b.minutes || a.capacity !== b.capacity) return false;
  return TIMELINE_COLUMNS.every((c) => a.columns[c].every((v, i) => v === b.columns[c][i]));
}

describe('kill -9 during pcm timeline --per-year: the reader sees the earlier set or the new one', () => {
  const jobsA = join(tmp, 'a.swf');
  const jobsB = join(tmp, 'b.swf');
  const earlier = join(tmp, 'earlier');
  let tlA: Timeline;
  let tlB: Timeline;
  /** From a run's first year file to its exit, ms: the later kill moments are drawn from 1.5 times it. */
  let windowMs = 0;

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} missing: npm run build`);
    for (const f of ['csv', 'year-set']) {
      const built = join(ROOT, `dist/timeline/${f}.js`);
      const src = join(ROOT, `src/timeline/${f}.ts`);
      assert.ok(
        existsSync(built) && statSync(built).mtimeMs >= statSync(src).mtimeMs,
        `${built} is missing or older than ${src}: npm run build`,
      );
    }
    writeFileSync(jobsA, swfLog(1));
    writeFileSync(jobsB, swfLog(2));
    runToEnd(jobsA, earlier, true);
    runToEnd(jobsA, join(tmp, 'a.csv'), false);
    runToEnd(jobsB, join(tmp, 'b.csv'), false);
    const probe = join(tmp, 'probe');
    cpSync(earlier, probe, { recursive: true });
    const run = await startUntilFirstYearFile(jobsB, probe);
    const t = Date.now();
    await run.done;
    windowMs = Date.now() - t;
    console.log(`# a run's first year file to its exit: ${windowMs} ms`);
    tlA = await readTimelineCsv(join(tmp, 'a.csv'));
    tlB = await readTimelineCsv(join(tmp, 'b.csv'));
    assert.ok(!same(tlA, tlB));
    assert.ok(same(await readTimelineCsv(earlier), tlA), 'the earlier run reads back as A');
  });

  it(`${KILLS} kills: all old or all new, never mixed`, async () => {
    const seed = Number(process.env.PCM_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`# kill moments: seed ${seed} (PCM_FAULT_SEED=${seed} repeats them)`);
    const r = rng(seed);
    const seen = { old: 0, new: 0 };
    let last = '';
    for (let k = 0; k < KILLS; k++) {
      const dir = join(tmp, `run${k}`);
      cpSync(earlier, dir, { recursive: true });
      const { child, done } = await startUntilFirstYearFile(jobsB, dir);
      const delay = k === 0 ? 0 : Math.floor(r() * windowMs * 1.5);
      if (delay) await sleep(delay);
      child.kill('SIGKILL');
      await done;
      const warnings: string[] = [];
      let got: Timeline;
      try {
        got = await readTimelineCsv(dir, { onWarning: (l) => warnings.push(l) });
      } catch (e) {
        assert.fail(`kill ${k} (+${delay} ms): the reader failed: ${(e as Error).message}`);
      }
      const which = same(got, tlA) ? 'old' : same(got, tlB) ? 'new' : 'mixed';
      console.log(`# kill ${k} at the first year file + ${delay} ms: reads the ${which} set`);
      assert.notEqual(which, 'mixed', `kill ${k} (+${delay} ms): the reader got a mix of both runs`);
      seen[which as 'old' | 'new']++;
      last = dir;
    }
    console.log(`# ${seen.old} old, ${seen.new} new`);
    assert.ok(seen.old > 0, 'the first kill (at the first year file) must leave the old set');

    // a run to its end over the last killed directory: B's set and nothing else is left
    runToEnd(jobsB, last, true);
    assert.ok(same(await readTimelineCsv(last), tlB));
    const names = readdirSync(last).sort();
    assert.ok(
      names.every((f) => !f.startsWith('.')),
      `no temp or lock file left: ${names.join(', ')}`,
    );
    assert.deepEqual(
      names.map((f) => f.replace(/\.[0-9a-f]{12}\.csv$/, '.csv')),
      ['job_timeline.manifest.json', 'job_timeline_2023.csv', 'job_timeline_2024.csv'],
    );
  });
});
