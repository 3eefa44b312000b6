import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createReplica,
  type SeedReplicaConfig,
  seedReplicaShared,
} from '../../src/engine/net/seed-replica.js';
import { DataParallel } from '../../src/engine/parallel.js';
import { lcg, uniform } from '../helpers/gradcheck.js';
import { relErr } from '../helpers/torch-fixture.js';

describe('seed model data-parallel replica', () => {
  it('2 thread replicas give the gradients of the same shards run one after the other in one thread', async () => {
    const total = 7;
    const cfg: SeedReplicaConfig = {
      model: { features: 3, hidden: 4, heads: 2, headHidden: 5, horizon: 4, dropout: 0.2 },
      T: 6,
      maxB: 4,
      initSeed: 5,
    };
    const shared = seedReplicaShared(cfg, total);
    const rand = lcg(3);
    new Float32Array(shared.x).set(uniform(total * 6 * 3, rand, 1));
    new Float32Array(shared.target).set(uniform(total * 4, rand, 1));
    new Int32Array(shared.lengths).set([6, 5, 1, 6, 3, 2, 6]);
    new Uint32Array(shared.meta)[0] = 17;

    const module = new URL('../../src/engine/net/seed-replica.ts', import.meta.url).href;
    const dp = await DataParallel.create(2, module, cfg, shared);
    let loss2: number;
    let g2: Float32Array;
    try {
      loss2 = await dp.step(total);
      g2 = Float32Array.from(dp.main.store.grads(dp.main.engine));
    } finally {
      await dp.close();
    }
    // reference: one replica runs shard 0 (samples 0..3) and shard 1 (4..6), accumulating
    const one = createReplica(cfg, shared);
    one.store.zeroGrad(one.engine);
    const loss1 = one.run(0, 4, total) + one.run(4, 3, total);
    const g1 = one.store.grads(one.engine);
    assert.ok(Math.abs(loss1 - loss2) <= 1e-6 * Math.abs(loss1), `loss ${loss1} vs ${loss2}`);
    assert.ok(relErr(g2, g1) <= 1e-6, `grads rel err ${relErr(g2, g1)}`);
    assert.ok(g1.some((v) => v !== 0));
  });
});
