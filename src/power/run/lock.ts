import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirDurable } from '../../util/atomic.js';
import { alive } from '../../util/dir-lock.js';
import { UserError } from '../../util/errors.js';

/**
 * One controller acts on a cluster: `controller.lock` in Power.Run.StateDir, created with O_EXCL and
 * holding `{pid, host, command, since}`. `pcm power run` holds it for its whole life; `pcm power advise
 * --apply` for its one plan and apply. A lock whose holder died survives the crash on disk, and is taken
 * over when it is stale: written on this host by a pid that no longer runs or was reused (or empty and older than 10 s,
 * a writer killed between create and write). A lock from another host cannot be checked from here: it is
 * refused with the host named (remove the file when that host is gone). A live holder is waited for up to
 * `waitS` seconds, then refused in one line naming the file, the holder and what it runs.
 */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface ControllerLock {
  path: string;
  /** The stale holder taken over, if any (for the log). */
  tookOver: LockHolder | null;
  release(): void;
}

const EMPTY_STALE_MS = 10_000;

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 'gone';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isSafeInteger(h.pid) && h.pid > 0 && typeof h.host === 'string') return h;
  } catch {}
  return 'unreadable';
}

/** When process `pid` started (epoch s), from /proc (Linux); null where that cannot be read. */
function startedAt(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime + ticks / 100 : null;
  } catch {
    return null;
  }
}

/**
 * Stale: ours to take over. Written on this host by a process that is gone, or whose pid now belongs to a
 * process started after the lock was written (a pid reused after a reboot: systemd services get low pids
 * again), or by this very process (which holds no lock while it asks for one).
 */
function isStale(path: string, h: LockHolder | 'unreadable'): boolean {
  if (h === 'unreadable') {
    try {
      return Date.now() - statSync(path).mtimeMs > EMPTY_STALE_MS;
    } catch {
      return true;
    }
  }
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid || !alive(h.pid)) return true;
  const started = startedAt(h.pid);
  const since = Date.parse(h.since) / 1000;
  return started !== null && Number.isFinite(since) && started > since + 2;
}

function tryCreate(path: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UserError(`controller lock ${path}: cannot create (${(e as Error).message})`);
  }
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

export async function acquireControllerLock(
  stateDir: string,
  command: string,
  waitS: number,
): Promise<ControllerLock> {
  await mkdirDurable(stateDir).catch((e) => {
    throw new UserError(`Power.Run.StateDir ${stateDir}: cannot create (${(e as Error).message})`);
  });
  const path = join(stateDir, 'controller.lock');
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  const deadline = Date.now() + waitS * 1000;
  let tookOver: LockHolder | null = null;
  for (;;) {
    if (tryCreate(path, me)) {
      return {
        path,
        tookOver,
        release: () => {
          const h = readHolder(path);
          if (typeof h === 'object' && h.pid === me.pid && h.host === me.host) rmSync(path, { force: true });
        },
      };
    }
    const h = readHolder(path);
    if (h === 'gone') continue;
    if (isStale(path, h)) {
      // rename is atomic: of two processes taking over the same stale lock, one wins, the other retries
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
        rmSync(aside, { force: true });
        if (h !== 'unreadable') tookOver = h;
      } catch {}
      continue;
    }
    if (Date.now() >= deadline) {
      const who =
        h === 'unreadable'
          ? 'a process that is still writing it'
          : `pid ${h.pid} on ${h.host} (${h.command}, since ${h.since})${h.host === hostname() ? '' : '; another host: remove the file if that host is gone'}`;
      throw new UserError(
        `controller lock ${path} is held by ${who}: only one controller acts on a cluster${waitS > 0 ? ` (waited ${waitS} s)` : ''}`,
      );
    }
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
  }
}
