/**
 * Output paths named on the command line, checked before any work is done: a command that would run
 * for minutes and then fail to write its result fails at once instead, with one line naming the option.
 * Nothing is created here (a failed run leaves no empty directories behind).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../util/errors.js';

function kind(path: string): 'file' | 'dir' | 'other' | 'missing' {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    // ENOTDIR: a parent is a file; reported by the ancestor walk below
    if (code === 'ENOTDIR') return 'missing';
    throw new UserError(`cannot check ${path}: ${code ?? String(e)}`);
  }
}

/** The nearest existing ancestor of `path` must be a directory (else the path can never be created). */
function checkAncestors(path: string, what: string): void {
  let d = dirname(resolve(path));
  for (;;) {
    const k = kind(d);
    if (k === 'dir') return;
    if (k !== 'missing') throw new UserError(`${what} ${path}: cannot be created, ${d} is not a directory`);
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
}

/** A file to be written (or replaced): must not be a directory, and its directory must be creatable. */
export function checkOutputFile(path: string, what: string): void {
  const k = kind(path);
  if (k === 'dir') throw new UserError(`${what} ${path}: is a directory, expected a file name`);
  checkAncestors(path, what);
}

/** A directory to write files into: must be a directory or creatable as one. */
export function checkOutputDir(path: string, what: string): void {
  const k = kind(path);
  if (k === 'file' || k === 'other') throw new UserError(`${what} ${path}: exists and is not a directory`);
  if (k === 'missing') checkAncestors(path, what);
}
