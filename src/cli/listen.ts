import { createServer } from 'node:net';
import { errorMessage, UserError } from '../util/errors.js';

/**
 * Listening on a port, as the user sees it: one line that says which address failed, why, and the option
 * that changes it; and a probe that finds out before a long run (`pcm demo`) that the port is taken.
 */

/** The one-line error for a failed listen on host:port (`how`: what changes the port). */
export function listenError(host: string, port: number, e: unknown, how: string): UserError {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE')
    return new UserError(`cannot listen on ${at}: the port is in use by another program; ${how}`);
  if (code === 'EACCES')
    return new UserError(`cannot listen on ${at}: permission denied (ports below 1024 need root); ${how}`);
  if (code === 'EADDRNOTAVAIL')
    return new UserError(`cannot listen on ${at}: no such address on this machine; ${how}`);
  return new UserError(`cannot listen on ${at}: ${errorMessage(e)}; ${how}`);
}

/** Resolves when host:port can be listened on now (listens and closes at once); else throws listenError. */
export async function probePort(host: string, port: number, how: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (e) {
    throw listenError(host, port, e, how);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
