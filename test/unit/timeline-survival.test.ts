import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runTimeline } from '../../src/cli/commands/timeline.js';
import { readTimelineCsv } from '../../src/timeline/csv.js';
import {
  ageBin,
  CELLS,
  cellIndex,
  EndingTable,
  HORIZON_MIN,
  REM_NONE,
  readEndingTable,
  remBin,
  sizeBin,
  writeEndingTable,
} from '../../src/timeline/survival.js';
import { InputError } from '../../src/util/errors.js';

describe('ending table (src/timeline/survival.ts)', () => {
  it('bins: age closed below, remaining limit closed above, sizes by upper edge', () => {
    assert.equal(ageBin(0), 0);
    assert.equal(ageBin(4.99), 0);
    assert.equal(ageBin(5), 1);
    assert.equal(ageBin(1e9), 9);
    assert.equal(remBin(-3), 0);
    assert.equal(remBin(0), 0);
    assert.equal(remBin(0.5), 1);
    assert.equal(remBin(30), 2);
    assert.equal(remBin(30.1), 3);
    assert.equal(remBin(1e6), 6);
    assert.equal(remBin(Number.NaN), REM_NONE);
    assert.deepEqual([1, 2, 4, 5, 64, 65].map(sizeBin), [0, 1, 1, 2, 3, 4]);
  });

  it('a run adds its minutes per cell, those within 30 minutes of its end as ended (per-minute brute force)', () => {
    const runs: Array<[run: number, limit: number, nodes: number]> = [
      [1, 60, 1],
      [29, 30, 2],
      [31, 120, 8],
      [95, 100, 3],
      [400, 240, 70],
      [3000, Number.NaN, 16],
      [45, 44, 1],
    ];
    const t = new EndingTable();
    const risk = new Float64Array(CELLS);
    const ended = new Float64Array(CELLS);
    for (const [run, limit, nodes] of runs) {
      t.addRun(run, limit, nodes);
      // integer runs and limits: the cell is constant on each minute [x, x + 1)
      for (let x = 0; x < run; x++) {
        const c = cellIndex(ageBin(x), remBin(limit - x), sizeBin(nodes));
        risk[c]++;
        if (x >= run - HORIZON_MIN) ended[c]++;
      }
    }
    for (let c = 0; c < CELLS; c++) {
      assert.ok(Math.abs(t.risk[c] - risk[c]) < 1e-9, `risk[${c}]`);
      assert.ok(Math.abs(t.ended[c] - ended[c]) < 1e-9, `ended[${c}]`);
    }
    assert.equal(t.jobs, runs.length);
  });

  it('empty table = the time-limit prior; data pulls a cell towards its rate', () => {
    const P0 = new EndingTable().probabilities();
    assert.equal(P0[cellIndex(3, remBin(20), 0)], 1);
    assert.equal(P0[cellIndex(3, remBin(10), 4)], 1);
    assert.equal(P0[cellIndex(3, remBin(31), 0)], 0);
    assert.equal(P0[cellIndex(0, REM_NONE, 0)], 0);
    // many 3-minute jobs without a limit: young no-limit jobs end within 30 minutes
    const t = new EndingTable();
    for (let k = 0; k < 1000; k++) t.addRun(3, Number.NaN, 1);
    const p = t.probabilities()[cellIndex(0, REM_NONE, 0)];
    assert.ok(p > 0.95 && p <= 1, `p = ${p}`);
    // the same cell for another size borrows from the pooled size-free cell
    const q = t.probabilities()[cellIndex(0, REM_NONE, 3)];
    assert.ok(q > 0.9, `q = ${q}`);
  });

  it('saves and reads back as JSON; refuses other files with a one-line reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-ending-'));
    try {
      const t = new EndingTable();
      t.addRun(12, 60, 2);
      t.addRun(700, Number.NaN, 33);
      const p = join(dir, 'ending.json');
      writeEndingTable(p, t);
      const back = readEndingTable(p);
      assert.deepEqual(Array.from(back.risk), Array.from(t.risk));
      assert.deepEqual(Array.from(back.ended), Array.from(t.ended));
      assert.equal(back.jobs, 2);
      const bad = join(dir, 'bad.json');
      for (const [text, msg] of [
        ['{"format":"other"}', /not an ending table/],
        ['not json', /not JSON/],
        [JSON.stringify({ ...t.toJSON(), version: 9 }), /upgrade pcm/],
        [JSON.stringify({ ...t.toJSON(), age_edges_min: [0, 1] }), /bins differ/],
        [JSON.stringify({ ...t.toJSON(), risk: [1, 2] }), /risk: expected 400/],
      ] as const) {
        writeFileSync(bad, text);
        assert.throws(
          () => readEndingTable(bad),
          (e: unknown) => e instanceof InputError && msg.test(e.message),
        );
      }
      assert.throws(() => readEndingTable(join(dir, 'missing.json')), /no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pcm timeline --ending-table writes the table of the finished jobs next to the timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-ending-cli-'));
    try {
      const out = join(dir, 'tl.csv');
      const table = join(dir, 'ending.json');
      const r = await runTimeline({
        jobs: 'test/fixtures/traces/CTC-SP2-1996-3.1-cln.head500.swf',
        nodes: 338,
        ppn: 1,
        tz: 'UTC',
        out,
        endingTable: table,
      });
      assert.deepEqual(r.written, [out, table]);
      const t = readEndingTable(table);
      assert.ok(t.jobs > 300, `${t.jobs} jobs`);
      const tl = await readTimelineCsv(out);
      const e = tl.columns.expected_end_30m_nodes;
      let sum = 0;
      for (let i = 0; i < tl.minutes; i++) {
        assert.ok(e[i] >= 0 && e[i] <= tl.columns.busy_nodes[i] + tl.columns.overshoot_nodes[i] + 1e-6);
        sum += e[i];
      }
      assert.ok(sum > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
