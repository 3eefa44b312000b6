import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';

/**
 * The demo's working directory and what it was built with. `pcm demo` reuses what a directory holds, so
 * the directory records the options that decide its contents (DIR/demo.json); a run that asks for other
 * ones is refused with the difference and the two ways out, or, with `--rebuild`, starts the directory
 * over (only the files the demo writes are removed).
 */

/** The options that decide what the directory holds, as `--flag value`. */
export type DemoBuild = Record<string, number | string>;

const RECORD = 'demo.json';

/** What `pcm demo` writes into its directory (all of it decided by the build options). */
const OUTPUTS = ['config.yaml', 'timeline.csv', 'jobs.csv', 'model', 'eval.json', 'plots', RECORD];

function readRecord(dir: string): DemoBuild | null {
  const f = join(dir, RECORD);
  if (!existsSync(f)) return null;
  try {
    const j = JSON.parse(readFileSync(f, 'utf8')) as { options?: unknown };
    if (j.options && typeof j.options === 'object') return j.options as DemoBuild;
  } catch {}
  throw new UserError(`${f}: not a demo record (JSON with "options"); use --rebuild or another --dir`);
}

function flags(b: DemoBuild, keys: string[]): string {
  return keys.map((k) => `--${k} ${b[k] ?? '(unset)'}`).join(' ');
}

/**
 * Make `dir` ready for a build with `want`: a new or matching directory is used as it is (and recorded);
 * one built otherwise is refused, or emptied of the demo's files with `rebuild`. Returns what was found.
 */
export function prepareDemoDir(
  dir: string,
  shown: string,
  want: DemoBuild,
  rebuild: boolean,
): 'new' | 'same' | 'rebuilt' {
  const had = readRecord(dir);
  const used = OUTPUTS.filter((f) => f !== RECORD && existsSync(join(dir, f)));
  const keys = [...new Set([...Object.keys(want), ...Object.keys(had ?? {})])];
  const changed = had ? keys.filter((k) => String(had[k]) !== String(want[k])) : [];
  let state: 'new' | 'same' | 'rebuilt' = had ? 'same' : 'new';
  if (changed.length || (!had && used.length)) {
    if (!rebuild) {
      const was = had
        ? `was built with ${flags(had, changed)}; this run asks for ${flags(want, changed)}`
        : `holds ${used.join(', ')} from an earlier pcm demo that did not record its options`;
      throw new UserError(
        `${shown} ${was}. Add --rebuild to build it again (its ${OUTPUTS.slice(0, -1).join(', ')} are replaced), or choose another --dir`,
      );
    }
    for (const f of OUTPUTS) rmSync(join(dir, f), { recursive: true, force: true });
    state = 'rebuilt';
  }
  writeFileAtomicSync(join(dir, RECORD), `${JSON.stringify({ options: want }, null, 2)}\n`);
  return state;
}
