import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../harness/net.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { collect, EndedJobs, type SlurmSnapshot, snapshotRow } from '../../src/telemetry/collector.js';
import { readRowsCsv } from '../../src/telemetry/csv-rows.js';
import { COLLECT_CSV_HEADER, CsvSink } from '../../src/telemetry/csv-sink.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';
import { parseSinfo, parseSqueue } from '../../src/telemetry/slurm.js';
import { readTimelineCsv } from '../../src/timeline/csv.js';
import { snapshotOf } from '../helpers/slurm-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-collect-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIX = new URL('../fixtures/telemetry/', import.meta.url);

/** The real squeue/sinfo capture, as if read now. */
function fixtureSnapshot(): SlurmSnapshot {
  const now = Date.now() / 1000;
  const { jobs, report } = parseSqueue(readFileSync(new URL('squeue-slurm22.05.txt', FIX), 'utf8'), now);
  const s = parseSinfo(readFileSync(new URL('sinfo-slurm22.05.txt', FIX), 'utf8'));
  return { now, jobs, report, nodes: s.nodes, cpus: s.cpus, nodeStates: s.nodeStates };
}

function row(time: number, busy: number): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = busy;
  values.cpu_util = busy / 32;
  return { time, cluster: 'c', partition: '_all', capacity: 16, totalCpus: 64, values };
}

describe('csv sink', () => {
  it('appends rows under the timeline CSV header; readTimelineCsv reads the file', async () => {
    const p = join(dir, 'a.csv');
    const s = new CsvSink(p);
    await s.write([row(1_704_067_200, 3)]);
    s.close();
    const s2 = new CsvSink(p); // reopen: appends, no second header
    await s2.write([row(1_704_067_260, 5)]);
    s2.close();
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], COLLECT_CSV_HEADER);
    assert.match(lines[1], /^2024-01-01T00:00:00Z,0,0,3,0,0\.09375,.*,16,64,c,_all$/);
    const tl = await readTimelineCsv(p);
    assert.deepEqual(Array.from(tl.columns.busy_nodes), [3, 5]);
    assert.equal(tl.capacity, 16);
  });

  it('refuses a file that is not a collect CSV, and keeps a torn last line apart', async () => {
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'a,b\n1,2\n');
    assert.throws(() => new CsvSink(other), /exists and is not a pcm collect CSV/);
    assert.equal(readFileSync(other, 'utf8'), 'a,b\n1,2\n');
    const torn = join(dir, 'torn.csv');
    writeFileSync(torn, `${COLLECT_CSV_HEADER}\n2024-01-01T00:00:00Z,1,2`);
    const s = new CsvSink(torn);
    await s.write([row(1_704_067_260, 5)]);
    s.close();
    const lines = readFileSync(torn, 'utf8').split('\n');
    assert.equal(lines[1], '2024-01-01T00:00:00Z,1,2');
    assert.match(lines[2], /^2024-01-01T00:01:00Z,/);
  });
});

describe('collect loop', () => {
  it('remembers the ended jobs squeue forgets (MinJobAge) for the last hour of run times', () => {
    const T = 1_704_067_200;
    const job = (id: string, start: number, end: number | null): JobRecord => ({
      id,
      submit: start - 60,
      eligible: null,
      start,
      end,
      nodes: 2,
      cpus: 8,
      timeLimit: 7200,
      partition: 'p',
      state: end === null ? 'RUNNING' : 'COMPLETED',
      user: null,
      nodeList: null,
    });
    const snap = snapshotOf;
    const ran = (s: SlurmSnapshot) => snapshotRow(s, 'c', '_all').values.p50_runtime_ended_1h_s;
    const mem = new EndedJobs();
    // squeue lists job a as ended (900 s run) at T, no longer 10 minutes later
    assert.equal(
      ran(mem.withRemembered(snap(T + 5, [job('a', T - 1000, T - 100), job('b', T - 50, null)]))),
      900,
    );
    const later = mem.withRemembered(snap(T + 605, [job('b', T - 50, null)]));
    assert.deepEqual(
      later.jobs.map((j) => j.id),
      ['b', 'a'],
    );
    assert.equal(ran(later), 900);
    assert.equal(ran(snap(T + 605, [job('b', T - 50, null)])), 0, 'without the memory: none');
    // an hour after its end (the row at T + 3540 counts ends after T - 60) it is gone
    const hour = mem.withRemembered(snap(T + 3540 + 5, [job('b', T - 50, null)]));
    assert.deepEqual(
      hour.jobs.map((j) => j.id),
      ['b'],
    );
  });

  it('--once: one row to every sink', async () => {
    const store = new MemoryStore();
    const csv = new CsvSink(join(dir, 'once.csv'));
    const res = await collect({
      cluster: 'pcmtest',
      partition: '_all',
      intervalS: 60,
      once: true,
      sinks: [
        { name: 'memory', writer: store },
        { name: 'csv', writer: csv },
      ],
      read: async () => fixtureSnapshot(),
    });
    csv.close();
    assert.equal(res.rows, 1);
    assert.deepEqual(res.sinks.memory, { written: 1, pending: 0, dropped: 0, errors: 0 });
    const rows = await store.recent('pcmtest', '_all', 5);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].time % 60, 0);
    assert.equal(rows[0].capacity, 16);
    assert.equal(readFileSync(join(dir, 'once.csv'), 'utf8').trimEnd().split('\n').length, 2);
  });

  it('--once fails with the sink error; Slurm errors fail too', async () => {
    const port = await freePort();
    const w = new InfluxWriter({
      url: `http://127.0.0.1:${port}`,
      database: 'x',
      timeoutMs: 1000,
      retries: 0,
      backoffMs: 1,
    });
    const base = { cluster: 'c', partition: '_all', intervalS: 60, once: true };
    await assert.rejects(
      collect({ ...base, sinks: [{ name: 'influx', writer: w }], read: async () => fixtureSnapshot() }),
      /connection refused/,
    );
    await assert.rejects(
      collect({
        ...base,
        sinks: [],
        read: async () => {
          throw new Error(
            'squeue failed (exit 1): slurm_load_jobs error: Unable to contact slurm controller',
          );
        },
      }),
      /Unable to contact slurm controller/,
    );
  });

  it('loop: keeps rows for a failing sink, reports errors, stops cleanly on abort', async () => {
    const port = await freePort();
    const w = new InfluxWriter({
      url: `http://127.0.0.1:${port}`,
      database: 'x',
      timeoutMs: 1000,
      retries: 0,
      backoffMs: 1,
    });
    const store = new MemoryStore();
    const ac = new AbortController();
    const errors: string[] = [];
    let n = 0;
    const res = await collect({
      cluster: 'c',
      partition: '_all',
      intervalS: 1,
      once: false,
      signal: ac.signal,
      sinks: [
        { name: 'influx', writer: w },
        { name: 'memory', writer: store },
      ],
      read: async () => fixtureSnapshot(),
      onRow: () => {
        if (++n === 2) ac.abort();
      },
      onError: (m) => errors.push(m),
    });
    assert.equal(res.rows, 2);
    assert.equal(res.sinks.memory.written, 2);
    assert.equal(res.sinks.influx.written, 0);
    assert.equal(res.sinks.influx.pending, 2);
    assert.ok(errors.length >= 2);
    assert.match(
      errors[0],
      /^influx: InfluxDB http:\/\/127\.0\.0\.1:\d+ \/write: connection refused .*1 row\(s\) kept to retry$/,
    );
  });

  it('refuses tag values that could not be queried', async () => {
    await assert.rejects(
      collect({ cluster: 'a b', partition: '_all', intervalS: 60, once: true, sinks: [] }),
      /--cluster: expected letters/,
    );
  });
});

describe('replaying a collected CSV into the memory store', () => {
  it('reads rows with gaps and empty cells; names come from the file', async () => {
    const p = join(dir, 'gappy.csv');
    const s = new CsvSink(p);
    const a = row(1_704_067_200, 3);
    const b = row(1_704_067_200 + 600, 5); // 9 minutes missing in between
    b.values.queued_jobs = Number.NaN;
    await s.write([a, b]);
    s.close();
    await assert.rejects(readTimelineCsv(p), /gap of 9 missing minute/); // the strict reader refuses it
    const rows = await readRowsCsv(p, { cluster: 'x', partition: 'y' });
    assert.deepEqual(
      rows.map((r) => [r.time, r.cluster, r.partition, r.values.busy_nodes, r.capacity]),
      [
        [1_704_067_200, 'c', '_all', 3, 16],
        [1_704_067_800, 'c', '_all', 5, 16],
      ],
    );
    assert.ok(Number.isNaN(rows[1].values.queued_jobs));
    const store = new MemoryStore({ now: () => 1_704_067_800 });
    store.writeSync(rows);
    assert.equal(store.recentSync('c', '_all', 60).length, 2);
  });

  it('names the line of a malformed row', async () => {
    const p = join(dir, 'bad.csv');
    writeFileSync(p, `${COLLECT_CSV_HEADER}\n2024-01-01T00:00:00Z,1\n`);
    await assert.rejects(
      readRowsCsv(p, { cluster: 'x', partition: 'y' }),
      new RegExp(`bad\\.csv: line 2: expected ${COLLECT_CSV_HEADER.split(',').length} fields, found 2`),
    );
  });
});
