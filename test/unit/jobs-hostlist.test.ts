import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compress, count, expand, sortHosts } from '../../src/jobs/hostlist.js';
import { InputError } from '../../src/util/errors.js';
import { withRun } from '../helpers/adversarial.js';
import { bounded } from '../helpers/fuzz.js';

function throwsInput(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof InputError && re.test(e.message));
}

describe('hostlist expand', () => {
  it('expands ranges and lists, keeping zero padding', () => {
    assert.deepEqual(expand('cn[001-004,010],gpu[1-2]'), [
      'cn001',
      'cn002',
      'cn003',
      'cn004',
      'cn010',
      'gpu1',
      'gpu2',
    ]);
    assert.deepEqual(expand('node05'), ['node05']);
    assert.deepEqual(expand('a[01-02],b[10-12]'), ['a01', 'a02', 'b10', 'b11', 'b12']);
  });

  it('pads to the width of the low bound', () => {
    assert.deepEqual(expand('n[8-10]'), ['n8', 'n9', 'n10']);
    assert.deepEqual(expand('n[08-10]'), ['n08', 'n09', 'n10']);
    assert.deepEqual(expand('n[098-101]'), ['n098', 'n099', 'n100', 'n101']);
  });

  it('takes the cartesian product of several groups, leftmost slowest (like Slurm)', () => {
    assert.deepEqual(expand('rack[1-2]-n[01-02]'), ['rack1-n01', 'rack1-n02', 'rack2-n01', 'rack2-n02']);
    assert.deepEqual(expand('r[1-2]c[3-4]x'), ['r1c3x', 'r1c4x', 'r2c3x', 'r2c4x']);
    assert.equal(count('rack[1-2]-n[01-02],gpu7'), 5);
  });

  it('gives no names for None assigned and empty input', () => {
    assert.deepEqual(expand('None assigned'), []);
    assert.deepEqual(expand(''), []);
    assert.deepEqual(expand('  '), []);
    assert.equal(count('None assigned'), 0);
  });

  it('accepts whitespace as a separator and keeps duplicates in order', () => {
    assert.deepEqual(expand('b2 a1,b2'), ['b2', 'a1', 'b2']);
  });

  it('rejects malformed input naming the position', () => {
    throwsInput(() => expand('cn[1-3'), /unclosed '\[' at position 3/);
    throwsInput(() => expand('cn1]'), /unmatched '\]' at position 4/);
    throwsInput(() => expand('cn[5-3]'), /reversed range 5-3 at position 4/);
    throwsInput(() => expand('cn[a-b]'), /expected a number, found 'a' at position 4/);
    throwsInput(() => expand('cn[1-x]'), /expected a number after '-', found 'x' at position 6/);
    throwsInput(() => expand('cn[]'), /empty range at position 4/);
    throwsInput(() => expand('cn[1,,2]'), /empty range at position 6/);
    throwsInput(() => expand('cn[1[2]]'), /nested '\[' at position 5/);
    throwsInput(() => expand('cn[1-2x]'), /expected ',' or '\]', found 'x' at position 7/);
  });

  it('refuses absurd sizes but counts them without expanding', () => {
    throwsInput(() => expand('n[0-99999999]'), /more than 10000000 names/);
    throwsInput(() => expand('a[0-9999]b[0-9999]'), /more than 10000000 names/);
    assert.equal(count('n[0-99999999999]'), 100_000_000_000);
    throwsInput(() => count('n[0-9999999999999999]'), /longer than 15 digits/);
  });
});

describe('hostlist compress', () => {
  it('makes ranges per prefix, suffix and padding', () => {
    assert.equal(compress(['cn003', 'cn001', 'cn002', 'cn010']), 'cn[001-003,010]');
    assert.equal(compress(['n8', 'n9', 'n10']), 'n[8-10]');
    assert.equal(compress(['n08', 'n09', 'n10']), 'n[08-10]');
    assert.equal(compress(['node05']), 'node05');
    assert.equal(compress(['gpu2', 'cn1', 'gpu1', 'cn1']), 'cn1,gpu[1-2]');
    assert.equal(compress(['rack1-n01', 'rack1-n02', 'rack2-n01']), 'rack1-n[01-02],rack2-n01');
    assert.equal(compress(['login', 'n1x', 'n2x']), 'login,n[1-2]x');
    assert.equal(compress([]), '');
  });

  it('round-trips the brief examples', () => {
    for (const e of ['cn[001-004,010],gpu[1-2]', 'a[01-02],b[10-12]', 'n[8-10]', 'n[08-10]', 'node05']) {
      assert.equal(compress(expand(e)), e);
    }
  });

  it('rejects names a hostlist cannot hold', () => {
    throwsInput(() => compress(['a b']), /host name #1 "a b"/);
    throwsInput(() => compress(['ok1', 'x[1]']), /host name #2/);
    throwsInput(() => compress(['']), /host name #1/);
  });
});

describe('hostlist properties (fast-check)', () => {
  const alpha = fc.constantFrom(...'abcxyz-._'.split(''));
  const hostName = fc
    .tuple(
      fc.string({ unit: alpha, maxLength: 4 }),
      fc.option(fc.tuple(fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 4 })), {
        nil: undefined,
      }),
      fc.string({ unit: alpha, maxLength: 2 }),
    )
    .map(([pre, num, suf]) => {
      const digits = num === undefined ? '' : String(num[0]).padStart(num[1], '0');
      return `${pre}${digits}${digits ? suf : ''}`;
    })
    .filter((s) => s.length > 0);

  it('expand(compress(x)) == sorted unique x', () => {
    fc.assert(
      fc.property(fc.array(hostName, { maxLength: 60 }), (names) => {
        const back = bounded(names, () => expand(compress(names)));
        assert.deepEqual(back, sortHosts(names));
        assert.deepEqual(new Set(back), new Set(names));
        assert.equal(back.length, new Set(names).size);
      }),
      { numRuns: 2000 },
    );
  });

  it('contiguous padded ranges compress back to one range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 300 }), (lo, len) => {
        const e = `cn[${String(lo).padStart(3, '0')}-${String(lo + len).padStart(3, '0')}]`;
        assert.equal(compress(expand(e)), e);
        assert.equal(count(e), len + 1);
      }),
      { numRuns: 500 },
    );
  });

  it('garbage never throws anything but InputError, and never hangs', () => {
    const garbage = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'[]-,0123456789ab \t'.split('')), maxLength: 40 }),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(garbage, (s) => {
        for (const f of [() => expand(s, 10_000), () => count(s)]) {
          try {
            bounded<unknown>(s, f);
          } catch (e) {
            assert.ok(e instanceof InputError, `not an InputError for ${JSON.stringify(s)}: ${e}`);
            assert.ok(e.message.length > 0 && !e.message.includes('\n'));
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('long runs of blanks, digits and separators: an answer or an InputError, within the bound', () => {
    fc.assert(
      fc.property(withRun(fc.constantFrom('cn[1-2]', 'cn[', 'a,b', 'x[0', '')), (s) => {
        for (const f of [() => expand(s, 10_000), () => count(s)]) {
          try {
            bounded<unknown>(s.slice(0, 40), f);
          } catch (e) {
            assert.ok(e instanceof InputError, `not an InputError: ${e}`);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
