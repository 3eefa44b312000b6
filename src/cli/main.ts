#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.js';
import { commands } from './commands/index.js';

/** `pcm`: one Unix-style command; each sub-command lives in ./commands/<name>.ts and registers itself. */
export function buildProgram(): Command {
  const program = new Command('pcm')
    .description(
      'power-control-model: forecast busy HPC nodes 30 minutes ahead and turn it into node power control',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    // usage errors as one line, like every other failure: `pcm: error: ... (run with --help for usage)`
    .configureOutput({
      outputError: (s, write) =>
        // redos-safe: quadratic only in a run of blanks, and the text is this process's own command line
        write(`pcm: ${s.trim().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`),
    });
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof UserError) {
      process.stderr.write(`pcm: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException & { dest?: string };
    if (typeof err?.code === 'string' && err.syscall && typeof err.path === 'string') {
      // a file-system failure no command mapped: still the user's to fix (a path, a disk), in one line
      process.stderr.write(`pcm: cannot ${err.syscall} ${err.dest ?? err.path ?? ''}: ${err.code}\n`);
      if (process.env.PCM_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
      return 1;
    }
    process.stderr.write(`pcm: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.PCM_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 70;
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/pcm');
if (isMain) {
  // EPIPE on stdout (e.g. `pcm ... | head`) is a normal end, not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  main(process.argv).then((code) => {
    process.exitCode = code;
    // a failed command ends now: a library timer left behind (e.g. mysql2's query timeout on a lost Slurm DB
    // connection) must not keep the process alive for minutes after its one-line error
    if (code !== 0) process.exit(code);
  });
}
