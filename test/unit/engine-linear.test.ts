import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dropout, dropoutSeed } from '../../src/engine/layers/dropout.js';
import { Linear } from '../../src/engine/layers/linear.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

function buildLinear(e: Engine, IN: number, OUT: number, maxN: number, prefix = '') {
  const store = new ParamStore();
  const m = new Linear(store, { inFeatures: IN, outFeatures: OUT, prefix });
  store.allocate(e);
  m.allocate(e, maxN);
  return { store, m };
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`linear, relu, dropout (${variant})`, () => {
    const e = new Engine(variant);

    it('Linear matches PyTorch nn.Linear: output, dx, dweight, dbias', () => {
      const fx = loadTorchFixture('linear');
      const [N, IN] = fx.inputs.x.shape;
      const OUT = fx.params.weight.shape[0];
      const mark = e.mark();
      const { store, m } = buildLinear(e, IN, OUT, N);
      m.loadTorch(e, { weight: fx.params.weight.data, bias: fx.params.bias.data });
      const back = m.toTorch(e);
      assertClose(back.weight, fx.params.weight.data, 'toTorch weight', 1e-7);
      const x = e.allocFrom(fx.inputs.x.data);
      const out = m.forward(e, N, x);
      assertClose(e.f32(out, N * OUT), fx.outputs.output.data, 'output');
      store.zeroGrad(e);
      const dy = e.allocFrom(fx.dout.output.data);
      const dx = m.backward(e, dy, { dx: true });
      assertClose(e.f32(dx, N * IN), fx.grads.x.data, 'grad x');
      const g = m.toTorch(e, 'grad');
      assertClose(g.weight, fx.grads.weight.data, 'grad weight');
      assertClose(g.bias, fx.grads.bias.data, 'grad bias');
      // grads accumulate: a second backward doubles them
      m.backward(e, dy);
      const g2 = m.toTorch(e, 'grad');
      assertClose(
        g2.weight,
        fx.grads.weight.data.map((v) => 2 * v),
        'accumulated grad weight',
      );
      e.release(mark);
    });

    it('Linear gradients match central differences at ragged sizes (N=13, 11 -> 21)', () => {
      const N = 13;
      const IN = 11;
      const OUT = 21;
      const mark = e.mark();
      const rand = lcg(3);
      const { store, m } = buildLinear(e, IN, OUT, N, 'fc.');
      store.values(e).set(uniform(store.total, rand, 0.5));
      const x = e.allocFrom(uniform(N * IN, rand, 1));
      const R = uniform(N * OUT, rand, 1);
      const dy = e.allocFrom(R);
      const objective = (): number => {
        const o = e.f32(m.forward(e, N, x), N * OUT);
        let s = 0;
        for (let i = 0; i < o.length; i++) s += o[i] * R[i];
        return s;
      };
      objective();
      store.zeroGrad(e);
      const gx = Float32Array.from(e.f32(m.backward(e, dy, { dx: true }), N * IN));
      const gp = Float32Array.from(store.grads(e));
      const theta = Float32Array.from(store.values(e));
      const rp = directionalCheck(
        theta,
        gp,
        uniform(theta.length, rand),
        1e-2,
        (t) => store.values(e).set(t),
        objective,
      );
      assert.ok(rp.rel < 1e-3, `params rel ${rp.rel}`);
      const x0 = Float32Array.from(e.f32(x, N * IN));
      const rx = directionalCheck(
        x0,
        gx,
        uniform(x0.length, rand),
        1e-2,
        (t) => e.f32(x, t.length).set(t),
        objective,
      );
      assert.ok(rx.rel < 1e-3, `x rel ${rx.rel}`);
      e.release(mark);
    });

    it('ReLU forward/backward (tails included)', () => {
      const n = 11;
      const mark = e.mark();
      const xs = uniform(n, lcg(5), 1);
      const x = e.allocFrom(xs);
      const y = e.alloc(n);
      e.k.relu_forward(n, x, y);
      const dy = e.allocFrom(Array.from({ length: n }, (_, i) => i + 1));
      const dx = e.alloc(n);
      e.k.relu_backward(n, y, dy, dx);
      const yv = e.f32(y, n);
      const dxv = e.f32(dx, n);
      for (let i = 0; i < n; i++) {
        assert.equal(yv[i], Math.max(xs[i], 0));
        assert.equal(dxv[i], xs[i] > 0 ? i + 1 : 0);
      }
      e.release(mark);
    });

    it('Dropout: inverted scaling, reproducible mask from the seed, backward uses the same mask, eval is identity', () => {
      const n = 10_003;
      const p = 0.2;
      const mark = e.mark();
      const d = new Dropout(p);
      d.allocate(e, n);
      const xs = uniform(n, lcg(9), 1);
      const x = e.allocFrom(xs);
      const seed = dropoutSeed(42, 7, 1);
      const y = Float32Array.from(e.f32(d.forward(e, n, x, true, seed), n));
      const mask = d.mask(e);
      let kept = 0;
      for (let i = 0; i < n; i++) {
        assert.ok(mask[i] === 0 || Math.abs(mask[i] - 1 / (1 - p)) < 1e-6, `mask value ${mask[i]}`);
        assert.equal(y[i], mask[i] ? Math.fround(xs[i] * mask[i]) : 0);
        if (mask[i] > 0) kept++;
      }
      // keep rate 0.8 ± 4.5 sigma
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(kept - n * (1 - p)) < 4.5 * sd, `kept ${kept} of ${n}`);
      // same seed → same output; another seed → another mask
      assert.deepEqual(Float32Array.from(e.f32(d.forward(e, n, x, true, seed), n)), y);
      const y2 = e.f32(d.forward(e, n, x, true, seed + 1), n);
      assert.ok(y2.some((v, i) => v !== y[i]));
      d.forward(e, n, x, true, seed);
      const ones = e.allocFrom(new Float32Array(n).fill(1));
      assert.deepEqual(Float32Array.from(e.f32(d.backward(e, ones), n)), mask);
      // eval: the input pointer itself, and backward passes the gradient through
      assert.equal(d.forward(e, n, x, false, seed), x);
      assert.equal(d.backward(e, ones), ones);
      assert.throws(() => new Dropout(1), /p=1/);
      e.release(mark);
    });
  });
}
