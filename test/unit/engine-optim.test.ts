import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Adam, AdamW, clipGradNorm, gradNorm } from '../../src/engine/optim.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine } from '../../src/engine/wasm.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`optimizers and clipping (${variant})`, () => {
    const e = new Engine(variant);

    for (const [name, Opt] of [
      ['adam_steps', Adam],
      ['adamw_steps', AdamW],
    ] as const) {
      it(`${Opt.name} matches PyTorch over 3 steps (${name}): params and both moments`, () => {
        const fx = loadTorchFixture(name);
        const cfg = fx.config as Record<string, number>;
        const mark = e.mark();
        // two parameters (7 + 3 values) so the flat loop crosses parameter padding and a SIMD tail
        const store = new ParamStore();
        const a = store.declare('a', [7]);
        const b = store.declare('b', [3]);
        store.allocate(e);
        const opt = new Opt(e, store, {
          lr: cfg.lr,
          beta1: cfg.beta1,
          beta2: cfg.beta2,
          eps: cfg.eps,
          weightDecay: cfg.weight_decay,
        });
        const set = (which: 'ptr' | 'grad', data: number[]) => {
          e.f32(a[which], 7).set(data.slice(0, 7));
          e.f32(b[which], 3).set(data.slice(7));
        };
        const get = (base: number): number[] => [
          ...e.f32(base + a.offset * 4, 7),
          ...e.f32(base + b.offset * 4, 3),
        ];
        set('ptr', fx.inputs.param0.data);
        for (let t = 1; t <= 3; t++) {
          set('grad', fx.inputs[`grad_step${t}`].data);
          opt.step();
          assertClose(get(store.base), fx.outputs[`param_after_step${t}`].data, `param after step ${t}`);
          assertClose(get(opt.m), fx.outputs[`exp_avg_after_step${t}`].data, `exp_avg after step ${t}`);
          assertClose(get(opt.v), fx.outputs[`exp_avg_sq_after_step${t}`].data, `exp_avg_sq after step ${t}`);
        }
        assert.equal(opt.t, 3);
        // padding between the parameters stays 0
        const all = store.values(e);
        for (let i = 7; i < b.offset; i++) assert.equal(all[i], 0);
        e.release(mark);
      });
    }

    it('Adam with (coupled, L2) weight decay adds wd·p to the gradient', () => {
      const mark = e.mark();
      const store = new ParamStore();
      const p = store.declare('p', [5]);
      store.allocate(e);
      e.f32(p.ptr, 5).set([1, -2, 3, 0.5, 0]);
      e.f32(p.grad, 5).set([0.1, 0.2, -0.3, 0, 0]);
      const opt = new Adam(e, store, { lr: 0.01, weightDecay: 0.1 });
      opt.step();
      // step 1: m̂ = g', v̂ = g'², update = lr·g'/(|g'| + eps) = lr·sign(g') (g' = g + wd·p)
      const gp = [0.2, 0, 0, 0.05, 0];
      const want = [1, -2, 3, 0.5, 0].map((v, i) => v - (0.01 * gp[i]) / (Math.abs(gp[i]) + 1e-8));
      assertClose(e.f32(p.ptr, 5), want, 'params', 1e-6);
      assert.throws(() => new Adam(e, store, { beta1: 1 }), /beta1=1/);
      e.release(mark);
    });

    for (const name of ['clip_grad_norm', 'clip_grad_norm_noclip']) {
      it(`clipGradNorm matches torch.nn.utils.clip_grad_norm_ (${name})`, () => {
        const fx = loadTorchFixture(name);
        const mark = e.mark();
        const store = new ParamStore();
        const g0 = store.declare('g0', [3, 4]);
        const g1 = store.declare('g1', [5]);
        store.allocate(e);
        e.f32(g0.grad, 12).set(fx.inputs.grad0.data);
        e.f32(g1.grad, 5).set(fx.inputs.grad1.data);
        const total = clipGradNorm(e, store, fx.config.max_norm as number);
        assertClose([total], fx.outputs.total_norm.data, 'total norm');
        assertClose(e.f32(g0.grad, 12), fx.outputs.grad0_clipped.data, 'grad0');
        assertClose(e.f32(g1.grad, 5), fx.outputs.grad1_clipped.data, 'grad1');
        if (fx.config.clipped) assert.ok(gradNorm(e, store) < 1);
        e.release(mark);
      });
    }
  });
}
