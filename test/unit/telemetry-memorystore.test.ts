import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../../src/timeline/columns.js';

const T = 1_704_067_200;

function row(time: number, busy: number, cluster = 'c', partition = '_all'): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = busy;
  return { time, cluster, partition, capacity: 16, totalCpus: 64, values };
}

describe('memory store', () => {
  it('returns the rows with time > now - minutes, sorted, future rows included', async () => {
    let now = T + 600;
    const s = new MemoryStore({ now: () => now });
    await s.write([row(T, 1), row(T + 60, 2), row(T + 540, 3), row(T + 900, 9)]);
    assert.deepEqual(
      (await s.recent('c', '_all', 10)).map((r) => r.values.busy_nodes),
      [2, 3, 9],
    );
    now = T + 60;
    assert.deepEqual(
      (await s.recent('c', '_all', 1)).map((r) => r.time),
      [T + 60, T + 540, T + 900],
    );
    assert.deepEqual(await s.recent('other', '_all', 10), []);
    const r = (await s.recent('c', '_all', 100))[0];
    assert.equal(r.capacity, 16);
    assert.equal(r.totalCpus, 64);
  });

  it('keeps series apart, overwrites the same minute, inserts late rows in order', async () => {
    const s = new MemoryStore({ now: () => T + 3600 });
    await s.write([row(T, 1), row(T + 120, 3), row(T, 5, 'd'), row(T + 60, 2), row(T + 120, 4)]);
    assert.deepEqual(
      (await s.recent('c', '_all', 61)).map((r) => [r.time - T, r.values.busy_nodes]),
      [
        [0, 1],
        [60, 2],
        [120, 4],
      ],
    );
    assert.deepEqual(
      (await s.recent('d', '_all', 61)).map((r) => r.values.busy_nodes),
      [5],
    );
    assert.deepEqual(
      s.series().map((x) => [x.cluster, x.rows]),
      [
        ['c', 3],
        ['d', 1],
      ],
    );
  });

  it('is a ring: the oldest rows go when full, also with late inserts', async () => {
    const s = new MemoryStore({ maxMinutes: 3, now: () => T + 600 });
    for (let i = 0; i < 5; i++) await s.write([row(T + 60 * i, i)]);
    assert.deepEqual(
      (await s.recent('c', '_all', 60)).map((r) => r.values.busy_nodes),
      [2, 3, 4],
    );
    await s.write([row(T + 60 * 3 + 30, 35)]); // late, between 3 and 4: the oldest (2) goes
    assert.deepEqual(
      (await s.recent('c', '_all', 60)).map((r) => r.values.busy_nodes),
      [3, 35, 4],
    );
    await s.write([row(T, 0)]); // older than all kept rows while full: dropped
    assert.deepEqual(
      (await s.recent('c', '_all', 60)).map((r) => r.values.busy_nodes),
      [3, 35, 4],
    );
  });

  it('replays a timeline (its last maxMinutes rows)', async () => {
    const M = 10;
    const columns = {} as Record<TimelineColumn, Float64Array>;
    for (const c of TIMELINE_COLUMNS) columns[c] = new Float64Array(M).map((_, i) => i);
    const tl: Timeline = { start: T, minutes: M, capacity: 8, totalCpus: 32, columns };
    const s = new MemoryStore({ maxMinutes: 4, now: () => T + 60 * M });
    assert.equal(s.loadTimeline(tl, 'c', 'p'), 4);
    const rows = await s.recent('c', 'p', 60);
    assert.deepEqual(
      rows.map((r) => r.values.queued_jobs),
      [6, 7, 8, 9],
    );
    assert.equal(rows[0].time, T + 360);
    assert.equal(rows[0].capacity, 8);
  });

  it('refuses names that could not be queried', async () => {
    const s = new MemoryStore();
    await assert.rejects(s.write([row(T, 1, "x' OR 1")]), /cluster: expected letters/);
  });
});
