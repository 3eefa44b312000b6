import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Bearer-token auth. The token comes from `Service.ApiToken` or the environment (`PCM_API_TOKEN`, which
 * wins). Both sides are hashed to SHA-256 digests of equal length and compared with timingSafeEqual, so
 * neither the token nor its length leaks through timing.
 * State-changing endpoints always need the token (without one configured they are disabled); reads need
 * it only when `Service.RequireAuthForReads` is set.
 */
export type AuthResult = 'ok' | 'missing' | 'invalid' | 'unconfigured';

export interface Auth {
  /** A token is configured. */
  readonly enabled: boolean;
  readonly requireForReads: boolean;
  check(authorization: string | undefined): AuthResult;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function tokenFrom(
  cfgToken: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const t = env.PCM_API_TOKEN || cfgToken;
  return t ? t : undefined;
}

export function makeAuth(token: string | undefined, requireForReads: boolean): Auth {
  const want = token ? digest(token) : null;
  return {
    enabled: want !== null,
    requireForReads,
    check(header) {
      if (!want) return 'unconfigured';
      if (!header) return 'missing';
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) return 'invalid';
      return timingSafeEqual(digest(m[1]), want) ? 'ok' : 'invalid';
    },
  };
}
