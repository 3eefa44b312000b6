import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';

/**
 * One saver per model directory: `.save.lock` created with O_EXCL holds the saver's pid while it writes
 * blobs, the manifest, and removes what the manifest no longer names. Without it a second process saving
 * into the same directory had its fresh blobs and temp files deleted by the first one's clean-up. A lock
 * left by a process that died (kill -9 during a save) is taken over; one held by a live process is an error.
 */
export const SAVE_LOCK = '.save.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the directory's save lock; returns its release. Throws a UserError when a live process holds it. */
export function lockForSave(dir: string): () => void {
  const path = join(dir, SAVE_LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // removed meanwhile: try again
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new UserError(
          `model ${dir}: process ${pid} is saving into this directory (${SAVE_LOCK}); one saver at a time`,
        );
      rmSync(path, { force: true }); // its saver died (or the file is not a lock): take it over
    }
  }
}
