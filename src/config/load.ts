import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { reconcileSameFacts } from './same-facts.js';
import { type Config, ConfigSchema } from './schema.js';

/** Environment variables that override secrets (and a few deploy-time settings) from the file. */
const ENV_OVERRIDES: ReadonlyArray<[env: string, path: [string, string]]> = [
  ['PCM_INFLUX_URL', ['InfluxDB', 'URL']],
  ['PCM_INFLUX_TOKEN', ['InfluxDB', 'Token']],
  ['PCM_INFLUX_USERNAME', ['InfluxDB', 'Username']],
  ['PCM_INFLUX_PASSWORD', ['InfluxDB', 'Password']],
  ['PCM_SLURMDB_URL', ['SlurmDB', 'URL']],
  ['PCM_SLURMDB_PASSWORD', ['SlurmDB', 'Password']],
];

export class ConfigError extends UserError {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}: invalid config: ${problems.join('; ')}`, 2);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parse and validate config text. Errors name the key path, its line, and what was expected. */
export function parseConfig(text: string, source = 'config', env: NodeJS.ProcessEnv = process.env): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(source, problems);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    // e.g. an alias to an undefined anchor, or an alias bomb
    throw new ConfigError(source, [(e as Error).message.split('\n')[0]]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      'expected a mapping of sections (Predictor, InfluxDB, ...) at the top level',
    ]);
  }
  applyEnv(raw as Record<string, unknown>, env);
  const lineFor = (p: PropertyKey[]) => lineOf(doc, lc, p);
  const res = ConfigSchema.safeParse(raw);
  if (!res.success) {
    throw new ConfigError(
      source,
      res.error.issues.map((i) => describeIssue(i, lineFor)),
    );
  }
  // facts two sections both state (Predictor.ForecastMinutes = Model.Horizon, ...): see same-facts.ts
  const cfg = res.data;
  const { problems, followed } = reconcileSameFacts(raw, cfg, (k) => lineFor(k.split('.')));
  if (problems.length) throw new ConfigError(source, problems);
  // a section that took a value from another one is checked again with it (e.g. Model's own rules)
  for (const section of new Set(followed.map((f) => f.key.split('.')[0] as keyof Config))) {
    const again = ConfigSchema.shape[section].safeParse(cfg[section]);
    if (again.success) continue;
    const why = followed
      .filter((f) => f.key.startsWith(`${section}.`))
      .map((f) => {
        const line = lineFor(f.from.split('.'));
        return `${f.key} follows ${f.from}${line ? ` (line ${line})` : ''} = ${f.value}`;
      })
      .join(', ');
    throw new ConfigError(
      source,
      again.error.issues.map(
        (i) => `${describeIssue({ ...i, path: [section, ...i.path] }, lineFor)} (${why})`,
      ),
    );
  }
  return cfg;
}

export function loadConfig(path?: string, env: NodeJS.ProcessEnv = process.env): Config {
  if (!path) return parseConfig('', 'defaults', env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  return parseConfig(text, path, env);
}

/** Fill secrets from the environment; the environment wins over the file. */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, [section, key]] of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    raw[section] ??= {};
    const sec = raw[section];
    if (typeof sec === 'object' && sec !== null && !Array.isArray(sec))
      (sec as Record<string, unknown>)[key] = v;
  }
}

function describeIssue(i: z.core.$ZodIssue, lineFor: (path: PropertyKey[]) => number | undefined): string {
  const path = i.path.map(String);
  if (i.code === 'unrecognized_keys') {
    return i.keys
      .map((k) => {
        const full = [...path, k];
        const line = lineFor(full);
        return `${full.join('.')}${line ? ` (line ${line})` : ''}: unknown key`;
      })
      .join('; ');
  }
  const line = lineFor(i.path);
  const where = path.length ? path.join('.') : '(top level)';
  const msg = i.message.replace(/^Invalid input: /, '');
  return `${where}${line ? ` (line ${line})` : ''}: ${msg}`;
}

function lineOf(
  doc: ReturnType<typeof parseDocument>,
  lc: LineCounter,
  path: PropertyKey[],
): number | undefined {
  // walk as far down the path as the document goes, then report that node's line
  let node: unknown = doc.contents;
  let found: unknown = node;
  // a key under a section the file does not have: no line (the top of the file would mislead)
  if (
    path.length > 0 &&
    !(isMap(node) && node.items.some((p) => isScalar(p.key) && String(p.key.value) === String(path[0])))
  )
    return undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      found = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      found = node;
    } else break;
  }
  const range = (found as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}
