import { z } from 'zod';
import { type Config, ConfigSchema } from './schema.js';

/**
 * One config key by its dotted path (`Train.Epochs`, `Power.Reactive.SuspendTime`): its zod schema and
 * what that schema accepts, read from the schema itself (as JSON Schema: type, bounds, enum, default).
 * The CLI's options that mirror a config key take their range and default from here, so a bound is
 * written once, in the schema.
 */

type Scalar = string | number | boolean;
type Dotted<T, P extends string, D extends unknown[]> = D['length'] extends 4
  ? never
  : {
      [K in keyof T & string]-?: NonNullable<T[K]> extends Scalar
        ? `${P}${K}`
        : NonNullable<T[K]> extends readonly unknown[]
          ? never
          : string extends keyof NonNullable<T[K]>
            ? never // a record keyed by name (Power.Clusters): no fixed keys
            : Dotted<NonNullable<T[K]>, `${P}${K}.`, [...D, 0]>;
    }[keyof T & string];

/** The dotted path of every scalar key of the config. */
export type ConfigKey = Dotted<Config, '', []>;

/** What a key accepts, as JSON Schema states it (the subset the CLI reads). */
export interface KeySpec {
  key: ConfigKey;
  type: 'integer' | 'number' | 'string' | 'boolean';
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  enum?: string[];
  default?: Scalar;
  /** The key's own schema (wrappers such as default and optional removed): validates a value as the config does. */
  schema: z.ZodType;
}

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodDefault || t instanceof z.ZodPrefault || t instanceof z.ZodOptional)
    t = t.unwrap() as z.ZodType;
  return t;
}

const specs = new Map<ConfigKey, KeySpec>();

/** The spec of `key`; throws (a programming error) when the config has no such scalar key. */
export function configKey(key: ConfigKey): KeySpec {
  const hit = specs.get(key);
  if (hit) return hit;
  let node: z.ZodType = ConfigSchema;
  for (const part of key.split('.')) {
    const obj = unwrap(node);
    const next = obj instanceof z.ZodObject ? (obj.shape as Record<string, z.ZodType>)[part] : undefined;
    if (!next) throw new Error(`config key ${key}: no such key`);
    node = next;
  }
  const j = z.toJSONSchema(node, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  if (!['integer', 'number', 'string', 'boolean'].includes(j.type as string))
    throw new Error(`config key ${key}: not a scalar (${String(j.type)})`);
  const num = (k: string) => {
    const v = j[k];
    // an integer without a bound is stated as the largest safe integer: no bound
    return typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined;
  };
  const spec: KeySpec = {
    key,
    type: j.type as KeySpec['type'],
    minimum: num('minimum'),
    exclusiveMinimum: num('exclusiveMinimum'),
    maximum: num('maximum'),
    exclusiveMaximum: num('exclusiveMaximum'),
    multipleOf: num('multipleOf'),
    enum: j.enum as string[] | undefined,
    default: j.default as Scalar | undefined,
    schema: unwrap(node),
  };
  specs.set(key, spec);
  return spec;
}
