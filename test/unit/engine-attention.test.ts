import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelfAttention } from '../../src/engine/layers/attention.js';
import { MeanPool } from '../../src/engine/layers/meanpool.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine, type Ptr } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

function copyOut(e: Engine, p: Ptr, n: number): Float32Array {
  return Float32Array.from(e.f32(p, n));
}

function build(e: Engine, E: number, NH: number, maxB: number, maxT: number, dropout = 0) {
  const store = new ParamStore();
  const m = new SelfAttention(store, { embedDim: E, numHeads: NH, dropout, prefix: 'attn.' });
  store.allocate(e);
  m.allocate(e, maxB, maxT);
  return { store, m };
}

/**
 * float64 reference of the layer in PyTorch layouts (W (3E,E), Wo (E,E)), with left-padded lengths:
 * keys before T - len are masked, padded query rows are 0.
 */
function refAttention(
  x: ArrayLike<number>,
  B: number,
  T: number,
  E: number,
  NH: number,
  len: number[],
  W: ArrayLike<number>,
  bW: ArrayLike<number>,
  Wo: ArrayLike<number>,
  bo: ArrayLike<number>,
): Float64Array {
  const D = E / NH;
  const out = new Float64Array(B * T * E);
  for (let b = 0; b < B; b++) {
    const off = T - len[b];
    const qkv = new Float64Array(T * 3 * E);
    for (let t = off; t < T; t++)
      for (let j = 0; j < 3 * E; j++) {
        let s = bW[j];
        for (let i = 0; i < E; i++) s += x[(b * T + t) * E + i] * W[j * E + i];
        qkv[t * 3 * E + j] = s;
      }
    const cat = new Float64Array(T * E);
    for (let h = 0; h < NH; h++)
      for (let i = off; i < T; i++) {
        const s = new Float64Array(T);
        let m = -Infinity;
        for (let j = off; j < T; j++) {
          let d = 0;
          for (let c = 0; c < D; c++) d += qkv[i * 3 * E + h * D + c] * qkv[j * 3 * E + E + h * D + c];
          s[j] = d / Math.sqrt(D);
          m = Math.max(m, s[j]);
        }
        let z = 0;
        for (let j = off; j < T; j++) z += s[j] = Math.exp(s[j] - m);
        for (let c = 0; c < D; c++) {
          let o = 0;
          for (let j = off; j < T; j++) o += (s[j] / z) * qkv[j * 3 * E + 2 * E + h * D + c];
          cat[i * E + h * D + c] = o;
        }
      }
    for (let t = off; t < T; t++)
      for (let j = 0; j < E; j++) {
        let s = bo[j];
        for (let i = 0; i < E; i++) s += cat[t * E + i] * Wo[j * E + i];
        out[(b * T + t) * E + j] = s;
      }
  }
  return out;
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`self-attention and mean-pool (${variant})`, () => {
    const e = new Engine(variant);

    it('matches PyTorch nn.MultiheadAttention: output, head-averaged weights, dx and all param grads', () => {
      const fx = loadTorchFixture('multihead_attention');
      const [B, T, E] = fx.inputs.x.shape;
      const NH = fx.config.num_heads as number;
      const mark = e.mark();
      const { store, m } = build(e, E, NH, B, T);
      const tensors = Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [`attn.${k}`, v.data]));
      m.loadTorch(e, tensors);
      const back = m.toTorch(e);
      for (const [k, v] of Object.entries(tensors)) assertClose(back[k], v, `toTorch ${k}`, 1e-7);
      const x = e.allocFrom(fx.inputs.x.data);
      const out = m.forward(e, B, T, x);
      assertClose(e.f32(out, B * T * E), fx.outputs.output.data, 'output');
      assertClose(m.weights(e), fx.aux_outputs!.attn_weights.data, 'attn_weights');
      store.zeroGrad(e);
      const dx = m.backward(e, e.allocFrom(fx.dout.output.data), { dx: true });
      assertClose(e.f32(dx, B * T * E), fx.grads.x.data, 'grad x');
      const g = m.toTorch(e, 'grad');
      for (const k of ['in_proj_weight', 'out_proj.weight', 'out_proj.bias'])
        assertClose(g[`attn.${k}`], fx.grads[k].data, `grad ${k}`);
      // in_proj_bias: q and v thirds relative; the key third is exactly 0 in exact arithmetic (absolute)
      const gb = g['attn.in_proj_bias'];
      const rb = fx.grads.in_proj_bias.data;
      assertClose(gb.subarray(0, E), rb.slice(0, E), 'grad in_proj_bias (q)');
      assertClose(gb.subarray(2 * E), rb.slice(2 * E), 'grad in_proj_bias (v)');
      const scale = Math.max(...rb.map(Math.abs));
      for (let i = E; i < 2 * E; i++) assert.ok(Math.abs(gb[i]) <= 1e-6 * scale, `key bias grad ${gb[i]}`);
      e.release(mark);
    });

    it('masks padded keys like a float64 reference with key padding (B=3, T=11, E=16, 4 heads)', () => {
      const B = 3;
      const T = 11;
      const E = 16;
      const NH = 4;
      const len = [11, 6, 1];
      const mark = e.mark();
      const rand = lcg(21);
      const { store, m } = build(e, E, NH, B, T);
      store.values(e).set(uniform(store.total, rand, 0.4));
      const xs = uniform(B * T * E, rand, 1);
      const x = e.allocFrom(xs);
      const lengths = e.alloc(B);
      e.i32(lengths, B).set(len);
      const got = e.f32(m.forward(e, B, T, x, { lengths }), B * T * E);
      const t = m.toTorch(e);
      const want = refAttention(
        xs,
        B,
        T,
        E,
        NH,
        len,
        t['attn.in_proj_weight'],
        t['attn.in_proj_bias'],
        t['attn.out_proj.weight'],
        t['attn.out_proj.bias'],
      );
      assertClose(got, want, 'output vs float64 reference');
      e.release(mark);
    });

    for (const dropout of [0, 0.3]) {
      it(`gradients match central differences (variable lengths, attention dropout ${dropout})`, () => {
        const B = 3;
        const T = 10;
        const E = 16;
        const NH = 2;
        const mark = e.mark();
        const rand = lcg(5 + dropout * 10);
        const { store, m } = build(e, E, NH, B, T, dropout);
        store.values(e).set(uniform(store.total, rand, 0.5));
        const x = e.allocFrom(uniform(B * T * E, rand, 1));
        const lengths = e.alloc(B);
        const len = [10, 7, 2];
        e.i32(lengths, B).set(len);
        const R = uniform(B * T * E, rand, 1);
        const dOut = e.allocFrom(R);
        const objective = (): number => {
          const o = e.f32(m.forward(e, B, T, x, { lengths, training: true, seed: 1234 }), B * T * E);
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i] * R[i];
          return s;
        };
        objective();
        store.zeroGrad(e);
        const gx = copyOut(e, m.backward(e, dOut, { dx: true }), B * T * E);
        const gp = Float32Array.from(store.grads(e));
        for (let b = 0; b < B; b++)
          for (let i = b * T * E; i < (b * T + T - len[b]) * E; i++)
            assert.equal(gx[i], 0, `dx padded b=${b}`);
        // softmax curvature: the central difference converges as eps² (checked: 4e-3 at 3e-2, 5e-5 at 3e-3)
        const eps = 2e-3;
        for (let trial = 0; trial < 3; trial++) {
          const theta = Float32Array.from(store.values(e));
          const rp = directionalCheck(
            theta,
            gp,
            uniform(theta.length, rand),
            eps,
            (t) => store.values(e).set(t),
            objective,
          );
          assert.ok(rp.rel < 2e-3, `params: analytic ${rp.analytic} numeric ${rp.numeric} rel ${rp.rel}`);
          const x0 = copyOut(e, x, B * T * E);
          const rx = directionalCheck(
            x0,
            gx,
            uniform(x0.length, rand),
            eps,
            (t) => e.f32(x, t.length).set(t),
            objective,
          );
          assert.ok(rx.rel < 2e-3, `x: analytic ${rx.analytic} numeric ${rx.numeric} rel ${rx.rel}`);
        }
        // single coordinates of every parameter tensor
        const theta = Float32Array.from(store.values(e));
        for (const p of store.params) {
          for (const i of [0, p.size >> 1, p.size - 1]) {
            if (p.name === 'attn.in_proj_bias' && i >= E && i < 2 * E) continue; // key bias: exactly 0
            const v = new Float32Array(theta.length);
            v[p.offset + i] = 1;
            const r = directionalCheck(theta, gp, v, eps, (t) => store.values(e).set(t), objective, 1e-2);
            assert.ok(
              r.rel < 5e-3,
              `${p.name}[${i}]: analytic ${r.analytic} numeric ${r.numeric} rel ${r.rel}`,
            );
          }
        }
        e.release(mark);
      });
    }

    it('a short history inside a left-padded window equals that history alone (outputs and grads)', () => {
      const T = 12;
      const E = 16;
      const NH = 4;
      const len = [12, 7, 3, 1];
      const B = len.length;
      const mark = e.mark();
      const rand = lcg(17);
      const { store, m } = build(e, E, NH, B, T);
      const params = uniform(store.total, rand, 0.5);
      store.values(e).set(params);
      const xs = uniform(B * T * E, rand, 1); // padded steps hold garbage that must not matter
      const ds = uniform(B * T * E, rand, 1);
      const x = e.allocFrom(xs);
      const lengths = e.alloc(B);
      e.i32(lengths, B).set(len);
      const out = copyOut(e, m.forward(e, B, T, x, { lengths }), B * T * E);
      store.zeroGrad(e);
      const dx = copyOut(e, m.backward(e, e.allocFrom(ds), { dx: true }), B * T * E);
      const gBatch = Float32Array.from(store.grads(e));
      const single = build(e, E, NH, 1, T);
      single.store.values(e).set(params);
      single.store.zeroGrad(e);
      for (let b = 0; b < B; b++) {
        const L = len[b];
        const lo = (b * T + T - L) * E;
        const hi = (b + 1) * T * E;
        const o1 = e.f32(single.m.forward(e, 1, L, e.allocFrom(xs.subarray(lo, hi))), L * E);
        assertClose(o1, out.subarray(lo, hi), `out b=${b}`, 1e-6);
        for (let i = b * T * E; i < lo; i++) assert.equal(out[i], 0, `padded output b=${b}`);
        const dx1 = e.f32(single.m.backward(e, e.allocFrom(ds.subarray(lo, hi)), { dx: true }), L * E);
        assertClose(dx1, dx.subarray(lo, hi), `dx b=${b}`, 1e-6);
      }
      assertClose(single.store.grads(e), gBatch, 'param grads (sum over samples)', 1e-5);
      e.release(mark);
    });

    it('MeanPool averages the valid steps only; backward spreads dOut/len over them', () => {
      const B = 3;
      const T = 5;
      const C = 6;
      const len = [5, 2, 1];
      const mark = e.mark();
      const p = new MeanPool(C);
      p.allocate(e, B, T);
      const xs = uniform(B * T * C, lcg(2), 1);
      const lengths = e.alloc(B);
      e.i32(lengths, B).set(len);
      const y = e.f32(p.forward(e, B, T, e.allocFrom(xs), lengths), B * C);
      const dys = uniform(B * C, lcg(3), 1);
      const dx = e.f32(p.backward(e, e.allocFrom(dys)), B * T * C);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let t = T - len[b]; t < T; t++) s += xs[(b * T + t) * C + c];
          assert.ok(Math.abs(y[b * C + c] - s / len[b]) < 1e-6, `y[${b},${c}]`);
          for (let t = 0; t < T; t++) {
            const want = t >= T - len[b] ? Math.fround(dys[b * C + c] * Math.fround(1 / len[b])) : 0;
            assert.equal(dx[(b * T + t) * C + c], want, `dx[${b},${t},${c}]`);
          }
        }
      // no lengths: all T steps
      const y2 = e.f32(p.forward(e, 1, T, e.allocFrom(xs)), C);
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += xs[t * C + c];
        assert.ok(Math.abs(y2[c] - s / T) < 1e-6);
      }
      e.release(mark);
    });

    it('forwardPooled equals forward followed by the mean over valid steps', () => {
      const B = 3;
      const T = 13;
      const E = 16;
      const NH = 4;
      const len = [13, 6, 1];
      const mark = e.mark();
      const rand = lcg(8);
      const { store, m } = build(e, E, NH, B, T);
      store.values(e).set(uniform(store.total, rand, 0.5));
      const x = e.allocFrom(uniform(B * T * E, rand, 1));
      const lengths = e.alloc(B);
      e.i32(lengths, B).set(len);
      const pool = new MeanPool(E);
      pool.allocate(e, B, T);
      const want = copyOut(e, pool.forward(e, B, T, m.forward(e, B, T, x, { lengths }), lengths), B * E);
      const got = e.f32(m.forwardPooled(e, B, T, x, lengths), B * E);
      assertClose(got, want, 'pooled', 1e-6);
      assert.throws(() => m.backward(e, 0), /backward before forward/);
      // a window of one step (scratch sizes T² < E)
      const one = build(e, E, NH, 1, 1);
      one.store.values(e).set(store.values(e));
      const x1 = e.allocFrom(uniform(E, rand, 1));
      const want1 = copyOut(e, one.m.forward(e, 1, 1, x1), E);
      assertClose(e.f32(one.m.forwardPooled(e, 1, 1, x1), E), want1, 'pooled, T=1', 1e-6);
      e.release(mark);
    });

    it('rejects bad sizes', () => {
      assert.throws(
        () => new SelfAttention(new ParamStore(), { embedDim: 10, numHeads: 4 }),
        /multiple of numHeads/,
      );
      const mark = e.mark();
      const { m } = build(e, 8, 2, 2, 4);
      assert.throws(() => m.forward(e, 3, 4, 0), /B=3/);
      assert.throws(() => m.backward(e, 0), /backward before forward/);
      assert.throws(() => m.loadTorch(e, {}), /missing parameter attn.in_proj_weight/);
      e.release(mark);
    });
  });
}
