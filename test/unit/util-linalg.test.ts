import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choleskySolve } from '../../src/util/linalg.js';

describe('linalg: Cholesky solve', () => {
  it('solves SPD systems and refuses others', () => {
    // A = [[4, 2], [2, 3]], x = [1, -2] -> r = [0, -4]
    const x = choleskySolve(Float64Array.from([4, 2, 2, 3]), Float64Array.from([0, -4]), 2);
    assert.ok(Math.abs(x[0] - 1) < 1e-12 && Math.abs(x[1] + 2) < 1e-12);
    assert.throws(
      () => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2),
      /positive definite/,
    );
  });
});
