import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HuberSmoothLoss } from '../../src/engine/layers/loss.js';
import { SeedModel, type SeedModelConfig } from '../../src/engine/net/seed.js';
import { Adam, clipGradNorm } from '../../src/engine/optim.js';
import { Engine } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { assertClose, checkLeftPadding, seedObjective } from '../helpers/seed-padding.js';
import { loadTorchFixture } from '../helpers/torch-fixture.js';

const SMALL: Partial<SeedModelConfig> = {
  features: 3,
  hidden: 4,
  heads: 2,
  headHidden: 5,
  horizon: 4,
  dropout: 0.2,
};

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`seed model (${variant})`, () => {
    const e = new Engine(variant);

    it('matches PyTorch SeedForecaster (full_model_small, eval): intermediates, loss, dx, dtarget, all 26 grads', () => {
      const fx = loadTorchFixture('full_model_small');
      const c = fx.config as Record<string, number>;
      const { B, T } = c;
      const mark = e.mark();
      const m = new SeedModel(
        e,
        {
          features: c.n_features,
          hidden: c.hidden,
          numLayers: c.num_layers,
          heads: c.heads,
          headHidden: c.head_hidden,
          horizon: c.horizon,
        },
        B,
        T,
      );
      assert.deepEqual(
        m.store.params.map((p) => p.name),
        Object.keys(fx.params),
      );
      const state: Record<string, number[]> = {};
      for (const [k, v] of Object.entries({ ...fx.params, ...fx.buffers })) state[k] = v.data;
      m.loadTorch(state);
      const sd = m.stateDict();
      for (const [k, v] of Object.entries(state)) assertClose(sd[k], v, `stateDict ${k}`, 1e-7);

      const x = e.allocFrom(fx.inputs.x.data);
      const pred = m.forward(B, T, x);
      const aux = fx.aux_outputs!;
      const mid = m.intermediates();
      for (const k of ['lstm_out', 'attn_out', 'pooled', 'bn_out', 'fc1_relu', 'pred'])
        assertClose(mid[k], aux[k].data, k);
      assert.equal(pred, m.fc2.out);

      const loss = new HuberSmoothLoss({ horizon: c.horizon, delta: c.loss_delta, lambda: c.loss_lam });
      loss.allocate(e, B);
      const target = e.allocFrom(fx.inputs.target.data);
      const v = loss.forward(e, B, pred, target, { dtarget: true });
      assertClose([v.loss], fx.outputs.loss.data, 'loss');
      assertClose(e.f32(loss.dtarget, B * c.horizon), fx.grads.target.data, 'grad target');
      m.store.zeroGrad(e);
      const dx = m.backward(loss.dpred, { dx: true });
      assertClose(e.f32(dx, B * T * c.n_features), fx.grads.x.data, 'grad x');
      const g = m.toTorch('grad');
      assert.equal(Object.keys(g).length, 26);
      for (const [k, ref] of Object.entries(fx.grads)) {
        if (k === 'x' || k === 'target') continue;
        if (k === 'attn.in_proj_bias') {
          // the key third is exactly 0 in exact arithmetic: compare it absolutely
          const E = 2 * c.hidden;
          assertClose(g[k].subarray(0, E), ref.data.slice(0, E), `grad ${k} (q)`);
          assertClose(g[k].subarray(2 * E), ref.data.slice(2 * E), `grad ${k} (v)`);
          const scale = Math.max(...ref.data.map(Math.abs));
          for (let i = E; i < 2 * E; i++)
            assert.ok(Math.abs(g[k][i]) <= 1e-6 * scale, `key bias grad ${g[k][i]}`);
        } else assertClose(g[k], ref.data, `grad ${k}`);
      }
      e.release(mark);
    });

    it('a short history inside a left-padded window predicts (and back-propagates) as that history alone', () => {
      checkLeftPadding(e, SMALL, 10, [10, 6, 3, 1], 31);
    });

    it('predict (fused attention + mean) gives the eval-mode forward predictions', () => {
      const T = 9;
      const len = [9, 4, 1];
      const B = len.length;
      const mark = e.mark();
      const rand = lcg(61);
      const m = new SeedModel(e, SMALL, B, T);
      m.initTorchDefault(rand);
      const x = e.allocFrom(uniform(B * T * SMALL.features!, rand, 1));
      const want = Float32Array.from(e.f32(m.forward(B, T, x, { lengths: len }), B * SMALL.horizon!));
      const got = e.f32(m.predict(B, T, x, len), B * SMALL.horizon!);
      assertClose(got, want, 'predict vs forward', 1e-6);
      assert.throws(() => m.backward(0), /not predict/);
      e.release(mark);
    });

    it('training-mode gradients (batch statistics, all dropouts on) match central differences', () => {
      const B = 3;
      const T = 7;
      const F = SMALL.features!;
      const N = SMALL.horizon!;
      const mark = e.mark();
      const rand = lcg(41);
      const m = new SeedModel(e, SMALL, B, T);
      m.initTorchDefault(rand);
      const x = e.allocFrom(uniform(B * T * F, rand, 1));
      const R = uniform(B * N, rand, 1);
      const lengths = [7, 5, 2];
      const { objective, gp, gx } = seedObjective(e, m, B, T, F, x, R, { lengths, training: true, seed: 99 });
      // BatchNorm over 3 samples makes the objective strongly curved: the central difference converges as
      // eps² (measured rel. error 6e-2 at eps 1e-2, 2e-3 at 2e-3, 1e-5 at 5e-4), so take a small step
      const eps = 5e-4;
      for (let trial = 0; trial < 3; trial++) {
        const theta = Float32Array.from(m.store.values(e));
        const rp = directionalCheck(
          theta,
          gp,
          uniform(theta.length, rand),
          eps,
          (t) => m.store.values(e).set(t),
          objective,
        );
        assert.ok(rp.rel < 3e-3, `params: analytic ${rp.analytic} numeric ${rp.numeric} rel ${rp.rel}`);
        const x0 = Float32Array.from(e.f32(x, B * T * F));
        const rx = directionalCheck(
          x0,
          gx,
          uniform(x0.length, rand),
          eps,
          (t) => e.f32(x, t.length).set(t),
          objective,
        );
        assert.ok(rx.rel < 3e-3, `x: analytic ${rx.analytic} numeric ${rx.numeric} rel ${rx.rel}`);
      }
      e.release(mark);
    });

    it('a few Adam steps with clipping reduce the training loss on a fixed batch', () => {
      const B = 8;
      const T = 12;
      const F = SMALL.features!;
      const N = SMALL.horizon!;
      const mark = e.mark();
      const rand = lcg(51);
      const m = new SeedModel(e, { ...SMALL, hidden: 8 }, B, T);
      m.initTorchDefault(rand);
      const xs = uniform(B * T * F, rand, 1);
      const x = e.allocFrom(xs);
      // target: a function of the input so there is something to learn
      const tg = new Float32Array(B * N);
      for (let b = 0; b < B; b++)
        for (let j = 0; j < N; j++) tg[b * N + j] = xs[(b * T + T - 1) * F] + 0.1 * j;
      const target = e.allocFrom(tg);
      const loss = new HuberSmoothLoss({ horizon: N });
      loss.allocate(e, B);
      const opt = new Adam(e, m.store, { lr: 1e-2 });
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const pred = m.forward(B, T, x, { training: true, seed: step });
        losses.push(loss.forward(e, B, pred, target).loss);
        m.store.zeroGrad(e);
        m.backward(loss.dpred);
        const norm = clipGradNorm(e, m.store, 1);
        assert.ok(Number.isFinite(norm));
        opt.step();
      }
      assert.ok(losses[29] < 0.5 * losses[0], `loss ${losses[0]} → ${losses[29]}`);
      e.release(mark);
    });

    it('rejects bad sizes and lengths with a message naming them', () => {
      const mark = e.mark();
      const m = new SeedModel(e, SMALL, 2, 5);
      assert.throws(() => m.forward(3, 5, 0), /B=3/);
      assert.throws(() => m.forward(2, 5, 0, { lengths: [5, 0] }), /lengths\[1\]=0/);
      assert.throws(() => m.forward(1, 5, 0, { training: true }), /at least 2/);
      assert.throws(() => new SeedModel(e, { hidden: 0 }, 1, 1), /hidden=0/);
      assert.throws(() => m.loadTorch({}), /missing parameter lstm.weight_ih_l0/);
      e.release(mark);
    });
  });
}
