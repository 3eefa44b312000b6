/**
 * Data quality through the API: stale data, no data, too much missing -> 503 that says why; a cold start
 * forecasts from what there is and says so; gaps within the fill rule are filled and reported.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { rowOfTimeline } from '../../src/telemetry/schema.js';
import { Clock, dailyTimeline, serviceOver, storeWith } from '../helpers/service-helpers.js';

async function predict(app: ReturnType<typeof serviceOver>['app']) {
  const r = await app.inject({ method: 'POST', url: '/predict', payload: { total_nodes: 120 } });
  return { status: r.statusCode, body: r.json(), headers: r.headers };
}

describe('data quality -> answer', () => {
  it('stale telemetry: 503 naming the age and the limit, with Retry-After', async () => {
    const { store, clock } = storeWith(dailyTimeline(600), 20 * 60);
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'no_forecast');
    assert.match(r.body.message, /^no forecast: stale: the last point is 20 min old \(limit 5 min\)$/);
    assert.equal(r.body.quality.verdict, 'no_forecast');
    assert.ok(r.body.quality.flags.includes('stale'));
    assert.equal(r.headers['retry-after'], '5');
  });

  it('no telemetry at all: 503 no data', async () => {
    const clock = new Clock(1_800_000_000);
    const r = await predict(serviceOver(new MemoryStore({ now: clock.now }), clock).app);
    assert.equal(r.status, 503);
    assert.match(r.body.message, /no data in the last 240 minutes/);
  });

  it('too many minutes missing: 503 with the percentage and the limit', async () => {
    const tl = dailyTimeline(600);
    const clock = new Clock(tl.start + 60 * 599 + 5);
    const store = new MemoryStore({ now: clock.now });
    // a 60-minute hole in the 240-minute lookback: 5 minutes are filled by the rule, 55 stay missing (22.9 %)
    for (let i = 0; i < 600; i++)
      if (i < 450 || i >= 510) store.writeSync([rowOfTimeline(tl, i, 'c', '_all')]);
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 503);
    assert.match(r.body.message, /22\.9% of minutes missing \(limit 10%\)/);
  });

  it('short gaps are filled by the stated rule and reported; the forecast is served', async () => {
    const tl = dailyTimeline(600);
    const clock = new Clock(tl.start + 60 * 599 + 5);
    const store = new MemoryStore({ now: clock.now });
    for (let i = 0; i < 600; i++) if (i % 50 !== 7) store.writeSync([rowOfTimeline(tl, i, 'c', '_all')]);
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 200);
    assert.equal(r.body.quality.verdict, 'degraded');
    assert.ok(r.body.quality.flags.includes('filled_minutes'));
    assert.equal(r.body.quality.rule.maxFillMinutes, 5);
    assert.ok(r.body.quality.reasons.some((x: string) => /minutes filled from a neighbour/.test(x)));
  });

  it('cold start: less history than the lookback -> forecast from what there is, flagged', async () => {
    const { store, clock } = storeWith(dailyTimeline(90));
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.quality.cold_start, true);
    assert.equal(r.body.quality.history_minutes, 90);
    assert.match(r.body.quality.reasons[0], /cold start: 90 of 240 minutes of history/);
    assert.equal(r.body.p50.length, 30);
  });

  it('cold start below Service.MinHistoryMinutes: 503 saying how much is needed', async () => {
    const { store, clock } = storeWith(dailyTimeline(12));
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 503);
    assert.match(r.body.message, /cold start: 12 of 240 minutes of history \(need 30\)/);
  });

  it('the ridge on a cold start runs persistence until it can be fitted, and says which ran', async () => {
    const { store, clock } = storeWith(dailyTimeline(100));
    const { app } = serviceOver(store, clock, '  Baseline: ridge\n');
    const r = await predict(app);
    assert.equal(r.status, 200);
    assert.equal(r.body.model.ran, 'persistence');
  });

  it('out-of-range and out-of-order points are clamped / counted and reported', async () => {
    const tl = dailyTimeline(400);
    const clock = new Clock(tl.start + 60 * 399 + 5);
    const store = new MemoryStore({ now: clock.now });
    store.loadTimeline(tl, 'c', '_all');
    const bad = rowOfTimeline(tl, 390, 'c', '_all');
    bad.values.busy_nodes = 500;
    store.writeSync([bad]);
    const r = await predict(serviceOver(store, clock).app);
    assert.equal(r.status, 200);
    assert.ok(r.body.quality.flags.includes('out_of_range'));
    assert.equal(r.body.quality.examples[0].column, 'busy_nodes');
  });
});
