import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitScaler, splitBounds } from '../../src/model/dataset.js';
import { buildFeatures, featureIndex } from '../../src/model/features.js';
import { StandardScaler } from '../../src/model/scaler.js';
import { InputError } from '../../src/util/errors.js';
import { syntheticTimeline } from '../helpers/model-synthetic.js';

describe('standard scaler', () => {
  it('fits mean and population std per column; constant columns get std 1', () => {
    // rows: [1, 5], [3, 5], [5, 5]
    const data = Float32Array.from([1, 5, 3, 5, 5, 5]);
    const s = StandardScaler.fit(data, 2, ['a', 'b'], { from: 0, to: 3 });
    assert.deepEqual(Array.from(s.mean), [3, 5]);
    assert.ok(Math.abs(s.std[0] - Math.sqrt(8 / 3)) < 1e-12);
    assert.equal(s.std[1], 1);
    const z = s.transform(data);
    assert.ok(Math.abs(z[0] - -2 / Math.sqrt(8 / 3)) < 1e-6);
    assert.equal(z[1], 0);
    const back = s.inverseInPlace(z);
    for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back[i] - data[i]) < 1e-5);
  });

  it('uses only the training rows: test values do not move it', () => {
    const mk = (spike: number) =>
      syntheticTimeline({ minutes: 1000, busy: (t) => (t < 700 ? t % 50 : spike) });
    const a = buildFeatures(mk(0));
    const b = buildFeatures(mk(100));
    const bounds = splitBounds(mk(0), { testFraction: 0.2, validFraction: 0.1 });
    assert.equal(bounds.validStart, 700);
    const sa = fitScaler(a, bounds);
    const sb = fitScaler(b, bounds);
    const i = featureIndex(a.spec, 'busy_nodes');
    assert.equal(sa.mean[i], sb.mean[i]);
    assert.equal(sa.std[i], sb.std[i]);
    // and it differs from a fit over all rows
    const all = StandardScaler.fit(b.data, b.F, b.spec.names, { from: 0, to: 1000 });
    assert.notEqual(all.mean[i], sb.mean[i]);
  });

  it('round-trips through JSON and names bad fields', () => {
    const s = new StandardScaler(['x', 'y'], Float64Array.from([1, 2]), Float64Array.from([3, 4]));
    const back = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s)));
    assert.deepEqual(back.toJSON(), s.toJSON());
    assert.throws(() => StandardScaler.fromJSON({ kind: 'minmax' }), InputError);
    assert.throws(
      () =>
        StandardScaler.fromJSON({ kind: 'standard', names: ['x'], mean: [1], std: [0] }, 'model/scaler.json'),
      /model\/scaler\.json: std: expected positive numbers/,
    );
    assert.throws(
      () => StandardScaler.fromJSON({ kind: 'standard', names: ['x'], mean: [1, 2], std: [1] }),
      /mean: expected 1 finite/,
    );
  });

  it('refuses an empty training split', () => {
    assert.throws(
      () => StandardScaler.fit(new Float32Array(4), 2, ['a', 'b'], { from: 0, to: 0 }),
      /training split is empty/,
    );
  });
});
