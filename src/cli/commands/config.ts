import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/load.js';

const SECRET_KEYS = new Set(['Token', 'Password']);

function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, SECRET_KEYS.has(k) && x ? '***' : redact(x)]),
    );
  }
  return v;
}

export function register(program: Command): void {
  const cfg = program.command('config').description('validate and show the YAML config');
  cfg
    .command('check')
    .argument('<file>', 'YAML config file')
    .option('--json', 'print the effective config (defaults filled, secrets redacted) as JSON')
    .option('--print', 'print the effective config as YAML')
    .description('validate a config file; errors name the key, its line and what was expected')
    .action((file: string, opts: { json?: boolean; print?: boolean }) => {
      const c = loadConfig(file);
      if (opts.json) process.stdout.write(`${JSON.stringify(redact(c), null, 2)}\n`);
      else if (opts.print) process.stdout.write(stringify(redact(c)));
      else process.stdout.write(`${file}: ok\n`);
    });
}
