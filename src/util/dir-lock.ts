import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors.js';

/**
 * One writer per directory: a lock file created with O_EXCL holds the writer's pid while it writes its
 * files and removes the ones it no longer names, so that clean-up never deletes another writer's files.
 * A lock left by a process that died (kill -9 mid-write) is taken over; one held by a live process is a
 * UserError with the message `busy(pid)` gives.
 */

/** The process `pid` exists on this host (EPERM: it exists, owned by another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take `dir/lockName`; returns its release. */
export function lockDirectory(dir: string, lockName: string, busy: (pid: number) => string): () => void {
  const path = join(dir, lockName);
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
        throw new UserError(busy(pid));
      rmSync(path, { force: true }); // its writer died (or the file is not a lock): take it over
    }
  }
}
