/**
 * The forecast hub: one model run per series and minute shared by all requests (single-flight), the cache,
 * stale-while-recompute, independence of series, and failure -> 503 -> recovery by itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { hubFor } from '../../src/service/app.js';
import { forecastView } from '../../src/service/forecast-view.js';
import { BaselineModel } from '../../src/service/forecasters.js';
import { TelemetryError } from '../../src/telemetry/errors.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { checkQuality, fatalReasons } from '../../src/telemetry/quality.js';
import { rowOfTimeline } from '../../src/telemetry/schema.js';
import { Clock, dailyTimeline, GatedReader, T0, testConfig } from '../helpers/service-helpers.js';

const A = { cluster: 'a', partition: '_all' };
const B = { cluster: 'b', partition: '_all' };

function setup(refresh = 5, grace = 0) {
  const tl = dailyTimeline(3000);
  const clock = new Clock(tl.start + 60 * 2990 + 5);
  const store = new MemoryStore({ now: clock.now });
  // rows up to the clock; the feed below adds later minutes
  store.writeSync(Array.from({ length: 2991 }, (_, i) => rowOfTimeline(tl, i, 'a', '_all')));
  store.writeSync(Array.from({ length: 2991 }, (_, i) => rowOfTimeline(tl, i, 'b', '_all')));
  const reader = new GatedReader(store);
  const cfg = testConfig(
    `Service:\n  Baseline: persistence\n  RefreshSeconds: ${refresh}\n  IngestGraceSeconds: ${grace}\n`,
  );
  const model = new BaselineModel('persistence', cfg.Service.ContextMinutes, 60, {});
  const hub = hubFor({ config: cfg, reader, forecaster: model, clock: clock.now });
  hub.addSeries(A);
  hub.addSeries(B);
  const addMinute = (i: number) => {
    store.writeSync([rowOfTimeline(tl, i, 'a', '_all'), rowOfTimeline(tl, i, 'b', '_all')]);
  };
  return { tl, clock, store, reader, hub, cfg, addMinute };
}

describe('forecast hub', () => {
  it('runs the model once for 200 concurrent requests in one minute, and serves the cache after', async () => {
    const { hub, reader } = setup();
    const rs = await Promise.all(Array.from({ length: 200 }, () => hub.get(A)));
    assert.equal(hub.runs, 1);
    assert.equal(reader.reads, 1);
    assert.ok(rs.every((r) => r.snap === rs[0].snap && !r.stale));
    const again = await hub.get(A);
    assert.equal(again.snap, rs[0].snap);
    assert.equal(hub.runs, 1);
  });

  it('in a new minute serves the cached forecast at once, flagged stale, while one recompute runs', async () => {
    const { hub, reader, clock, addMinute } = setup();
    const first = await hub.get(A);
    clock.t += 60;
    addMinute(2991);
    reader.hold();
    const during = await Promise.all(Array.from({ length: 50 }, () => hub.get(A)));
    assert.ok(
      during.every((r) => r.snap === first.snap && r.stale),
      'old snapshot, flagged stale',
    );
    assert.ok(during[0].ageS >= 60, `age ${during[0].ageS}`);
    assert.equal(reader.reads, 2, 'one recompute started, not 50');
    reader.release();
    await hub.idle();
    const after = await hub.get(A);
    assert.equal(after.stale, false);
    assert.notEqual(after.snap, first.snap);
    assert.equal(after.snap.forecast!.origin, first.snap.forecast!.origin + 60);
    assert.equal(hub.runs, 2);
  });

  it('only the first request of a series waits; another series is not held up by it', async () => {
    const { hub, reader } = setup();
    await hub.get(B); // B has a snapshot
    reader.hold();
    let aDone = false;
    const pa = hub.get(A).then((r) => {
      aDone = true;
      return r;
    });
    await tick();
    assert.equal(aDone, false, 'A waits for its first forecast');
    const rb = await hub.get(B); // B's cached answer comes while A's run is held
    assert.equal(rb.snap.series.cluster, 'b');
    assert.equal(aDone, false);
    reader.release();
    assert.equal((await pa).snap.status, 'ok');
  });

  it('telemetry down -> error snapshot and 503 with the reason; recovers by itself after the retry interval', async () => {
    const { hub, reader, cfg } = setup(0.05);
    await hub.get(A);
    reader.fail = new TelemetryError('unreachable', 'InfluxDB http://127.0.0.1:1: connection refused');
    await hub.refresh(A);
    const r = await hub.get(A);
    assert.equal(r.snap.status, 'error');
    const view = forecastView(r, { power: cfg.Power, fallbackToBaseline: false, now: 0, retryAfterS: 5 });
    assert.equal(view.status, 503);
    assert.equal(view.body.error, 'telemetry_unavailable');
    assert.match((view.body as { message: string }).message, /telemetry unavailable: .*connection refused/);
    // a configured fallback serves a flagged persistence forecast instead
    const fb = forecastView(r, { power: cfg.Power, fallbackToBaseline: true, now: 0, retryAfterS: 5 });
    assert.equal(fb.status, 200);
    const body = fb.body as {
      model: { fallback: boolean; fallback_reason: string };
      quality: { verdict: string };
    };
    assert.equal(body.model.fallback, true);
    assert.match(body.model.fallback_reason, /connection refused/);
    assert.equal(body.quality.verdict, 'degraded');
    // back up: the background poll retries after RefreshSeconds and the next request is answered
    reader.fail = null;
    hub.start();
    try {
      for (let i = 0; i < 200 && hub.peek(A)?.status !== 'ok'; i++)
        await new Promise((res) => setTimeout(res, 10));
    } finally {
      hub.stop();
    }
    assert.equal(hub.peek(A)?.status, 'ok');
    assert.equal((await hub.get(A)).snap.status, 'ok');
  });

  it('the poll recomputes when a newer point arrives within the same minute, and not otherwise', async () => {
    const { hub, reader, store, tl } = setup();
    await hub.get(A);
    const runs = hub.runs;
    await hub.poll(A);
    assert.equal(hub.runs, runs, 'no new data: probe only');
    assert.ok(reader.reads >= 2);
    const late = rowOfTimeline(tl, 2990, 'a', '_all');
    late.time += 30; // a point newer than the one used, same minute
    store.writeSync([late]);
    await hub.poll(A);
    assert.equal(hub.runs, runs + 1);
  });

  it('a stale series comes back within the minute when fresh data arrives (poll and notify)', async () => {
    const { hub, store, tl, clock } = setup();
    clock.t += 10 * 60; // ten minutes without data: stale
    assert.equal((await hub.get(A)).snap.status, 'no_forecast');
    assert.match((await hub.get(A)).snap.reason!, /stale: the last point is 10 min old/);
    const fresh = rowOfTimeline(tl, 3000, 'a', '_all');
    fresh.time = Math.floor(clock.t / 60) * 60;
    store.writeSync([fresh]);
    await hub.poll(A);
    assert.equal(hub.peek(A)?.status, 'ok', 'the probe saw the new point');
    // notify (embedded feeds) recomputes at once too
    const runs = hub.runs;
    hub.notify(A);
    await hub.idle();
    assert.equal(hub.runs, runs + 1);
  });

  it('with an ingest grace, the forecast for minute m waits for m + grace (a row on its way is not missing)', async () => {
    const { hub, clock, store, tl } = setup(5, 20);
    // clock 5 s into the minute after the last row: that minute's row is not due yet
    clock.t = tl.start + 60 * 2991 + 5;
    const r = await hub.get(A);
    assert.equal(r.snap.status, 'ok');
    assert.equal(r.snap.forecast!.origin, tl.start + 60 * 2990, 'origin: the last complete minute');
    assert.deepEqual(r.snap.quality!.flags, [], 'nothing reported missing');
    // the row of minute m arrives within the grace: the probe leaves it for the next forecast
    store.writeSync([rowOfTimeline(tl, 2991, 'a', '_all')]);
    const runs = hub.runs;
    await hub.poll(A);
    assert.equal(hub.runs, runs, 'no recompute for a row past the snapshot minute');
    // at m + 25 s: a new forecast from it
    clock.t += 20;
    await hub.refresh(A);
    assert.equal(hub.peek(A)!.forecast!.origin, tl.start + 60 * 2991);
    assert.ok(Math.abs((await hub.get(A)).ageS) < 1, 'age counts from the compute, not from the grace');
  });

  it('new data during a run triggers one more run after it (notify while in flight)', async () => {
    const { hub, reader } = setup();
    reader.hold();
    const first = hub.refresh(A);
    hub.notify(A);
    hub.notify(A);
    reader.release();
    await first;
    await new Promise((r) => setTimeout(r, 20));
    await hub.idle();
    assert.equal(hub.runs, 2, 'the run in flight, then exactly one more');
  });

  it('keeps the series apart: unknown series are refused', async () => {
    const { hub } = setup();
    await assert.rejects(hub.get({ cluster: 'zzz', partition: '_all' }), /unknown series zzz\/_all/);
    assert.equal(T0 % 60, 0);
  });

  it('the no-forecast reason is what the quality check found fatal, whatever its wording', () => {
    const { tl } = setup();
    const rows = Array.from({ length: 100 }, (_, i) => rowOfTimeline(tl, i, 'a', '_all'));
    // 100 minutes of rows, read 40 minutes after the last one: stale, short of a 240-minute lookback,
    // too much missing; and some minutes filled (not fatal)
    const now = tl.start + 60 * 140;
    const q = checkQuality(rows, { now, lookbackMinutes: 240, minHistoryMinutes: 200 }).report;
    assert.equal(q.verdict, 'no_forecast');
    assert.deepEqual(q.flags, ['stale', 'cold_start', 'missing_minutes', 'filled_minutes']);
    assert.deepEqual(fatalReasons(q), q.reasons.slice(0, 3));
    // the same findings in other words: still fatal (nothing matches on message prefixes)
    const reworded = {
      ...q,
      findings: q.findings.map((f, i) => ({ ...f, message: `finding ${i}` })),
    };
    const fatal = reworded.findings.filter((f) => f.fatal).map((f) => f.message);
    assert.equal(fatal.length, 3);
    assert.deepEqual(fatalReasons(reworded), fatal);
    // and a finding that is not fatal is never a reason for no forecast, however it reads
    const notFatal = {
      ...q,
      findings: [
        { flag: 'filled_minutes' as const, message: 'stale: no data in the last 5 minutes', fatal: false },
      ],
    };
    assert.deepEqual(fatalReasons(notFatal), []);
  });
});
