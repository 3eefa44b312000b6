/** The replay feed: preloaded lookback, accelerated clock, rows written as the clock reaches them, looping. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayFeed, SimulatorFeed } from '../../src/service/feed.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { dailyTimeline, T0, testConfig } from '../helpers/service-helpers.js';

const S = { cluster: 'c', partition: '_all' };
const WEEK = 7 * 86400;

function feed(
  o: { minutes?: number; speed?: number; preload?: number; wallStart?: number; loop?: boolean } = {},
) {
  const tl = dailyTimeline(o.minutes ?? 600);
  let wall = (o.wallStart ?? T0 + 10 * WEEK + 3600) * 1000;
  let f: ReplayFeed | null = null;
  const store = new MemoryStore({ now: () => f!.now() });
  f = new ReplayFeed(store, tl, {
    series: S,
    speed: o.speed ?? 60,
    preloadMinutes: o.preload ?? 300,
    loop: o.loop,
    wallMs: () => wall,
  });
  return { tl, store, f, advance: (ms: number) => (wall += ms) };
}

describe('replay feed', () => {
  it('preloads the lookback, shifted by whole weeks to end near the wall clock', () => {
    const { store, f, tl } = feed();
    const s = store.series()[0];
    assert.equal(s.rows, 300);
    const shift = 10 * WEEK;
    assert.equal(s.first, tl.start + shift);
    assert.equal(s.last, tl.start + 60 * 299 + shift);
    assert.equal(f.now(), s.last);
    // weekday and hour kept: the shift is whole weeks
    assert.equal((s.first! - tl.start) % WEEK, 0);
  });

  it('at speed 60 writes one minute of data per wall second, in order, and says so', () => {
    const adv = feed();
    const last0 = adv.store.series()[0].last!;
    adv.f.pump();
    assert.equal(adv.store.series()[0].rows, 300, 'nothing due yet');
    adv.advance(1000);
    assert.equal(adv.f.pump(), 1);
    adv.advance(5000);
    assert.equal(adv.f.pump(), 5);
    const s = adv.store.series()[0];
    assert.equal(s.rows, 306);
    assert.equal(s.last, last0 + 6 * 60);
  });

  it('calls onMinute with the newest time after a write', () => {
    const { f, advance } = feed({ speed: 120 });
    const seen: number[] = [];
    f.start((_, t) => seen.push(t));
    f.stop();
    advance(1000);
    f.pump();
    assert.equal(seen.length, 1);
    assert.equal(seen[0], f.now() - (f.now() % 60));
  });

  it('loops after the last row, continuing the clock', () => {
    const { store, f, advance, tl } = feed({ minutes: 20, preload: 10, speed: 600 });
    advance((60_000 / 600) * 25); // 25 data minutes: 10 to the end, then 15 of the next lap
    f.pump();
    const s = store.series()[0];
    assert.equal(s.rows, 35);
    assert.equal(s.last! - s.first!, 34 * 60);
    assert.equal(tl.minutes, 20);
  });

  it('without loop stops at the last row', () => {
    const { store, f, advance } = feed({ minutes: 20, preload: 10, speed: 600, loop: false });
    advance(60_000);
    f.pump();
    assert.equal(store.series()[0].rows, 20);
  });

  it('refuses a bad speed', () => {
    assert.throws(() => feed({ speed: 0 }), /--speed: expected a number in \(0, 100000\], got 0/);
  });
});

describe('simulator feed (live mode)', () => {
  it('writes the pre-roll, then live minutes, and says so only once a minute is readable', async () => {
    const cfg = testConfig();
    let f: SimulatorFeed | null = null;
    const store = new MemoryStore({ now: () => f!.now() });
    const seen: Array<[number, boolean]> = [];
    f = new SimulatorFeed(store, {
      series: S,
      sim: cfg.Simulator,
      cluster: { ...cfg.Cluster, Nodes: 32 },
      speed: 600,
      preloadMinutes: 120,
      days: 1,
    });
    const feedRef = f;
    f.start((_, t) => {
      const rows = store.recentSync('c', '_all', 1e6);
      seen.push([t, rows.length > 0 && rows[rows.length - 1].time >= t]);
    });
    try {
      for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      feedRef.stop();
    }
    assert.ok(seen.length >= 3, `minutes announced: ${seen.length}`);
    assert.ok(
      seen.every(([, readable]) => readable),
      'every announced minute is in the store',
    );
    const s = store.series()[0];
    assert.ok(s.rows >= 120, `pre-roll written (${s.rows} rows)`);
    assert.equal(s.cluster, 'c');
  });
});
