import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assess } from '../../src/telemetry/assess.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';

const T = 1_704_067_200;
const NOW = T + 2 * 86400 + 5;

function row(time: number, busy: number): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = busy;
  return { time, cluster: 'c', partition: '_all', capacity: 64, totalCpus: 256, values };
}

/** Two days of a daily pattern with small wiggles. */
function history(): TelemetryRow[] {
  const rows: TelemetryRow[] = [];
  for (let t = T; t <= NOW; t += 60) {
    const m = (t - T) / 60;
    rows.push(row(t, 30 + Math.round(10 * Math.sin((2 * Math.PI * m) / 1440) + 2 * Math.sin(m * 1.3))));
  }
  return rows;
}

describe('assess: one read with quality and anomalies', () => {
  it('a healthy series: ok, both anomaly checks ran, nothing flagged', async () => {
    const store = new MemoryStore({ now: () => NOW });
    await store.write(history());
    const a = await assess(store, 'c', '_all', { lookbackMinutes: 240, now: NOW });
    assert.equal(a.quality.report.verdict, 'ok');
    assert.deepEqual(a.anomalies.checked, ['jump', 'level_vs_yesterday']);
    assert.deepEqual(a.anomalies.flags, []);
    assert.equal(a.pointsRead, 240 + 1 + 1440);
  });

  it('a burst in the last minutes is flagged against yesterday', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const rows = history();
    for (let k = 1; k <= 10; k++) rows[rows.length - k].values.busy_nodes += 30;
    await store.write(rows);
    const a = await assess(store, 'c', '_all', { lookbackMinutes: 240, now: NOW });
    assert.ok(a.anomalies.flags.some((f) => f.kind === 'level_vs_yesterday' && f.score > 3.5));
    assert.ok(a.anomalies.flags.some((f) => f.kind === 'jump' && f.time === rows[rows.length - 10].time));
  });

  it('no yesterday: only the jump check; cold start is reported', async () => {
    const store = new MemoryStore({ now: () => NOW });
    await store.write(history().slice(-100));
    const a = await assess(store, 'c', '_all', { lookbackMinutes: 240, now: NOW, minHistoryMinutes: 60 });
    assert.deepEqual(a.anomalies.checked, ['jump']);
    assert.equal(a.quality.report.verdict, 'degraded');
    assert.deepEqual(a.quality.report.flags, ['cold_start']);
  });
});
