/**
 * Fuzzing what goes to InfluxDB: line-protocol escaping (a point written from any measurement, tags and
 * fields either parses back to exactly them or is refused with a one-line InputError) and InfluxQL building
 * (any identifier or tag value either is refused or stays one quoted token: it can never end a literal
 * early or add a clause). The parsers below are test oracles written from the specs (InfluxDB v1 line
 * protocol; InfluxQL string/identifier literals with `\\`, `\'`, `\"`, `\n` escapes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkName, quoteIdent, quoteString, selectRecent } from '../../src/telemetry/influxql.js';
import { type FieldValue, formatPoint, rowLines } from '../../src/telemetry/line-protocol.js';
import { MEASUREMENT, NAME_RE, zeroValues } from '../../src/telemetry/schema.js';
import { InputError } from '../../src/util/errors.js';
import { adversarialRun } from '../helpers/adversarial.js';
import { assertClearError, bounded } from '../helpers/fuzz.js';

// ---------------------------------------------------------------------------------------------
// line protocol oracle

interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  time: number;
}

/** Read up to an unescaped stop character; `\X` for X in `escapes` is X, any other backslash is literal. */
function readPart(s: string, i: number, stops: string, escapes: string): [string, number] {
  let out = '';
  while (i < s.length && !stops.includes(s[i])) {
    if (s[i] === '\\' && i + 1 < s.length && escapes.includes(s[i + 1])) {
      out += s[i + 1];
      i += 2;
    } else out += s[i++];
  }
  return [out, i];
}

/**
 * Parse one line. `bs` = '' reads `\\` as two backslashes (influxd 1.6 tags), '\\' as one (an escaped
 * backslash, as other parsers do): a line we write must read the same both ways.
 */
function parseLine(line: string, bs = ''): Point {
  assert.ok(!line.includes('\n') && !line.startsWith('#'), `not one data line: ${JSON.stringify(line)}`);
  let [measurement, i] = readPart(line, 0, ', ', `, ${bs}`);
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    const [k, j] = readPart(line, i + 1, '=', `,= ${bs}`);
    assert.equal(line[j], '=', `tag without '=' in ${JSON.stringify(line)}`);
    const [v, m] = readPart(line, j + 1, ', ', `,= ${bs}`);
    tags[k] = v;
    i = m;
  }
  assert.equal(line[i], ' ', `no space after the tag set in ${JSON.stringify(line)}`);
  i++;
  const fields: Record<string, FieldValue> = {};
  for (;;) {
    const [k, j] = readPart(line, i, '=', `,= ${bs}`);
    assert.equal(line[j], '=', `field without '=' in ${JSON.stringify(line)}`);
    i = j + 1;
    if (line[i] === '"') {
      let v = '';
      i++;
      while (line[i] !== '"') {
        assert.ok(i < line.length, `unterminated string field in ${JSON.stringify(line)}`);
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        v += line[i++];
      }
      i++;
      fields[k] = v;
    } else {
      const [v, m] = readPart(line, i, ', ', '');
      fields[k] = v === 'true' ? true : v === 'false' ? false : Number(v);
      assert.ok(typeof fields[k] !== 'number' || Number.isFinite(fields[k]), `bad number ${v}`);
      i = m;
    }
    if (line[i] === ',') i++;
    else break;
  }
  assert.equal(line[i], ' ', `no space before the timestamp in ${JSON.stringify(line)}`);
  const ts = line.slice(i + 1);
  assert.match(ts, /^-?\d+$/);
  measurement ||= '';
  return { measurement, tags, fields, time: Number(ts) };
}

// characters that need escaping, that cannot be escaped, and ordinary ones (ASCII and not)
const nasty = fc.string({
  unit: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('a', 'Z', '9', '_', '-', '.', 'é') },
    { weight: 8, arbitrary: fc.constantFrom(',', '=', ' ', '\\', '"', "'", '#', '\t', '😀') },
    { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\0') },
  ),
  maxLength: 8,
});
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(fc.double(), fc.integer(), fc.boolean(), nasty);

function sameNumber(a: FieldValue, b: FieldValue): boolean {
  return typeof a === 'number' && typeof b === 'number' ? a === b : Object.is(a, b);
}

describe('line protocol under fuzzing', () => {
  it('refuses what influxd 1.6 was seen to misread (a backslash before an escaped character)', () => {
    // written as `a\\ b`: 1.6 stored the measurement as `a b` and refused the field key (HTTP 400)
    assert.throws(
      () => formatPoint('a\\ b', {}, { v: 1 }, 60),
      /measurement must not have a backslash before/,
    );
    assert.throws(
      () => formatPoint('m', {}, { 'a\\ b': 1 }, 60),
      /field key must not have a backslash before/,
    );
    assert.throws(() => formatPoint('m', { t: 'a\\,b' }, { v: 1 }, 60), /tag t must not have a backslash/);
    assert.throws(() => formatPoint('#m', {}, { v: 1 }, 60), /must not start with '#'/);
    assert.equal(formatPoint('m', { t: 'a\\b' }, { v: 1 }, 60), 'm,t=a\\b v=1 60');
  });

  it('formatPoint: parses back to the same point, or a one-line InputError (10000 points)', () => {
    let written = 0;
    fc.assert(
      fc.property(
        nasty,
        fc.dictionary(nasty, nasty, { maxKeys: 3, noNullPrototype: true }),
        fc.dictionary(nasty, fieldValue, { minKeys: 1, maxKeys: 4, noNullPrototype: true }),
        fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }) },
          { weight: 1, arbitrary: fc.double() },
        ),
        (m, tags, fields, time) => {
          let line: string | null;
          try {
            line = bounded(m, () => formatPoint(m, tags, fields, time));
          } catch (e) {
            assertClearError(e);
            assert.ok(e instanceof InputError);
            assert.match(e.message, /^line protocol: /);
            return;
          }
          const finite = Object.entries(fields).filter(
            ([, v]) => typeof v !== 'number' || Number.isFinite(v),
          );
          if (line === null) {
            assert.equal(finite.length, 0);
            return;
          }
          written++;
          const p = parseLine(line);
          assert.deepEqual(parseLine(line, '\\'), p, `ambiguous backslashes in ${JSON.stringify(line)}`);
          assert.equal(p.measurement, m);
          assert.deepEqual(p.tags, tags);
          assert.deepEqual(
            Object.keys(p.fields),
            finite.map(([k]) => k),
          );
          for (const [k, v] of finite) assert.ok(sameNumber(p.fields[k], v), `${k}: ${p.fields[k]} vs ${v}`);
          assert.ok(p.time === time, `time ${p.time} vs ${time}`); // -0 is written as 0
        },
      ),
      { numRuns: 10_000 },
    );
    assert.ok(written > 1000, `only ${written} points were writable: the generator is too nasty`);
  });

  it('rowLines: any cluster/partition tag gives parseable lines or a one-line InputError (3000 rows)', () => {
    fc.assert(
      fc.property(nasty, nasty, fc.integer({ min: 0, max: 2 ** 33 }), (cluster, partition, t) => {
        const values = zeroValues();
        values.busy_nodes = 3;
        try {
          const lines = bounded(cluster, () =>
            rowLines({
              time: t,
              cluster,
              partition,
              capacity: 8,
              totalCpus: 32,
              values,
              nodeStates: { slurm_nodes_alloc: 1 },
            }),
          );
          assert.equal(lines.length, 2);
          const p = parseLine(lines[0]);
          assert.equal(p.measurement, MEASUREMENT);
          assert.deepEqual(p.tags, { cluster, partition });
          assert.equal(p.fields.busy_nodes, 3);
          assert.deepEqual(parseLine(lines[1]).tags, { cluster, partition });
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          assertClearError(e);
          assert.ok(e instanceof InputError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// InfluxQL oracle: the scanner's rules for '...' and "..." literals

/** Read one quoted literal at `s[i]`; returns its value and the index after it, or throws. */
function scanQuoted(s: string, i: number): [string, number] {
  const q = s[i];
  assert.ok(q === '"' || q === "'", `expected a quote at ${i} in ${JSON.stringify(s)}`);
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === q) return [out, j + 1];
    assert.ok(c !== '\n', 'raw newline in a literal');
    if (c === '\\') {
      const n = s[++j];
      if (n === 'n') out += '\n';
      else if (n === '\\' || n === "'" || n === '"') out += n;
      else assert.fail(`bad escape \\${n} in ${JSON.stringify(s)}`);
    } else out += c;
  }
  assert.fail(`unterminated literal in ${JSON.stringify(s)}`);
}

/** Replace every quoted literal with Q, returning the skeleton and the literals' values. */
function skeleton(query: string): { shape: string; values: string[] } {
  let shape = '';
  const values: string[] = [];
  for (let i = 0; i < query.length; ) {
    if (query[i] === '"' || query[i] === "'") {
      const [v, j] = scanQuoted(query, i);
      values.push(v);
      shape += 'Q';
      i = j;
    } else shape += query[i++];
  }
  return { shape, values };
}

const anyText = fc.oneof(
  nasty,
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.stringMatching(NAME_RE),
);

describe('InfluxQL building under fuzzing', () => {
  it('quoteIdent / quoteString: one literal that reads back the same, or a one-line InputError (5000 each)', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        for (const quote of [quoteIdent, quoteString]) {
          try {
            const q = bounded(s, () => quote(s));
            const [v, end] = scanQuoted(q, 0);
            assert.equal(end, q.length, 'the literal ends where the quoted text ends');
            assert.equal(v, s);
          } catch (e) {
            if (e instanceof assert.AssertionError) throw e;
            assertClearError(e);
            assert.ok(/[\n\r\0]/.test(s), `refused ${JSON.stringify(s)}`);
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('checkName: accepts exactly NAME_RE (no quote, backslash, space or control character) (5000)', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        try {
          assert.equal(
            bounded(s, () => checkName('cluster', s)),
            s,
          );
          assert.ok(NAME_RE.test(s) && /^[A-Za-z0-9_.:-]+$/.test(s));
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          assertClearError(e);
          assert.match(e.message, /^cluster: expected letters/);
          assert.ok(!NAME_RE.test(s));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('selectRecent: any tag values and names keep the query shape (5000 queries)', () => {
    let built = 0;
    fc.assert(
      fc.property(
        anyText,
        anyText,
        anyText,
        fc.integer({ min: -5, max: 10 * 366 * 1440 + 5 }),
        (rp, cluster, partition, minutes) => {
          let q: string;
          try {
            q = bounded(cluster, () =>
              selectRecent({
                retentionPolicy: rp || undefined,
                measurement: 'pcm_cluster',
                fields: ['busy_nodes', 'capacity'],
                tags: { cluster, partition },
                minutes,
              }),
            );
          } catch (e) {
            assertClearError(e);
            return;
          }
          built++;
          const { shape, values } = skeleton(q);
          const from = rp ? 'Q.Q' : 'Q';
          assert.equal(
            shape,
            `SELECT Q,Q FROM ${from} WHERE Q = Q AND Q = Q AND time > now() - ${minutes}m ORDER BY time ASC`,
          );
          assert.deepEqual(values, [
            'busy_nodes',
            'capacity',
            ...(rp ? [rp] : []),
            'pcm_cluster',
            'cluster',
            cluster,
            'partition',
            partition,
          ]);
        },
      ),
      { numRuns: 5000 },
    );
    assert.ok(built > 200, `only ${built} queries were built: the generator is too nasty`);
  });

  it('long runs of blanks, digits and separators in names and values: an answer or an InputError in time', () => {
    fc.assert(
      fc.property(adversarialRun, (run) => {
        for (const f of [
          () => quoteIdent(run),
          () => quoteString(run),
          () => checkName('name', run),
          () => formatPoint(run, { t: run }, { v: 1 }, 0),
          () => formatPoint('m', {}, { v: run }, 0),
        ]) {
          try {
            bounded(run.slice(0, 40), f);
          } catch (e) {
            assertClearError(e);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
