import { lockDirectory } from '../util/dir-lock.js';

/**
 * One saver per model directory: `.save.lock` holds the saver's pid while it writes blobs, the manifest,
 * and removes what the manifest no longer names. Without it a second process saving into the same
 * directory had its fresh blobs and temp files deleted by the first one's clean-up.
 */
export const SAVE_LOCK = '.save.lock';

/** Take the directory's save lock; returns its release. Throws a UserError when a live process holds it. */
export function lockForSave(dir: string): () => void {
  return lockDirectory(
    dir,
    SAVE_LOCK,
    (pid) => `model ${dir}: process ${pid} is saving into this directory (${SAVE_LOCK}); one saver at a time`,
  );
}
