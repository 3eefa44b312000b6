import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { writeFileAtomic } from '../../util/atomic.js';
import { errorMessage, UserError } from '../../util/errors.js';

/**
 * The controller's small JSON files (state.json, ledger.json): each carries a `kind` and a `version`, is
 * written atomically (temp file, fsync, rename: a kill -9 leaves the old file or the new one) and read
 * back through its zod schema. A file that is not JSON, of another kind or version, or with a field out of
 * shape is refused with one line naming the file, the field and what was expected: the controller never
 * starts over silently on top of what an earlier run stored (move the file aside to start afresh).
 */
export async function readVersioned<T>(
  path: string,
  kind: string,
  version: number,
  schema: z.ZodType<T>,
): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(`${path}: cannot read (${errorMessage(e)})`);
  }
  const fix = 'move it aside to start afresh';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `${path}: not JSON (${errorMessage(e).split('\n')[0]}); expected a ${kind} file version ${version}: ${fix}`,
    );
  }
  const head = json as { kind?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.kind !== kind) {
    throw new UserError(
      `${path}: kind ${JSON.stringify(head?.kind)}, expected "${kind}" (not this controller's file): ${fix}`,
    );
  }
  if (head.version !== version) {
    throw new UserError(
      `${path}: version ${JSON.stringify(head.version)}, expected ${version} (written by another pcm release): ${fix}`,
    );
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${path}: ${i.path.join('.') || '(top level)'}: ${i.message}; ${fix}`);
  }
  return r.data;
}

export async function writeVersioned(path: string, data: object): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(data)}\n`);
}
