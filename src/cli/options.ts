/**
 * The option layer of `pcm`: every sub-command declares its typed options through these builders.
 * Commander parses the command line; each builder gives the option an argParser, so a bad value fails
 * while parsing, before any work, in one format that names the flag, what was expected and what was given:
 *
 *   pcm: --nodes: expected a positive whole number up to 10000000, got '-3'
 *
 * An option that mirrors a config key (`configOption`) takes its range, choices and default from the
 * config schema (src/config/keys.ts); the others state their range once, where they are declared.
 */
import { Option } from 'commander';
import { type ConfigKey, configKey, type KeySpec } from '../config/keys.js';
import { parseDateArg } from '../jobs/datetime.js';
import { UserError } from '../util/errors.js';

/** The one error of a bad option value. */
export function optionError(flag: string, expected: string, given: string): UserError {
  return new UserError(`${flag}: expected ${expected}, got '${given}'`);
}

/** The bounds of a numeric option, as JSON Schema states them (so a config key's pass straight through). */
export interface Range {
  integer?: boolean;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  /** What the number counts, for the message: `a number of days in (0, 36600]`. */
  unit?: string;
}

/** What a range accepts, in words: `a positive whole number up to 1000000`, `a number in [0, 1)`. */
export function describeRange(r: Range): string {
  const noun = `${r.integer ? 'whole number' : 'number'}${r.unit ? ` of ${r.unit}` : ''}`;
  const lo = r.exclusiveMinimum ?? r.minimum;
  const hi = r.exclusiveMaximum ?? r.maximum;
  const loOpen = r.exclusiveMinimum !== undefined;
  const hiOpen = r.exclusiveMaximum !== undefined;
  const positive = r.integer ? (loOpen ? lo === 0 : lo === 1) : loOpen && lo === 0;
  let s: string;
  if (positive && hi === undefined) s = `a positive ${noun}`;
  else if (positive && r.integer && !hiOpen) s = `a positive ${noun} up to ${hi}`;
  else if (lo !== undefined && hi !== undefined)
    s =
      !loOpen && !hiOpen
        ? `a ${noun} from ${lo} to ${hi}`
        : `a ${noun} in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
  else if (lo !== undefined) s = `a ${noun} ${loOpen ? '>' : '>='} ${lo}`;
  else if (hi !== undefined) s = `a ${noun} ${hiOpen ? '<' : '<='} ${hi}`;
  else s = `a ${noun}`;
  return r.multipleOf !== undefined ? `${s}, a multiple of ${r.multipleOf}` : s;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** `v` as a number inside `r`, else undefined. */
export function numberIn(v: string, r: Range): number | undefined {
  const s = v.trim();
  if (!NUMBER.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || (r.integer && !Number.isSafeInteger(n))) return undefined;
  if (r.minimum !== undefined && n < r.minimum) return undefined;
  if (r.exclusiveMinimum !== undefined && n <= r.exclusiveMinimum) return undefined;
  if (r.maximum !== undefined && n > r.maximum) return undefined;
  if (r.exclusiveMaximum !== undefined && n >= r.exclusiveMaximum) return undefined;
  if (r.multipleOf !== undefined && n % r.multipleOf !== 0) return undefined;
  return n;
}

/** "a or b", "one of a, b, c": the words for a set of choices. */
function describeChoices(values: readonly string[]): string {
  if (values.length === 1) return values[0];
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `one of ${values.join(', ')}`;
}

const readOnOff = (v: string) => (v === 'on' ? true : v === 'off' ? false : undefined);
const readChoice =
  <T extends string>(values: readonly T[]) =>
  (v: string) =>
    values.find((x) => x === v);

/** The flag an option is known by in messages (`--nodes`). */
function flagOf(o: Option): string {
  return o.long ?? o.short ?? o.flags;
}

/**
 * The base builder: an option whose value `read` turns into a T, or undefined when it is not one; then
 * the option fails with `expected`. `fallback` is the value when the option is not given.
 */
export function valueOption<T>(
  flags: string,
  description: string,
  read: (v: string) => T | undefined,
  expected: string | ((v: string) => string),
  fallback?: T,
): Option {
  const o = new Option(flags, description);
  const flag = flagOf(o);
  o.argParser((v: string) => {
    const x = read(v);
    if (x === undefined) throw optionError(flag, typeof expected === 'string' ? expected : expected(v), v);
    return x;
  });
  if (fallback !== undefined) o.default(fallback);
  return o;
}

/** A number inside `range`. */
export function numberOption(flags: string, description: string, range: Range, fallback?: number): Option {
  return valueOption(flags, description, (v) => numberIn(v, range), describeRange(range), fallback);
}

/** A whole number inside `range`. */
export function intOption(flags: string, description: string, range: Range, fallback?: number): Option {
  return numberOption(flags, description, { ...range, integer: true }, fallback);
}

/** One of `values`. */
export function enumOption<T extends string>(
  flags: string,
  description: string,
  values: readonly T[],
  fallback?: T,
): Option {
  return valueOption(flags, description, readChoice(values), describeChoices(values), fallback);
}

/** Comma-separated numbers, each inside `range`. */
export function numberListOption(flags: string, description: string, range: Range): Option {
  const read = (v: string) => {
    const xs = v.split(',').map((s) => numberIn(s, range));
    return xs.some((x) => x === undefined) ? undefined : (xs as number[]);
  };
  return valueOption(flags, description, read, `comma-separated values, each ${describeRange(range)}`);
}

/** Text matching `re` (names, tags). */
export function patternOption(
  flags: string,
  description: string,
  re: RegExp,
  expected: string,
  fallback?: string,
): Option {
  return valueOption(flags, description, (v) => (re.test(v) ? v : undefined), expected, fallback);
}

/** An instant, as epoch seconds: YYYY-MM-DD (UTC midnight), an ISO date-time (UTC unless it has an offset) or epoch seconds. */
export function instantOption(flags: string, description: string): Option {
  const read = (v: string) => {
    try {
      return parseDateArg(v, '', 'UTC');
    } catch {
      return undefined;
    }
  };
  return valueOption(
    flags,
    description,
    read,
    'an ISO date-time or epoch seconds (2024-03-01, 2024-03-01T12:00Z, 1709294400)',
  );
}

/** The reader and the words of what a config key accepts. */
function keyReader(
  spec: KeySpec,
  unit?: string,
): { read: (v: string) => unknown; expected: string | ((v: string) => string) } {
  if (spec.type === 'integer' || spec.type === 'number') {
    const range: Range = {
      integer: spec.type === 'integer',
      minimum: spec.minimum,
      exclusiveMinimum: spec.exclusiveMinimum,
      maximum: spec.maximum,
      exclusiveMaximum: spec.exclusiveMaximum,
      multipleOf: spec.multipleOf,
      unit,
    };
    return { read: (v) => numberIn(v, range), expected: describeRange(range) };
  }
  if (spec.type === 'boolean') return { read: readOnOff, expected: 'on or off' };
  if (spec.enum) return { read: readChoice(spec.enum), expected: describeChoices(spec.enum) };
  // other text: what the key's own schema accepts, in its own words (`expected YYYY-MM-DD`)
  const schema = spec.schema;
  return {
    read: (v) => (schema.safeParse(v).success ? v : undefined),
    expected: (v) => (schema.safeParse(v).error?.issues[0]?.message ?? 'text').replace(/^expected /, ''),
  };
}

/**
 * An option that overrides config key `key`: range, choices and (for the help) default come from the
 * config schema. Without `fallback` the option is left unset when not given, and the command takes the
 * loaded config's value; with it, `fallback` is the option's own default.
 */
export function configOption(
  flags: string,
  description: string,
  key: ConfigKey,
  o: { unit?: string; fallback?: string | number | boolean; defaultText?: string } = {},
): Option {
  const spec = configKey(key);
  const { read, expected } = keyReader(spec, o.unit);
  const def =
    o.defaultText ??
    (o.fallback !== undefined
      ? undefined
      : `default: ${key}${spec.default !== undefined ? `, ${spec.default}` : ''}`);
  return valueOption(flags, def ? `${description} (${def})` : description, read, expected, o.fallback);
}
