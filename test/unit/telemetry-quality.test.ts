import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkQuality,
  ROW_BEFORE_HISTORY,
  ROW_FILLED,
  ROW_MISSING,
  ROW_PRESENT,
} from '../../src/telemetry/quality.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';

const T = 1_704_067_200; // a whole minute
const M = 60;
const NOW = T + 60 * (M - 1) + 5; // 5 s into the last minute of the window

function row(i: number, busy = 4, extra: Partial<TelemetryRow> = {}): TelemetryRow {
  const values = zeroValues();
  values.busy_nodes = busy;
  values.running_jobs = 2;
  values.cpu_util = 0.25;
  return { time: T + 60 * i, cluster: 'c', partition: '_all', capacity: 16, totalCpus: 64, values, ...extra };
}

function full(): TelemetryRow[] {
  return Array.from({ length: M }, (_, i) => row(i, i % 16));
}

describe('data quality', () => {
  it('a complete series is ok and comes back unchanged on the grid', () => {
    const { report, timeline, state } = checkQuality(full(), { now: NOW, lookbackMinutes: M });
    assert.equal(report.verdict, 'ok');
    assert.deepEqual(report.flags, []);
    assert.equal(timeline.start, T);
    assert.equal(timeline.minutes, M);
    assert.equal(timeline.capacity, 16);
    assert.equal(timeline.columns.busy_nodes[17], 1);
    assert.ok(state.every((s) => s === ROW_PRESENT));
    assert.equal(report.lastPointAgeS, 5);
  });

  it('forward-fills gaps up to K minutes, then marks them missing', () => {
    const rows = full().filter((r) => !((r.time - T) / 60 >= 10 && (r.time - T) / 60 < 18)); // 8-minute gap
    const { report, timeline, state } = checkQuality(rows, {
      now: NOW,
      lookbackMinutes: M,
      maxFillMinutes: 5,
    });
    assert.deepEqual(Array.from(state.slice(9, 19)), [0, 1, 1, 1, 1, 1, 2, 2, 2, 0]);
    assert.equal(timeline.columns.busy_nodes[12], 9); // filled from minute 9
    assert.ok(Number.isNaN(timeline.columns.busy_nodes[16]));
    assert.equal(report.counts.filled, 5);
    assert.equal(report.counts.missing, 3);
    assert.ok(report.flags.includes('missing_minutes') && report.flags.includes('filled_minutes'));
    assert.equal(report.verdict, 'degraded'); // 3/60 = 5 % <= 10 %
    const strict = checkQuality(rows, {
      now: NOW,
      lookbackMinutes: M,
      maxFillMinutes: 0,
      maxMissingFraction: 0.1,
    });
    assert.equal(strict.report.verdict, 'no_forecast');
    assert.match(strict.report.reasons[0], /13\.3% of minutes missing \(limit 10%\)/);
  });

  it('stale data and no data are "no forecast" with the reason', () => {
    const rows = full().slice(0, M - 20);
    const r = checkQuality(rows, { now: NOW, lookbackMinutes: M, maxMissingFraction: 1 }).report;
    assert.equal(r.verdict, 'no_forecast');
    assert.ok(r.flags.includes('stale'));
    assert.match(r.reasons[0], /stale: the last point is 20 min old \(limit 5 min\)/);
    const none = checkQuality([], { now: NOW, lookbackMinutes: M }).report;
    assert.equal(none.verdict, 'no_forecast');
    assert.deepEqual(none.flags, ['no_data']);
    assert.equal(none.lastPointTime, null);
  });

  it('cold start: reported, and no forecast below the minimum history', () => {
    const rows = full().slice(40);
    const { report, state } = checkQuality(rows, { now: NOW, lookbackMinutes: M });
    assert.equal(report.historyMinutes, 20);
    assert.equal(state[0], ROW_BEFORE_HISTORY);
    assert.equal(report.counts.missing, 0);
    assert.equal(report.verdict, 'no_forecast');
    assert.match(report.reasons[0], /cold start: 20 of 60 minutes of history \(need 60\)/);
    const lenient = checkQuality(rows, { now: NOW, lookbackMinutes: M, minHistoryMinutes: 15 }).report;
    assert.equal(lenient.verdict, 'degraded');
    assert.deepEqual(lenient.flags, ['cold_start']);
    // a short leading gap is back-filled instead
    const short = checkQuality(full().slice(3), { now: NOW, lookbackMinutes: M });
    assert.equal(short.state[0], ROW_FILLED);
    assert.equal(short.report.historyMinutes, M);
  });

  it('clamps out-of-range values and counts duplicates, disorder, clock skew and misalignment', () => {
    const rows = full();
    rows[5] = row(5, 40); // busy > capacity
    rows[6] = row(6, -2); // negative
    rows[7].values.cpu_util = 1.5;
    rows.push(row(30, 7)); // duplicate of minute 30, out of order, read last: wins
    rows.push(row(M + 10, 3)); // 10 minutes in the future
    rows.push({ ...row(20, 5), time: T + 60 * 20 + 17 }); // off the minute
    rows[8].values.queued_jobs = Number.NaN; // incomplete: filled from minute 7
    const { report, timeline } = checkQuality(rows, { now: NOW, lookbackMinutes: M });
    const b = timeline.columns.busy_nodes;
    assert.equal(b[5], 16);
    assert.equal(b[6], 0);
    assert.equal(timeline.columns.cpu_util[7], 1);
    assert.equal(b[30], 7);
    assert.equal(b[20], 5);
    assert.equal(timeline.columns.queued_jobs[8], 0);
    assert.equal(report.counts.outOfRange, 3);
    assert.equal(report.counts.duplicates, 2);
    assert.equal(report.counts.outOfOrder, 2);
    assert.equal(report.counts.future, 1);
    assert.equal(report.counts.misaligned, 1);
    assert.equal(report.counts.incompleteRows, 1);
    for (const f of [
      'out_of_range',
      'duplicates',
      'out_of_order',
      'clock_skew',
      'misaligned',
      'incomplete_rows',
    ] as const) {
      assert.ok(report.flags.includes(f), f);
    }
    assert.equal(report.verdict, 'degraded');
    assert.ok(
      report.examples.some((e) => e.column === 'busy_nodes' && e.value === 40 && /capacity 16/.test(e.why)),
    );
    assert.ok(report.examples.some((e) => /600 s in the future|s in the future/.test(e.why)));
  });

  it('the missing marker survives: a gap after the last point at the window end', () => {
    const rows = full().slice(0, M - 3);
    const { state, report } = checkQuality(rows, { now: NOW, lookbackMinutes: M });
    assert.deepEqual(Array.from(state.slice(M - 4)), [ROW_PRESENT, ROW_FILLED, ROW_FILLED, ROW_FILLED]);
    assert.equal(report.verdict, 'degraded');
    assert.equal(checkQuality(rows, { now: NOW + 600, lookbackMinutes: M }).state[M - 1], ROW_MISSING);
  });

  it('each finding is marked fatal or not where it is made; flags and reasons come from the findings', () => {
    const lenient = checkQuality(full().slice(40), { now: NOW, lookbackMinutes: M, minHistoryMinutes: 15 });
    assert.deepEqual(lenient.report.findings, [
      { flag: 'cold_start', message: 'cold start: 20 of 60 minutes of history', fatal: false },
    ]);
    const strict = checkQuality(full().slice(40), { now: NOW, lookbackMinutes: M }).report;
    assert.deepEqual(
      strict.findings.map((f) => [f.flag, f.fatal]),
      [['cold_start', true]],
    );
    // stale and missing-too-much are fatal, filling is not; fatal reasons come first
    const rows = full().slice(0, M - 20);
    const r = checkQuality(rows, { now: NOW, lookbackMinutes: M }).report;
    assert.deepEqual(
      r.findings.map((f) => [f.flag, f.fatal]),
      [
        ['stale', true],
        ['missing_minutes', true],
        ['filled_minutes', false],
      ],
    );
    assert.deepEqual(r.flags, ['stale', 'missing_minutes', 'filled_minutes']);
    assert.deepEqual(
      r.reasons,
      r.findings.map((f) => f.message),
    );
    assert.equal(checkQuality([], { now: NOW, lookbackMinutes: M }).report.findings[0].fatal, true);
  });
});
