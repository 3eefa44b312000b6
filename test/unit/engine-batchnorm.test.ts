import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchNorm1d } from '../../src/engine/layers/batchnorm.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

function build(e: Engine, C: number, maxRows: number) {
  const store = new ParamStore();
  const m = new BatchNorm1d(store, { channels: C, prefix: 'bn.' });
  store.allocate(e);
  m.allocate(e, maxRows);
  return { store, m };
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`BatchNorm1d (${variant})`, () => {
    const e = new Engine(variant);

    for (const name of ['batchnorm1d_train_BC', 'batchnorm1d_train_BCL']) {
      it(`matches PyTorch (${name}): train output, grads, running stats, eval output`, () => {
        const fx = loadTorchFixture(name);
        const shape = fx.inputs.x.shape;
        const [B, C] = shape;
        const L = shape.length === 3 ? shape[2] : 1;
        const n = B * C * L;
        const mark = e.mark();
        const { store, m } = build(e, C, B * L);
        m.loadTorch(e, {
          'bn.weight': fx.params.weight.data,
          'bn.bias': fx.params.bias.data,
          'bn.running_mean': fx.buffers!.running_mean.data,
          'bn.running_var': fx.buffers!.running_var.data,
        });
        const x = e.allocFrom(fx.inputs.x.data);
        const y = m.forward(e, B, x, true, L);
        assertClose(e.f32(y, n), fx.outputs.output.data, 'output');
        const aux = fx.aux_outputs!;
        const bufs = m.buffers(e);
        assertClose(bufs['bn.running_mean'], aux.running_mean_updated.data, 'running_mean');
        assertClose(bufs['bn.running_var'], aux.running_var_updated.data, 'running_var');
        store.zeroGrad(e);
        const dx = m.backward(e, e.allocFrom(fx.dout.output.data));
        assertClose(e.f32(dx, n), fx.grads.x.data, 'grad x');
        const g = m.toTorch(e, 'grad');
        assertClose(g['bn.weight'], fx.grads.weight.data, 'grad weight');
        assertClose(g['bn.bias'], fx.grads.bias.data, 'grad bias');
        // eval with the updated running stats
        const ye = m.forward(e, B, x, false, L);
        assertClose(e.f32(ye, n), aux.eval_output.data, 'eval output');
        e.release(mark);
      });
    }

    for (const training of [true, false]) {
      it(`gradients match central differences (${training ? 'train' : 'eval'} mode, B=5, C=7, L=3)`, () => {
        const B = 5;
        const C = 7;
        const L = 3;
        const n = B * C * L;
        const mark = e.mark();
        const rand = lcg(training ? 1 : 2);
        const { store, m } = build(e, C, B * L);
        store.values(e).set(uniform(store.total, rand, 1));
        e.f32(m.runningMean, C).set(uniform(C, rand, 0.5));
        e.f32(m.runningVar, C).set(uniform(C, rand, 0.4).map((v) => 1 + v));
        const rm0 = Float32Array.from(e.f32(m.runningMean, C));
        const rv0 = Float32Array.from(e.f32(m.runningVar, C));
        const x = e.allocFrom(uniform(n, rand, 1));
        const R = uniform(n, rand, 1);
        const objective = (): number => {
          // the running stats must not drift between evaluations
          e.f32(m.runningMean, C).set(rm0);
          e.f32(m.runningVar, C).set(rv0);
          const o = e.f32(m.forward(e, B, x, training, L), n);
          let s = 0;
          for (let i = 0; i < n; i++) s += o[i] * R[i];
          return s;
        };
        objective();
        store.zeroGrad(e);
        const gx = Float32Array.from(e.f32(m.backward(e, e.allocFrom(R)), n));
        const gp = Float32Array.from(store.grads(e));
        for (let trial = 0; trial < 3; trial++) {
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
          const x0 = Float32Array.from(e.f32(x, n));
          const rx = directionalCheck(x0, gx, uniform(n, rand), 2e-3, (t) => e.f32(x, n).set(t), objective);
          assert.ok(rx.rel < 2e-3, `x: analytic ${rx.analytic} numeric ${rx.numeric} rel ${rx.rel}`);
        }
        e.release(mark);
      });
    }

    it('refuses batch statistics of a single value, and missing buffers', () => {
      const mark = e.mark();
      const { m } = build(e, 3, 4);
      assert.throws(() => m.forward(e, 1, 0, true), /more than one value/);
      assert.throws(() => m.forward(e, 5, 0, false), /B\*L=5/);
      assert.throws(
        () => m.loadTorch(e, { 'bn.weight': [1, 1, 1], 'bn.bias': [0, 0, 0] }),
        /missing buffer bn.running_mean/,
      );
      e.release(mark);
    });
  });
}
