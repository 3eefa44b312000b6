import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { UserError } from '../../src/util/errors.js';
import { withRun } from '../helpers/adversarial.js';
import { bounded } from '../helpers/fuzz.js';

/** Either a valid config or a UserError whose message names a place: never another exception. */
function parseOrExplain(text: string): void {
  try {
    bounded(text, () => parseConfig(text, 'fuzz.yaml', {}));
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${(e as Error)?.stack}`);
    assert.match(e.message, /^fuzz\.yaml: invalid config: ./);
  }
}

const SECTIONS = ['Predictor', 'InfluxDB', 'Cluster', 'SlurmDB', 'Simulator', 'Power', 'Service', 'Nope'];
const KEYS = [
  'URL',
  'Nodes',
  'ForecastMinutes',
  'LookbackMinutes',
  'Token',
  'Cluster',
  'Seed',
  'IdleWatts',
  'X',
];

describe('config loader under fuzzing', () => {
  it('arbitrary text: a config or a clear error (3000 inputs)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), parseOrExplain), { numRuns: 3000 });
  });

  it('structured YAML with wrong types and unknown keys (3000 inputs)', () => {
    const value = fc.oneof(
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.double({ noNaN: false }),
      fc.string({ maxLength: 20 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 3 }),
    );
    const section = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 });
    const doc = fc.dictionary(fc.constantFrom(...SECTIONS), fc.oneof(section, value), { maxKeys: 4 });
    fc.assert(
      fc.property(doc, (d) => parseOrExplain(stringify(d))),
      { numRuns: 3000 },
    );
  });

  it('every rejection of a bad value names its key path and line', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KEYS.slice(0, 4)),
        fc.string({ minLength: 1, maxLength: 10 }),
        (key, junk) => {
          const text = `Predictor:\n  ${key}: [${JSON.stringify(junk)}]\n`;
          try {
            parseConfig(text, 'fuzz.yaml', {});
          } catch (e) {
            assert.ok(e instanceof UserError);
            assert.match(e.message, new RegExp(`Predictor\\.${key} \\(line 2\\)`));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('long runs of blanks, digits and separators in keys and values: a config or a clear error', () => {
    const line = fc.constantFrom(
      'InfluxDB:\n  URL: ',
      'Cluster:\n  Nodes: 1',
      'Service:\n  Port: ',
      '# ',
      'Nope',
    );
    fc.assert(fc.property(withRun(line), parseOrExplain), { numRuns: 150 });
  });
});
