import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { startLiveSimulation } from '../../src/sim/live.js';
import { simulateCluster } from '../../src/sim/scheduler.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import type { TelemetryRow } from '../../src/telemetry/schema.js';
import type { TelemetryWriter } from '../../src/telemetry/types.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS } from '../../src/timeline/columns.js';

const ORIGIN = Date.UTC(2026, 2, 4, 12, 0, 0) / 1000; // a Wednesday noon, UTC
const cfg = parseConfig(
  'Cluster:\n  Name: livesim\n  Nodes: 48\n  CpusPerNode: 4\nSimulator:\n  Seed: 7\n  Arrivals:\n    JobsPerDay: 500\n  Bursts:\n    PerDay: 4\n',
);

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('sim live mode', () => {
  it('writes one row per simulated minute, equal to the batch timeline of the same jobs', async () => {
    let handle: ReturnType<typeof startLiveSimulation> | undefined;
    const store = new MemoryStore({ now: () => handle?.now() ?? ORIGIN });
    const target = ORIGIN + 3 * 3600;
    let batches = 0;
    handle = startLiveSimulation(
      {
        sim: cfg.Simulator,
        cluster: cfg.Cluster,
        speed: 200_000, // ~55 simulated hours per wall second
        origin: ORIGIN,
        prerollHours: 6,
        days: 10,
        onRows: (rows) => {
          batches++;
          if (rows[rows.length - 1].time >= target) void handle?.stop();
        },
      },
      store,
    );
    const res = await handle.done;
    assert.equal(res.reason, 'stopped');
    assert.equal(res.pending, 0);
    assert.equal(res.firstRowTime, ORIGIN - 6 * 3600);
    assert.ok((res.lastRowTime as number) >= target, `last row ${res.lastRowTime}`);
    assert.ok(batches >= 2, 'pre-roll and live minutes come in separate writes');
    const last = res.lastRowTime as number;
    const minutes = (last - (res.firstRowTime as number)) / 60 + 1;
    assert.equal(res.rowsWritten, minutes);
    const span = Math.ceil((handle.now() - (res.firstRowTime as number)) / 60) + 10;
    const rows = store.recentSync('livesim', '_all', span);
    assert.equal(rows.length, minutes);
    // the same jobs scheduled in one batch run, then the historical timeline over the same minutes
    const batch = simulateCluster(handle.sim.jobs, { nodes: 48, overrun: cfg.Simulator.Overrun });
    const tl = buildTimeline([...batch.records()], {
      capacity: 48,
      cpusPerNode: 4,
      start: res.firstRowTime as number,
      end: last + 60,
    });
    assert.equal(tl.minutes, minutes);
    let busyMinutes = 0;
    let queuedMinutes = 0;
    for (let i = 0; i < minutes; i++) {
      const r = rows[i];
      assert.equal(r.time, tl.start + 60 * i);
      assert.equal(r.capacity, 48);
      assert.equal(r.totalCpus, 192);
      for (const c of TIMELINE_COLUMNS) {
        assert.ok(
          close(r.values[c], tl.columns[c][i]),
          `${c} at row ${i}: live ${r.values[c]} batch ${tl.columns[c][i]}`,
        );
      }
      if (r.values.busy_nodes > 0) busyMinutes++;
      if (r.values.queued_jobs > 0) queuedMinutes++;
    }
    // the comparison means something: the cluster was busy and had a queue
    assert.ok(busyMinutes > minutes * 0.9, `busy in ${busyMinutes} of ${minutes} minutes`);
    assert.ok(queuedMinutes > 0, 'a queue formed at some point');
    assert.ok(handle.now() >= last, 'the clock is frozen at stop, past the last row');
  });

  it('keeps rows while the writer fails and writes them when it recovers; reports unwritten rows at stop', async () => {
    let fail = true;
    const got: TelemetryRow[] = [];
    const errors: string[] = [];
    const flaky: TelemetryWriter = {
      async write(rows) {
        if (fail) throw new Error('sink down');
        got.push(...rows);
      },
    };
    let n = 0;
    const h = startLiveSimulation(
      {
        sim: cfg.Simulator,
        cluster: cfg.Cluster,
        speed: 100_000,
        origin: ORIGIN,
        prerollHours: 1,
        days: 3,
        maxBatchRows: 30,
        onRows: () => {
          n++;
          if (n === 4) fail = false; // recovers at the 4th batch: the 3 failed batches go with it
          if (n === 8) void h.stop();
        },
        onError: (m) => errors.push(m),
      },
      flaky,
    );
    const res = await h.done;
    assert.equal(errors.length, 3);
    assert.match(errors[0], /sink down; kept to retry/);
    assert.equal(res.pending, 0);
    assert.equal(res.writeErrors, 3);
    assert.equal(got.length, res.rowsWritten);
    for (let i = 1; i < got.length; i++) assert.equal(got[i].time - got[i - 1].time, 60);
    assert.equal(got[0].time, ORIGIN - 3600);

    // a writer that never recovers: stop reports the rows not written
    const dead: TelemetryWriter = {
      async write() {
        throw new Error('gone');
      },
    };
    const h2 = startLiveSimulation(
      { sim: cfg.Simulator, cluster: cfg.Cluster, speed: 1, origin: ORIGIN, prerollHours: 0.5, days: 2 },
      dead,
    );
    const r2 = await h2.stop();
    assert.equal(r2.rowsWritten, 0);
    assert.ok(r2.pending >= 30, `pending ${r2.pending}`);
  });

  it('rejects a bad speed with the option named', () => {
    const store = new MemoryStore();
    assert.throws(
      () => startLiveSimulation({ sim: cfg.Simulator, cluster: cfg.Cluster, speed: 0 }, store),
      /--speed: expected/,
    );
  });
});
