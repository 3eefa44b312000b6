import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/engine/wasm.js';

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Reference C = A·B (+C) in float64; A(i,k) = a[i*sai + k*sak]. */
function refGemm(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  sai: number,
  sak: number,
  b: Float32Array,
  c0: Float32Array | null,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = c0 ? c0[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += a[i * sai + k * sak] * b[k * N + j];
      c[i * N + j] = s;
    }
  return c;
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`sgemm (${variant})`, () => {
    const e = new Engine(variant);
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1],
      [4, 8, 3],
      [5, 9, 7],
      [13, 17, 300],
      [64, 512, 128],
      [3, 30, 1],
      [7, 4, 0],
    ];
    for (const [M, N, K] of shapes) {
      for (const trans of [false, true]) {
        for (const beta of [0, 1]) {
          it(`M=${M} N=${N} K=${K} ${trans ? 'TN' : 'NN'} beta=${beta}`, () => {
            const mark = e.mark();
            const a = rand(M * K, M * 31 + K);
            const b = rand(K * N, N * 17 + K);
            const c0 = rand(M * N, 99);
            const pa = e.allocFrom(a);
            const pb = e.allocFrom(b);
            const pc = e.allocFrom(c0);
            // NN: A is (M,K) row-major; TN: A is stored (K,M) and read transposed
            const sai = trans ? 1 : K;
            const sak = trans ? M : 1;
            e.k.sgemm(M, N, K, pa, sai, sak, pb, N, pc, N, beta);
            const want = refGemm(M, N, K, a, sai, sak, b, beta ? c0 : null);
            const got = e.f32(pc, M * N);
            let maxRef = 1e-6;
            let maxErr = 0;
            for (let i = 0; i < M * N; i++) {
              maxRef = Math.max(maxRef, Math.abs(want[i]));
              maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
            }
            assert.ok(
              maxErr <= 1e-5 * maxRef * Math.max(1, Math.sqrt(K) / 4),
              `max err ${maxErr} vs max ${maxRef}`,
            );
            e.release(mark);
          });
        }
      }
    }

    it('transpose', () => {
      const a = rand(13 * 21, 5);
      const pa = e.allocFrom(a);
      const pt = e.alloc(13 * 21);
      e.k.transpose(13, 21, pa, pt);
      const t = e.f32(pt, 13 * 21);
      for (let r = 0; r < 13; r++) for (let c = 0; c < 21; c++) assert.equal(t[c * 13 + r], a[r * 21 + c]);
    });

    it('sigmoid/tanh/exp match Math within 2e-7 absolute (tails included)', () => {
      const n = 1003;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = -20 + (40 * i) / (n - 1);
      const px = e.allocFrom(x);
      const py = e.alloc(n);
      const check = (fn: string, ref: (v: number) => number, rel: boolean) => {
        e.k[fn](n, px, py);
        const y = e.f32(py, n);
        for (let i = 0; i < n; i++) {
          const r = ref(x[i]);
          const err = Math.abs(y[i] - r) / (rel ? Math.max(Math.abs(r), 1e-30) : 1);
          assert.ok(err < 3e-7, `${fn}(${x[i]}) = ${y[i]}, want ${r}`);
        }
      };
      check('sigmoid_fwd', (v) => 1 / (1 + Math.exp(-v)), false);
      check('tanh_fwd', Math.tanh, false);
      check('exp_fwd', Math.exp, true);
    });
  });
}
