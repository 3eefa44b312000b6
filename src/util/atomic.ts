import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A temp path beside `path` (same filesystem, so rename is atomic), hidden and unique. */
function tempPathFor(path: string): string {
  // pid + time + random: unique, and opened with O_EXCL (wx) so a pre-created file or symlink is refused
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
}

/** Write a whole file atomically: temp file, fsync, rename; a crash leaves the old file or the new one. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdirDurable(dirname(path));
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  fsyncDir(dirname(path));
}

/**
 * `mkdir -p` that survives a power cut: the parent of every directory it creates is fsynced, so a new
 * directory's entry is on disk before anything written inside it is renamed into place.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const stop = dirname(resolve(first));
  for (let d = resolve(dir); ; ) {
    const parent = dirname(d);
    fsyncDir(parent);
    if (parent === stop || parent === d) break;
    d = parent;
  }
}

/** fsync a directory (its entries); a no-op where the filesystem refuses it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  }
}

/**
 * A file written in pieces that appears under its name only when `commit()` succeeds.
 * Until then it lives at a temp path; `abort()` (or a crash) leaves no file that looks complete.
 */
export class AtomicFileWriter {
  readonly path: string;
  private readonly tmp: string;
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  private done = false;

  constructor(path: string) {
    this.path = path;
    this.tmp = tempPathFor(path);
    this.fd = openSync(this.tmp, 'wx');
  }

  write(text: string): void {
    this.buf.push(text);
    this.bufLen += text.length;
    if (this.bufLen >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.bufLen === 0) return;
    const b = Buffer.from(this.buf.join(''));
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.buf = [];
    this.bufLen = 0;
  }

  /**
   * Make the file appear under its name, or under `to`: another name in the same directory, for a name
   * known only once the content is (e.g. from its hash).
   */
  commit(to: string = this.path): void {
    if (this.done) return;
    if (dirname(resolve(to)) !== dirname(resolve(this.path)))
      throw new Error(`AtomicFileWriter: ${to} is not in the directory of ${this.path}`);
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, to);
    fsyncDir(dirname(to));
    this.done = true;
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {}
    rmSync(this.tmp, { force: true });
  }
}
