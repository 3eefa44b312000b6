/** The fuzz tests' hang guard (test/helpers/fuzz.ts): it counts the input's CPU time, not the wall clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bounded } from '../helpers/fuzz.js';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('fuzz hang guard', () => {
  it('a stall that burns no CPU (a loaded machine, a descheduled process) is not a hang', () => {
    assert.equal(
      bounded(
        'stalled',
        () => {
          pause(300);
          return 1;
        },
        100,
      ),
      1,
    );
  });

  it('an input that keeps the CPU busy past the bound fails, naming the input', () => {
    assert.throws(
      () =>
        bounded(
          'spinning',
          () => {
            const end = performance.now() + 300;
            while (performance.now() < end) {}
          },
          100,
        ),
      /of CPU \(bound 100 ms\): "spinning"/,
    );
  });
});
