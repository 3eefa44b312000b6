/**
 * The collector's pending rows (issue 15, defect 3): the on-disk spool keeps what InfluxDB has not taken
 * across restarts, bounded with a line when it drops the oldest; and a slow write never delays sampling.
 * The kill -9 drill against a real influxd is test/integration/collect-spool.test.ts.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, type SlurmSnapshot } from '../../src/telemetry/collector.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';
import { PendingRows, Spool } from '../../src/telemetry/spool.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(minute: number): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = minute % 7;
  values.cpu_util = Number.NaN; // not known: must come back as NaN, not null or 0
  return {
    time: 1_700_000_040 + 60 * minute,
    cluster: 'c',
    partition: '_all',
    capacity: 8,
    totalCpus: 32,
    values,
  };
}

describe('Spool', () => {
  it('keeps rows across a reopen (NaN included) and forgets what was acknowledged', () => {
    const p = join(dir, 'a.spool');
    const notes: string[] = [];
    const s = Spool.open(p, 100, (m) => notes.push(m));
    for (let m = 0; m < 5; m++) s.push(row(m));
    const { rows, upTo } = s.peek(2);
    assert.deepEqual(rows, [row(0), row(1)]);
    s.push(row(5)); // arrives while the two are being written
    s.ack(upTo);
    const back = Spool.open(p, 100, (m) => notes.push(m));
    assert.deepEqual(back.peek().rows, [2, 3, 4, 5].map(row));
    assert.ok(Number.isNaN(back.peek().rows[0].values.cpu_util));
    assert.match(notes.at(-1) ?? '', /4 row\(s\) from an earlier run to write$/);
    back.ack(back.peek().upTo);
    assert.equal(readFileSync(p, 'utf8'), '');
  });

  it('drops the oldest beyond its bound, with one line naming the minutes', () => {
    const notes: string[] = [];
    const s = Spool.open(join(dir, 'b.spool'), 3, (m) => notes.push(m));
    for (let m = 0; m < 5; m++) s.push(row(m));
    assert.deepEqual(s.peek().rows, [2, 3, 4].map(row));
    assert.equal(notes.length, 2);
    assert.match(
      notes[0],
      /b\.spool: 1 oldest row\(s\) dropped \(2023-11-14T22:14Z to 2023-11-14T22:14Z\): more than 3 rows waiting$/,
    );
    assert.deepEqual(Spool.open(join(dir, 'b.spool'), 3).peek().rows, [2, 3, 4].map(row));
  });

  it('a torn or foreign line is skipped with a note; the rest is read', () => {
    const p = join(dir, 'c.spool');
    const s = Spool.open(p, 10);
    s.push(row(0));
    s.push(row(1));
    appendFileSync(p, '{"time":1700000160,"cluster":"c","parti');
    const notes: string[] = [];
    const back = Spool.open(p, 10, (m) => notes.push(m));
    assert.deepEqual(back.peek().rows, [row(0), row(1)]);
    assert.match(notes[0], /c\.spool: line 3: not a row, skipped$/);
    assert.equal(readFileSync(p, 'utf8').trimEnd().split('\n').length, 2);
  });

  it('an acknowledgement after the acknowledged rows were dropped forgets only what is left of them', () => {
    const q = new PendingRows(2);
    q.push(row(0));
    q.push(row(1));
    const { upTo } = q.peek();
    q.push(row(2)); // drops row 0 while 0 and 1 are in flight
    q.ack(upTo);
    assert.deepEqual(q.peek().rows, [row(2)]);
  });
});

describe('collect: a slow write does not delay sampling', () => {
  it('4 rows at 1 s intervals while each write takes 3 s: sampled on time, all written at the end', async () => {
    const snap = (): SlurmSnapshot => ({
      now: Date.now() / 1000,
      jobs: [],
      report: {
        lines: 0,
        jobs: 0,
        skipped: 0,
        firstSkipped: [],
        notes: {},
      } as unknown as SlurmSnapshot['report'],
      nodes: 4,
      cpus: 16,
      nodeStates: {} as SlurmSnapshot['nodeStates'],
    });
    const written: TelemetryRow[] = [];
    const ac = new AbortController();
    const t0 = performance.now();
    let n = 0;
    let sampled = 0;
    const res = await collect({
      cluster: 'c',
      partition: '_all',
      intervalS: 1,
      once: false,
      signal: ac.signal,
      sinks: [
        {
          name: 'slow',
          writer: {
            write: async (rows) => {
              await sleep(3000);
              written.push(...rows);
            },
          },
        },
      ],
      read: async () => snap(),
      onRow: () => {
        if (++n < 4) return;
        sampled = (performance.now() - t0) / 1000;
        ac.abort();
      },
    });
    assert.equal(res.rows, 4);
    // before: each tick waited for its write, 4 x 3 s; now the 4 ticks take about 3-4 s
    assert.ok(sampled < 6, `4 samples took ${sampled.toFixed(1)} s`);
    assert.equal(written.length, 4);
    assert.equal(res.sinks.slow.pending, 0);
  });
});
