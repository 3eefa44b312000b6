import type { ConfigKey } from './keys.js';
import type { Config } from './schema.js';

/**
 * Facts two sections of the config both state: the seed's `Predictor` section and our `Model` section
 * each say how far ahead the forecast reaches and how much history it reads. The rule, applied by the
 * loader after each section is valid on its own:
 *  - both keys set to different values: an error that names both keys, their values and lines;
 *  - only one set: the other follows it (and the section it joins is checked again with it);
 *  - neither set: both keep their defaults, which agree.
 */
export const SAME_FACTS: ReadonlyArray<{ keys: readonly [ConfigKey, ConfigKey]; fact: string }> = [
  { keys: ['Predictor.ForecastMinutes', 'Model.Horizon'], fact: 'the forecast horizon (minutes)' },
  {
    keys: ['Predictor.LookbackMinutes', 'Model.LookbackMinutes'],
    fact: 'the history a forecast reads (minutes)',
  },
];

/** A key that took its value from the other key of its fact. */
export interface Followed {
  key: ConfigKey;
  from: ConfigKey;
  value: unknown;
}

function get(obj: unknown, key: string): unknown {
  let v = obj;
  for (const p of key.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function set(obj: object, key: string, value: unknown): void {
  const parts = key.split('.');
  let v = obj as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) v = v[p] as Record<string, unknown>;
  v[parts[parts.length - 1]] = value;
}

/**
 * Apply the rule: `raw` is the config as written (what was set), `cfg` the validated config (changed in
 * place where a key follows). Returns the disagreements, one sentence each, and the keys that followed.
 */
export function reconcileSameFacts(
  raw: unknown,
  cfg: Config,
  lineOf: (key: string) => number | undefined,
): { problems: string[]; followed: Followed[] } {
  const problems: string[] = [];
  const followed: Followed[] = [];
  const at = (k: string) => {
    const line = lineOf(k);
    return line ? `${k} (line ${line})` : k;
  };
  for (const { keys, fact } of SAME_FACTS) {
    const [a, b] = keys;
    const isSet = keys.map((k) => get(raw, k) !== undefined);
    const va = get(cfg, a);
    const vb = get(cfg, b);
    if (isSet[0] && isSet[1]) {
      if (va !== vb)
        problems.push(
          `${at(a)} is ${va} but ${at(b)} is ${vb}: both state ${fact}; set one of them (the other follows) or both to the same value`,
        );
    } else if (isSet[0] || isSet[1]) {
      const [key, from, value] = isSet[0] ? [b, a, va] : [a, b, vb];
      set(cfg, key, value);
      followed.push({ key, from, value });
    }
  }
  return { problems, followed };
}
