/** Command-line options of the bench scripts: `--name VALUE`. */

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
