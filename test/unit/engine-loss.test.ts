import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HuberSmoothLoss, PinballLoss } from '../../src/engine/layers/loss.js';
import { Engine } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`losses (${variant})`, () => {
    const e = new Engine(variant);

    it('Huber + smoothness matches PyTorch: loss, both terms, dpred, dtarget', () => {
      const fx = loadTorchFixture('huber_smooth_loss');
      const [B, N] = fx.inputs.pred.shape;
      const mark = e.mark();
      const loss = new HuberSmoothLoss({
        horizon: N,
        delta: fx.config.delta as number,
        lambda: fx.config.lam as number,
      });
      loss.allocate(e, B);
      const pred = e.allocFrom(fx.inputs.pred.data);
      const target = e.allocFrom(fx.inputs.target.data);
      const v = loss.forward(e, B, pred, target, { dtarget: true });
      assertClose([v.loss], fx.outputs.loss.data, 'loss');
      assertClose([v.huber], fx.aux_outputs!.huber_term.data, 'huber term');
      assertClose([v.smooth], fx.aux_outputs!.smooth_term.data, 'smooth term');
      assertClose(e.f32(loss.dpred, B * N), fx.grads.pred.data, 'grad pred');
      assertClose(e.f32(loss.dtarget, B * N), fx.grads.target.data, 'grad target');
      // a second call overwrites (does not accumulate) the gradient
      loss.forward(e, B, pred, target);
      assertClose(e.f32(loss.dpred, B * N), fx.grads.pred.data, 'grad pred (second call)');
      e.release(mark);
    });

    it('pinball loss: hand-computed values and the subgradient at each side of the kink', () => {
      const mark = e.mark();
      const loss = new PinballLoss({ horizon: 2, quantiles: [0.1, 0.5, 0.9] });
      loss.allocate(e, 1);
      // target (1, 2) = [1, 1]; pred (1, 3, 2): per quantile [0, 3]
      const target = e.allocFrom([1, 1]);
      const pred = e.allocFrom([0, 3, 0, 3, 0, 3]);
      const v = loss.forward(e, 1, pred, target);
      // u = [1, -2]: τ=0.1 → 0.1, 1.8; τ=0.5 → 0.5, 1.0; τ=0.9 → 0.9, 0.2; mean over 6
      assert.ok(Math.abs(v - (0.1 + 1.8 + 0.5 + 1.0 + 0.9 + 0.2) / 6) < 1e-7, `loss ${v}`);
      const g = Array.from(e.f32(loss.dpred, 6));
      const want = [-0.1, 0.9, -0.5, 0.5, -0.9, 0.1].map((x) => x / 6);
      assertClose(g, want, 'grad pred', 1e-6);
      // u = 0 exactly: the subgradient midpoint 1/2 − τ
      const pred0 = e.allocFrom([1, 1, 1, 1, 1, 1]);
      assert.equal(loss.forward(e, 1, pred0, target), 0);
      assertClose(
        Array.from(e.f32(loss.dpred, 6)),
        [0.4, 0.4, 0, 0, -0.4, -0.4].map((x) => x / 6),
        'grad at kink',
        1e-6,
      );
      assert.throws(() => new PinballLoss({ horizon: 2, quantiles: [0, 0.5] }), /quantile 0/);
      e.release(mark);
    });

    it('pinball and Huber+smoothness gradients match central differences (away from kinks)', () => {
      const B = 4;
      const N = 9;
      const Q = 3;
      const mark = e.mark();
      const rand = lcg(13);
      const pin = new PinballLoss({ horizon: N });
      pin.allocate(e, B);
      const hub = new HuberSmoothLoss({ horizon: N });
      hub.allocate(e, B);
      const target = e.allocFrom(uniform(B * N, rand, 2));
      for (const [name, n, pred, run, grad] of [
        [
          'pinball',
          B * Q * N,
          e.allocFrom(uniform(B * Q * N, rand, 2)),
          (p: number) => pin.forward(e, B, p, target),
          () => pin.dpred,
        ],
        [
          'huber',
          B * N,
          e.allocFrom(uniform(B * N, rand, 2)),
          (p: number) => hub.forward(e, B, p, target).loss,
          () => hub.dpred,
        ],
      ] as const) {
        run(pred);
        const g = Float32Array.from(e.f32(grad(), n));
        const p0 = Float32Array.from(e.f32(pred, n));
        // a small step keeps every element on its side of the kinks (|u| >> eps for this seed)
        const r = directionalCheck(
          p0,
          g,
          uniform(n, rand),
          1e-3,
          (t) => e.f32(pred, n).set(t),
          () => run(pred),
          1e-4,
        );
        assert.ok(r.rel < 1e-3, `${name}: analytic ${r.analytic} numeric ${r.numeric} rel ${r.rel}`);
      }
      e.release(mark);
    });
  });
}
