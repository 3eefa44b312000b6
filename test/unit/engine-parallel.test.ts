import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LSTMReplicaConfig } from '../../harness/lstm-replica.js';
import { DataParallel, shards } from '../../src/engine/parallel.js';
import { lcg, uniform } from '../helpers/gradcheck.js';
import { relErr } from '../helpers/torch-fixture.js';

const replicaModule = new URL('../../harness/lstm-replica.ts', import.meta.url).href;

describe('data parallel (worker_thread replicas)', () => {
  it('splits a batch into contiguous shards differing by at most one', () => {
    assert.deepEqual(shards(5, 2), [
      { start: 0, count: 3 },
      { start: 3, count: 2 },
    ]);
    assert.deepEqual(
      shards(2, 3).map((s) => s.count),
      [1, 1, 0],
    );
  });

  it('2 and 3 replicas give the same summed gradients and loss as one replica on the whole batch', async () => {
    const total = 5;
    const T = 6;
    const F = 3;
    const H = 4;
    const rand = lcg(3);
    const shared = {
      x: new SharedArrayBuffer(total * T * F * 4),
      dout: new SharedArrayBuffer(total * T * 2 * H * 4),
    };
    new Float32Array(shared.x).set(uniform(total * T * F, rand, 1));
    new Float32Array(shared.dout).set(uniform(total * T * 2 * H, rand, 1));
    const results: Array<{ loss: number; grads: Float32Array }> = [];
    for (const threads of [1, 2, 3]) {
      const config: LSTMReplicaConfig = { T, F, H, layers: 2, maxB: Math.ceil(total / threads), seed: 1 };
      const dp = await DataParallel.create(threads, replicaModule, config, shared);
      try {
        assert.equal(dp.threads, threads);
        const loss = await dp.step(total);
        results.push({ loss, grads: Float32Array.from(dp.main.store.grads(dp.main.engine)) });
        // a second step gives the same (gradients are re-zeroed, parameters re-broadcast)
        assert.equal(await dp.step(total), loss);
      } finally {
        await dp.close();
      }
    }
    for (const r of results.slice(1)) {
      assert.ok(Math.abs(r.loss - results[0].loss) <= 1e-5 * Math.abs(results[0].loss));
      assert.ok(
        relErr(r.grads, results[0].grads) <= 1e-5,
        `grads differ by ${relErr(r.grads, results[0].grads)}`,
      );
    }
  });

  it('reports a missing factory as an error', async () => {
    await assert.rejects(
      DataParallel.create(1, new URL('../helpers/gradcheck.ts', import.meta.url).href, {}, {}),
      /exports no createReplica/,
    );
  });
});
