/** Command-line arguments of the bench scripts: `--name VALUE` options, positional inputs, the usage exit. */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Variant } from '../../src/engine/wasm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The value after `--name`, or `def` when the option is absent. */
export function strArg(name: string): string | undefined;
export function strArg(name: string, def: string): string;
export function strArg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** A positive number after `--name`, or `def`; anything else exits with status 2 and says so. */
export function numArg(name: string, def: number): number {
  const s = strArg(name);
  if (s === undefined) return def;
  const v = Number(s);
  if (!(v > 0)) {
    process.stderr.write(`--${name}: expected a positive number, got ${JSON.stringify(s)}\n`);
    process.exit(2);
  }
  return v;
}

/** The arguments that are neither options (`--x`) nor the values of the options named in `valued`. */
export function positionals(valued: string[] = []): string[] {
  const args = process.argv.slice(2);
  return args.filter((a, i) => !a.startsWith('--') && !(i > 0 && valued.includes(args[i - 1].slice(2))));
}

/**
 * Print `usage: node --import tsx <script> <synopsis>` and one line per note to stderr, exit with status 2.
 * `script` is the caller's `import.meta.url`.
 */
export function usage(script: string, synopsis: string, notes: string[] = []): never {
  const path = relative(ROOT, fileURLToPath(script));
  process.stderr.write(
    `usage: node --import tsx ${path} ${synopsis}\n${notes.map((n) => `  ${n}\n`).join('')}`,
  );
  process.exit(2);
}

/** The engine build named by the first argument (simd, relaxed or auto); auto when it names none. */
export function variantArg(): Variant | 'auto' {
  const a = process.argv[2];
  return a === 'simd' || a === 'relaxed' ? a : 'auto';
}
