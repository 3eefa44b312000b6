import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventQueue } from '../../src/sim/events.js';
import { Rng } from '../../src/util/rng.js';
import { normalCdf, normalQuantile } from '../../src/util/stats.js';

function meanVar(xs: number[]): [number, number] {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return [m, xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length];
}

function draw(n: number, f: () => number): number[] {
  return Array.from({ length: n }, f);
}

describe('sim rng', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = draw(100, () => a.nextU32());
    assert.deepEqual(
      xa,
      draw(100, () => b.nextU32()),
    );
    assert.notDeepEqual(
      xa,
      draw(100, () => c.nextU32()),
    );
  });

  it('gives a uniform in [0, 1) with the right mean', () => {
    const r = new Rng(1);
    const xs = draw(100_000, () => r.uniform());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const [m, v] = meanVar(xs);
    assert.ok(Math.abs(m - 0.5) < 0.005, `mean ${m}`);
    assert.ok(Math.abs(v - 1 / 12) < 0.002, `var ${v}`);
  });

  it('samples gamma, lognormal, poisson and geometric with the right moments', () => {
    const r = new Rng(7);
    for (const [shape, scale] of [
      [0.5, 2],
      [3, 1.5],
      [50, 0.1],
    ]) {
      const [m, v] = meanVar(draw(50_000, () => r.gamma(shape, scale)));
      assert.ok(Math.abs(m / (shape * scale) - 1) < 0.03, `gamma(${shape}) mean ${m}`);
      assert.ok(Math.abs(v / (shape * scale * scale) - 1) < 0.08, `gamma(${shape}) var ${v}`);
    }
    for (const mean of [0.3, 4, 25, 80, 1000]) {
      const xs = draw(20_000, () => r.poisson(mean));
      assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0));
      const [m, v] = meanVar(xs);
      assert.ok(Math.abs(m / mean - 1) < 0.03, `poisson(${mean}) mean ${m}`);
      assert.ok(Math.abs(v / mean - 1) < 0.08, `poisson(${mean}) var ${v}`);
    }
    const logs = draw(50_000, () => Math.log(r.lognormal(2, 0.5)));
    const [lm, lv] = meanVar(logs);
    assert.ok(Math.abs(lm - 2) < 0.01 && Math.abs(lv - 0.25) < 0.01);
    const [gm] = meanVar(draw(50_000, () => r.geometric(10)));
    assert.ok(Math.abs(gm / 10 - 1) < 0.03, `geometric mean ${gm}`);
  });

  it('inverts the normal CDF', () => {
    for (const p of [1e-6, 0.01, 0.2, 0.5, 0.9, 0.999]) {
      assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-6 + 1e-3 * p);
    }
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
  });
});

describe('sim event queue', () => {
  it('pops by time, then in push order among equal times', () => {
    const q = new EventQueue(2);
    const r = new Rng(3);
    const pushed: Array<[number, number]> = [];
    for (let i = 0; i < 2000; i++) {
      const t = r.int(50);
      q.push(t, i % 3, i);
      pushed.push([t, i]);
    }
    const want = [...pushed].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[1]);
    const got: number[] = [];
    const ev = { time: 0, kind: 0, arg: 0 };
    while (q.pop(ev)) {
      got.push(ev.arg);
      assert.equal(ev.kind, ev.arg % 3);
    }
    assert.deepEqual(got, want);
  });
});
