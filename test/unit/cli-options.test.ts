/**
 * The CLI's option layer (src/cli/options.ts): one error format for every bad value, ranges in words,
 * and options that mirror a config key taking their bounds and default from the config schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, Option } from 'commander';
import { z } from 'zod';
import { buildProgram } from '../../src/cli/main.js';
import {
  configOption,
  describeRange,
  enumOption,
  instantOption,
  numberIn,
  numberListOption,
} from '../../src/cli/options.js';
import { configKey } from '../../src/config/keys.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { UserError } from '../../src/util/errors.js';

/** The value an option's parser makes of `v`, or the UserError message it throws. */
function parse(o: Option, v: string): unknown {
  try {
    return o.parseArg?.(v, undefined);
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${e}`);
    return e.message;
  }
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

describe('option values', () => {
  it('ranges in words', () => {
    const cases: Array<[Parameters<typeof describeRange>[0], string]> = [
      [{ integer: true, minimum: 1 }, 'a positive whole number'],
      [{ integer: true, exclusiveMinimum: 0, maximum: 1_000_000 }, 'a positive whole number up to 1000000'],
      [{ integer: true, minimum: 0 }, 'a whole number >= 0'],
      [{ integer: true, minimum: 0, maximum: 65_535 }, 'a whole number from 0 to 65535'],
      [{ exclusiveMinimum: 0 }, 'a positive number'],
      [{ exclusiveMinimum: 0, maximum: 36_600, unit: 'days' }, 'a number of days in (0, 36600]'],
      [{ minimum: 0, exclusiveMaximum: 1 }, 'a number in [0, 1)'],
      [{ exclusiveMinimum: 0, exclusiveMaximum: 1 }, 'a number in (0, 1)'],
      [{ minimum: 0.01, maximum: 100_000 }, 'a number from 0.01 to 100000'],
      [
        { integer: true, exclusiveMinimum: 0, maximum: 1024, multipleOf: 4 },
        'a positive whole number up to 1024, a multiple of 4',
      ],
    ];
    for (const [r, words] of cases) assert.equal(describeRange(r), words);
  });

  it('numbers: decimal text only, inside the range', () => {
    const r = { integer: true, minimum: 1, maximum: 100 };
    assert.equal(numberIn('42', r), 42);
    assert.equal(numberIn(' 7 ', r), 7);
    assert.equal(numberIn('1e2', r), 100);
    for (const bad of ['', 'x', '0', '101', '2.5', '0x10', 'Infinity', '1,5', '-3'])
      assert.equal(numberIn(bad, r), undefined, bad);
    assert.equal(numberIn('0.5', { exclusiveMinimum: 0, exclusiveMaximum: 1 }), 0.5);
    assert.equal(numberIn('1', { exclusiveMinimum: 0, exclusiveMaximum: 1 }), undefined);
  });

  it('one format: the flag, what was expected, what was given', () => {
    assert.equal(
      parse(enumOption('--mode <m>', 'd', ['kill', 'honour']), 'x'),
      "--mode: expected kill or honour, got 'x'",
    );
    assert.equal(
      parse(enumOption('--f <m>', 'd', ['a', 'b', 'c']), 'x'),
      "--f: expected one of a, b, c, got 'x'",
    );
    assert.deepEqual(parse(numberListOption('--l <list>', 'd', { minimum: 0 }), '1,2.5,0'), [1, 2.5, 0]);
    assert.equal(
      parse(numberListOption('--l <list>', 'd', { minimum: 0 }), '1,-2'),
      "--l: expected comma-separated values, each a number >= 0, got '1,-2'",
    );
    const at = instantOption('--at <t>', 'd');
    assert.equal(parse(at, '2024-03-01'), 1_709_251_200);
    assert.equal(parse(at, '2024-03-01T12:00Z'), 1_709_294_400);
    assert.equal(parse(at, '1709294400'), 1_709_294_400);
    assert.match(
      String(parse(at, 'yesterday')),
      /^--at: expected an ISO date-time or epoch seconds .*, got 'yesterday'$/,
    );
  });

  it('every option of every pcm command with a value check fails in that format', () => {
    let checked = 0;
    for (const cmd of allCommands(buildProgram())) {
      for (const o of cmd.options as Option[]) {
        if (!o.parseArg || o.variadic) continue;
        const msg = parse(o, 'bogus?');
        assert.equal(typeof msg, 'string', `${cmd.name()} ${o.long} accepted 'bogus?'`);
        assert.match(
          msg as string,
          new RegExp(`^${o.long}: expected .+, got 'bogus\\?'$`),
          `${cmd.name()} ${o.long}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 50, `only ${checked} options checked`);
  });
});

describe('options that mirror a config key', () => {
  it('take bounds, choices and default from the config schema', () => {
    const json = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, { properties: Record<string, Record<string, unknown>> }>;
    };
    const hidden = json.properties.Model.properties.Hidden;
    assert.deepEqual(configKey('Model.Hidden'), {
      ...configKey('Model.Hidden'),
      type: 'integer',
      exclusiveMinimum: hidden.exclusiveMinimum,
      maximum: hidden.maximum,
      multipleOf: hidden.multipleOf,
      default: hidden.default,
    });
    const o = configOption('--hidden <n>', 'LSTM size', 'Model.Hidden');
    assert.equal(parse(o, '64'), 64);
    assert.equal(parse(o, `${hidden.maximum}`), hidden.maximum);
    assert.equal(
      parse(o, `${Number(hidden.maximum) + 4}`),
      `--hidden: expected a positive whole number up to ${hidden.maximum}, a multiple of 4, got '${Number(hidden.maximum) + 4}'`,
    );
    assert.match(String(parse(o, '6')), /a multiple of 4, got '6'$/);
    assert.equal(o.description, `LSTM size (default: Model.Hidden, ${hidden.default})`);
    // an unset option stays unset: the command takes the loaded config's value
    assert.equal(o.defaultValue, undefined);
  });

  it('enums, patterns and on/off from the schema, in its own words', () => {
    assert.equal(
      parse(configOption('--overrun <m>', 'd', 'Simulator.Overrun'), 'maybe'),
      "--overrun: expected kill or honour, got 'maybe'",
    );
    const start = configOption('--start <d>', 'd', 'Simulator.Start');
    assert.equal(parse(start, '2026-01-05'), '2026-01-05');
    assert.equal(parse(start, '5.1.2026'), "--start: expected YYYY-MM-DD, got '5.1.2026'");
    const skip = configOption('--skip <on|off>', 'd', 'Model.LastStepSkip');
    assert.equal(parse(skip, 'off'), false);
    assert.equal(parse(skip, 'no'), "--skip: expected on or off, got 'no'");
  });

  it('the bound of an integer key without a maximum is no bound', () => {
    const seed = configKey('Train.Seed');
    assert.equal(seed.maximum, undefined);
    assert.equal(
      parse(configOption('--seed <n>', 'd', 'Train.Seed'), '-1'),
      "--seed: expected a whole number >= 0, got '-1'",
    );
  });

  it('a fallback is the option default instead of the config', () => {
    const o = configOption('--nodes <n>', 'cluster nodes', 'Cluster.Nodes', { fallback: 120 });
    assert.equal(o.defaultValue, 120);
    assert.equal(o.description, 'cluster nodes');
  });

  it('a key the config does not have is a programming error', () => {
    // @ts-expect-error not a config key
    assert.throws(() => configKey('Model.Nope'), /no such key/);
  });
});
