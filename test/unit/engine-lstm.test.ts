import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BiLSTM, type BiLSTMConfig } from '../../src/engine/layers/bilstm.js';
import { ParamStore } from '../../src/engine/params.js';
import { Engine, type Ptr } from '../../src/engine/wasm.js';
import { directionalCheck, lcg, uniform } from '../helpers/gradcheck.js';
import { loadTorchFixture, relErr } from '../helpers/torch-fixture.js';

const TOL = 1e-5; // max|got - ref| <= 1e-5 * max|ref| per tensor (fixtures README)

function build(e: Engine, cfg: BiLSTMConfig, maxB: number, maxT: number): { store: ParamStore; m: BiLSTM } {
  const store = new ParamStore();
  const m = new BiLSTM(store, cfg);
  store.allocate(e);
  m.allocate(e, maxB, maxT);
  return { store, m };
}

function copyOut(e: Engine, p: Ptr, n: number): Float32Array {
  return Float32Array.from(e.f32(p, n));
}

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const err = relErr(got, ref);
  assert.ok(err <= tol, `${what}: max|err|/max|ref| = ${err.toExponential(2)} > ${tol}`);
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`LSTM (${variant})`, () => {
    const e = new Engine(variant);

    it('matches PyTorch nn.LSTM (1 layer, unidirectional): output, h_n, c_n and all grads', () => {
      const fx = loadTorchFixture('lstm_unidirectional');
      const [B, T, F] = fx.inputs.x.shape;
      const H = fx.params.weight_hh_l0.shape[1];
      const mark = e.mark();
      const { store, m } = build(e, { inputSize: F, hidden: H, numLayers: 1, bidirectional: false }, B, T);
      m.loadTorch(e, Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [k, v.data])));
      const x = e.allocFrom(fx.inputs.x.data);
      const dOut = e.allocFrom(fx.dout.output.data);
      const dhn = e.allocFrom(fx.dout.h_n.data);
      const dcn = e.allocFrom(fx.dout.c_n.data);

      const out = m.forward(e, B, T, x);
      assertClose(e.f32(out, B * T * H), fx.outputs.output.data, 'output');
      assertClose(e.f32(m.hn, B * H), fx.outputs.h_n.data, 'h_n');
      assertClose(e.f32(m.cn, B * H), fx.outputs.c_n.data, 'c_n');

      // full objective: output, h_n and c_n
      store.zeroGrad(e);
      const dx = m.backward(e, dOut, { dx: true, dhn, dcn });
      assertClose(e.f32(dx, B * T * F), fx.grads.x.data, 'grad x');
      const g = m.toTorch(e, 'grad');
      for (const name of Object.keys(fx.params)) assertClose(g[name], fx.grads[name].data, `grad ${name}`);

      // output-only objective (a fresh forward: backward consumes the cache)
      const only = fx.grads_output_only as Record<string, { data: number[] }>;
      store.zeroGrad(e);
      m.forward(e, B, T, x);
      const dx2 = m.backward(e, dOut, { dx: true });
      assertClose(e.f32(dx2, B * T * F), only.x.data, 'grad x (output only)');
      const g2 = m.toTorch(e, 'grad');
      for (const name of Object.keys(fx.params))
        assertClose(g2[name], only[name].data, `grad ${name} (output only)`);
      e.release(mark);
    });

    it('matches PyTorch nn.LSTM (2 layers, bidirectional): output, h_n, c_n, dx and all 16 param grads', () => {
      const fx = loadTorchFixture('lstm_bidirectional_2layer');
      const [B, T, F] = fx.inputs.x.shape;
      const H = fx.params.weight_hh_l0.shape[1];
      const mark = e.mark();
      const { store, m } = build(e, { inputSize: F, hidden: H, numLayers: 2, bidirectional: true }, B, T);
      assert.deepEqual(Object.keys(m.torchShapes()).sort(), Object.keys(fx.params).sort());
      for (const [k, s] of Object.entries(m.torchShapes())) assert.deepEqual(s, fx.params[k].shape, k);
      m.loadTorch(e, Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [k, v.data])));
      // round trip of the converters
      const back = m.toTorch(e);
      for (const [k, v] of Object.entries(fx.params)) assertClose(back[k], v.data, `toTorch ${k}`, 1e-7);

      const x = e.allocFrom(fx.inputs.x.data);
      const dOut = e.allocFrom(fx.dout.output.data);
      const out = m.forward(e, B, T, x);
      assertClose(e.f32(out, B * T * 2 * H), fx.outputs.output.data, 'output');
      const aux = fx.aux_outputs!;
      assertClose(e.f32(m.hn, 4 * B * H), aux.h_n.data, 'h_n');
      assertClose(e.f32(m.cn, 4 * B * H), aux.c_n.data, 'c_n');

      store.zeroGrad(e);
      const dx = m.backward(e, dOut, { dx: true });
      assertClose(e.f32(dx, B * T * F), fx.grads.x.data, 'grad x');
      const g = m.toTorch(e, 'grad');
      for (const name of Object.keys(fx.params)) assertClose(g[name], fx.grads[name].data, `grad ${name}`);
      e.release(mark);
    });

    it('gradients match central finite differences (2-layer biLSTM, variable lengths, dropout mask)', () => {
      const B = 3;
      const T = 7;
      const F = 5;
      const H = 8;
      const mark = e.mark();
      const rand = lcg(7);
      const { store, m } = build(e, { inputSize: F, hidden: H, numLayers: 2, bidirectional: true }, B, T);
      // weights scaled up from the default so the gates leave their linear range
      const params = uniform(store.total, rand, 0.6);
      store.values(e).set(params);
      const x = e.allocFrom(uniform(B * T * F, rand, 1));
      const lengths = e.alloc(B);
      e.i32(lengths, B).set([7, 4, 1]);
      const n = m.dropMaskSize(B, T);
      const mask = e.allocFrom(Array.from({ length: n }, () => (rand() < 0.3 ? 0 : 1 / 0.7)));
      const DH = 2 * H;
      // objective L = Σ out·wOut + Σ h_n·wH + Σ c_n·wC
      const wOut = uniform(B * T * DH, rand, 1);
      const wH = uniform(4 * B * H, rand, 1);
      const wC = uniform(4 * B * H, rand, 1);
      const dOut = e.allocFrom(wOut);
      const dhn = e.allocFrom(wH);
      const dcn = e.allocFrom(wC);
      const objective = (): number => {
        const out = e.f32(m.forward(e, B, T, x, { lengths, dropMask: mask }), B * T * DH);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += out[i] * wOut[i];
        const hn = e.f32(m.hn, 4 * B * H);
        const cn = e.f32(m.cn, 4 * B * H);
        for (let i = 0; i < hn.length; i++) s += hn[i] * wH[i] + cn[i] * wC[i];
        return s;
      };
      objective();
      store.zeroGrad(e);
      const dxp = m.backward(e, dOut, { dx: true, dhn, dcn });
      const gx = copyOut(e, dxp, B * T * F);
      const gp = Float32Array.from(store.grads(e));
      // dx at padded steps is exactly 0
      const len = [7, 4, 1];
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T - len[b]; t++)
          for (let f = 0; f < F; f++) assert.equal(gx[(b * T + t) * F + f], 0, `dx padded b=${b} t=${t}`);

      const eps = 1e-2;
      for (let trial = 0; trial < 3; trial++) {
        // along a random direction in parameter space
        const theta = Float32Array.from(store.values(e));
        const vp = uniform(theta.length, rand, 1);
        const rp = directionalCheck(theta, gp, vp, eps, (t) => store.values(e).set(t), objective);
        assert.ok(rp.rel < 2e-3, `params: analytic ${rp.analytic} numeric ${rp.numeric} rel ${rp.rel}`);
        // along a random direction in input space
        const x0 = copyOut(e, x, B * T * F);
        const vx = uniform(x0.length, rand, 1);
        const rx = directionalCheck(x0, gx, vx, eps, (t) => e.f32(x, t.length).set(t), objective);
        assert.ok(rx.rel < 2e-3, `x: analytic ${rx.analytic} numeric ${rx.numeric} rel ${rx.rel}`);
      }
      // a few single coordinates of each parameter tensor (catches errors a random direction averages out)
      const theta = Float32Array.from(store.values(e));
      for (const p of store.params) {
        for (const i of [0, p.size >> 1, p.size - 1]) {
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

    // H = 12 and 36 also cover every column tail of the single-row recurrent kernel (4H = 48, 144)
    for (const H of [4, 12, 36])
      it(`a short history inside a left-padded window equals that history alone (outputs, states, grads), H=${H}`, () => {
        const T = 9;
        const F = 3;
        const len = [9, 5, 2, 1, 0]; // B = 5: a 4-row gemm strip plus a leftover row; an empty history
        const B = len.length;
        const DH = 2 * H;
        const mark = e.mark();
        const rand = lcg(11);
        const cfg = { inputSize: F, hidden: H, numLayers: 2, bidirectional: true };
        const { store, m } = build(e, cfg, B, T);
        const params = uniform(store.total, rand, 0.5);
        store.values(e).set(params);
        // padded steps hold garbage that must not matter
        const xs = uniform(B * T * F, rand, 1);
        const douts = uniform(B * T * DH, rand, 1);
        const dhns = uniform(4 * B * H, rand, 1);
        const dcns = uniform(4 * B * H, rand, 1);
        const x = e.allocFrom(xs);
        const dOut = e.allocFrom(douts);
        const dhn = e.allocFrom(dhns);
        const dcn = e.allocFrom(dcns);
        const lengths = e.alloc(B);
        e.i32(lengths, B).set(len);
        const out = copyOut(e, m.forward(e, B, T, x, { lengths }), B * T * DH);
        const hn = copyOut(e, m.hn, 4 * B * H);
        const cn = copyOut(e, m.cn, 4 * B * H);
        store.zeroGrad(e);
        const dx = copyOut(e, m.backward(e, dOut, { dx: true, dhn, dcn }), B * T * F);
        const gBatch = Float32Array.from(store.grads(e));

        // each sample alone, T = len[b], summing its parameter grads
        const single = build(e, cfg, 1, T);
        single.store.values(e).set(params);
        single.store.zeroGrad(e);
        for (let b = 0; b < B; b++) {
          const L = len[b];
          const off = T - L;
          if (L === 0) {
            // an empty history: zero output, state and input gradient
            for (let i = b * T * DH; i < (b + 1) * T * DH; i++) assert.equal(out[i], 0);
            for (let i = b * T * F; i < (b + 1) * T * F; i++) assert.equal(dx[i], 0);
            for (let s = 0; s < 4; s++) for (let j = 0; j < H; j++) assert.equal(hn[(s * B + b) * H + j], 0);
            continue;
          }
          const xb = e.allocFrom(xs.subarray((b * T + off) * F, (b + 1) * T * F));
          const db = e.allocFrom(douts.subarray((b * T + off) * DH, (b + 1) * T * DH));
          const pick = (a: Float32Array) => {
            const r = new Float32Array(4 * H);
            for (let s = 0; s < 4; s++) r.set(a.subarray((s * B + b) * H, (s * B + b + 1) * H), s * H);
            return r;
          };
          const dhb = e.allocFrom(pick(dhns));
          const dcb = e.allocFrom(pick(dcns));
          const o1 = e.f32(single.m.forward(e, 1, L, xb), L * DH);
          assertClose(o1, out.subarray((b * T + off) * DH, (b + 1) * T * DH), `out b=${b}`, 1e-6);
          for (let i = b * T * DH; i < (b * T + off) * DH; i++)
            assert.equal(out[i], 0, `padded output b=${b}`);
          assertClose(e.f32(single.m.hn, 4 * H), pick(hn), `h_n b=${b}`, 1e-6);
          assertClose(e.f32(single.m.cn, 4 * H), pick(cn), `c_n b=${b}`, 1e-6);
          const dx1 = e.f32(single.m.backward(e, db, { dx: true, dhn: dhb, dcn: dcb }), L * F);
          assertClose(dx1, dx.subarray((b * T + off) * F, (b + 1) * T * F), `dx b=${b}`, 1e-6);
        }
        assertClose(single.store.grads(e), gBatch, 'param grads (sum over samples)', 1e-5);
        e.release(mark);
      });

    it('seeded dropout between layers equals the same mask given explicitly (forward and grads)', () => {
      const B = 2;
      const T = 5;
      const F = 3;
      const H = 4;
      const L = 3;
      const DH = 2 * H;
      const mark = e.mark();
      const rand = lcg(5);
      const { store, m } = build(e, { inputSize: F, hidden: H, numLayers: L, bidirectional: true }, B, T);
      store.values(e).set(uniform(store.total, rand, 0.5));
      const x = e.allocFrom(uniform(B * T * F, rand, 1));
      const dOut = e.allocFrom(uniform(B * T * DH, rand, 1));
      const run = (opts: { dropMask?: Ptr; dropout?: { p: number; seed: number } }) => {
        const out = copyOut(e, m.forward(e, B, T, x, opts), B * T * DH);
        store.zeroGrad(e);
        const dx = copyOut(e, m.backward(e, dOut, { dx: true }), B * T * F);
        return { out, dx, g: Float32Array.from(store.grads(e)) };
      };
      const seeded = run({ dropout: { p: 0.4, seed: 9 } });
      // the same masks, materialised: boundary l uses element offsets l·T·B·D·H
      const n = T * B * DH;
      const mask = e.alloc(m.dropMaskSize(B, T));
      for (let l = 0; l + 1 < L; l++) e.k.dropout_mask(n, 0.4, 9, l * n, mask + l * n * 4);
      const zeros = e.f32(mask, m.dropMaskSize(B, T)).filter((v) => v === 0).length;
      assert.ok(zeros > 0.2 * m.dropMaskSize(B, T) && zeros < 0.6 * m.dropMaskSize(B, T), `${zeros} dropped`);
      const explicit = run({ dropMask: mask });
      assert.deepEqual(seeded.out, explicit.out);
      assert.deepEqual(seeded.dx, explicit.dx);
      assert.deepEqual(seeded.g, explicit.g);
      const plain = run({});
      assert.ok(relErr(plain.out, seeded.out) > 1e-3, 'dropout changes the output');
      e.release(mark);
    });

    it('rejects shapes outside the allocation and hidden sizes not a multiple of 4', () => {
      const mark = e.mark();
      const { m } = build(e, { inputSize: 2, hidden: 4 }, 2, 3);
      assert.throws(() => m.forward(e, 3, 3, 0), /B=3/);
      assert.throws(() => m.forward(e, 2, 4, 0), /T=4/);
      assert.throws(() => new BiLSTM(new ParamStore(), { inputSize: 2, hidden: 6 }), /multiple of 4/);
      assert.throws(() => m.loadTorch(e, {}), /missing parameter weight_ih_l0/);
      const lengths = e.alloc(2);
      e.i32(lengths, 2).set([3, 4]);
      assert.throws(
        () => m.forward(e, 2, 3, e.alloc(2 * 3 * 2), { lengths }),
        /lengths\[1\] = 4 outside 0..3/,
      );
      assert.throws(() => m.forward(e, 2, 3, lengths, { dropout: { p: 1, seed: 0 } }), /dropout p=1/);
      e.release(mark);
    });
  });
}
