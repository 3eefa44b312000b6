import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TwinInference } from '../../src/engine/net/infer.js';
import { SeedModel, type SeedModelConfig } from '../../src/engine/net/seed.js';
import { KernelTwin } from '../../src/engine/twin.js';
import { Engine } from '../../src/engine/wasm.js';
import { lcg } from '../helpers/gradcheck.js';

// The two-thread forecast (src/engine/twin.ts + src/engine/net/infer.ts) must give the one-thread
// predictions: same kernels, same memory, so the values are identical.
const CFG: Partial<SeedModelConfig> = { features: 5, hidden: 16, heads: 4, headHidden: 8, horizon: 6 };
const T = 40;
const B = 3;

function build(e: Engine): SeedModel {
  const m = new SeedModel(e, CFG, B, T);
  m.initTorchDefault(lcg(11));
  return m;
}

function input(e: Engine): number {
  const r = lcg(5);
  return e.allocFrom(Array.from({ length: B * T * CFG.features! }, () => 2 * r() - 1));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`two-thread forecast (${variant})`, () => {
    // reference: a plain (unshared) engine on one thread
    const e0 = new Engine(variant);
    const m0 = build(e0);
    const x0 = input(e0);
    const lengths = [T, 7, 1];
    const N = CFG.horizon!;
    const want1 = Array.from(e0.f32(m0.predict(1, T, x0), N));
    const wantB = Array.from(e0.f32(m0.predict(B, T, x0, lengths), B * N));
    const wantFwd = Array.from(e0.f32(m0.forward(B, T, x0, { lengths }), B * N));

    const e = new Engine(variant, { shared: true });
    const m = build(e);
    const x = input(e);
    let twin: TwinInference | undefined;
    after(async () => {
      await twin?.detach();
    });

    it('a shared engine on one thread predicts as the plain one', () => {
      assert.equal(e.shared, true);
      assert.equal(maxAbsDiff(e.f32(m.predict(1, T, x), N), want1), 0);
    });

    it('with the twin thread: predict (B = 1 and a padded batch) and forward give the one-thread values', async () => {
      twin = await TwinInference.attach(m, { maxLoad: Number.POSITIVE_INFINITY });
      for (let rep = 0; rep < 3; rep++) {
        assert.equal(maxAbsDiff(e.f32(m.predict(1, T, x), N), want1), 0, `B=1, run ${rep}`);
        assert.equal(maxAbsDiff(e.f32(m.predict(B, T, x, lengths), B * N), wantB), 0, `B=${B}, run ${rep}`);
      }
      // the eval forward runs the biLSTM directions on two threads too
      assert.equal(maxAbsDiff(e.f32(m.forward(B, T, x, { lengths }), B * N), wantFwd), 0);
      // the fused predict still matches the eval forward to rounding
      assert.ok(maxAbsDiff(wantB, wantFwd) < 1e-5);
    });

    it('on a busy machine (load average >= maxLoad) it runs in order, same result', async () => {
      await twin?.detach();
      twin = await TwinInference.attach(m, { maxLoad: 0 });
      assert.equal(maxAbsDiff(e.f32(m.predict(1, T, x), N), want1), 0);
    });

    it('after detach the model runs on one thread with the same result', async () => {
      await twin?.detach();
      twin = undefined;
      assert.equal(m.lstm.run, undefined);
      assert.equal(maxAbsDiff(e.f32(m.predict(1, T, x), N), want1), 0);
    });
  });
}

describe('kernel twin', () => {
  it('refuses an engine that is not shared', async () => {
    await assert.rejects(KernelTwin.start(new Engine()), /not shared/);
  });

  it('runs independent calls on two threads; unknown kernels are refused; closed twins run in order', async () => {
    const e = new Engine('auto', { shared: true });
    const n = 1000;
    const a = e.allocFrom(Array.from({ length: n }, (_, i) => i));
    const out1 = e.alloc(n);
    const out2 = e.alloc(n);
    const twin = await KernelTwin.start(e);
    try {
      twin.run([
        { name: 'scale', args: [n, 2, out1] },
        { name: 'scale', args: [n, 3, out2] },
      ]);
      // scale multiplies in place: copy a in first, then scale on both threads
      e.f32(out1, n).set(e.f32(a, n));
      e.f32(out2, n).set(e.f32(a, n));
      twin.run([
        { name: 'scale', args: [n, 2, out1] },
        { name: 'scale', args: [n, 3, out2] },
      ]);
      assert.equal(e.f32(out1, n)[999], 1998);
      assert.equal(e.f32(out2, n)[999], 2997);
      assert.throws(
        () =>
          twin.run([
            { name: 'scale', args: [n, 1, out1] },
            { name: 'no_such_kernel', args: [] },
          ]),
        /no kernel no_such_kernel/,
      );
    } finally {
      await twin.close();
    }
    twin.run([
      { name: 'scale', args: [n, 0.5, out1] },
      { name: 'scale', args: [n, 0.5, out2] },
    ]);
    assert.equal(e.f32(out1, n)[999], 999);
    assert.equal(e.f32(out2, n)[999], 1498.5);
  });
});
