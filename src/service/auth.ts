import { createHash, timingSafeEqual } from 'node:crypto';
import { UserError } from '../util/errors.js';

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

/** Shortest token accepted (as Service.ApiToken's schema). */
const MIN_TOKEN_CHARS = 16;

/**
 * The configured token, checked: at least MIN_TOKEN_CHARS characters and no whitespace or control
 * characters (a header `Bearer <token>` could never carry it). Throws a UserError naming where it came from.
 */
export function tokenFrom(
  cfgToken: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const where = env.PCM_API_TOKEN ? 'PCM_API_TOKEN' : 'Service.ApiToken';
  const t = env.PCM_API_TOKEN || cfgToken;
  if (!t) return undefined;
  if (t.length < MIN_TOKEN_CHARS)
    throw new UserError(`${where}: expected at least ${MIN_TOKEN_CHARS} characters, got ${t.length}`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\s\x00-\x1f\x7f]/.test(t))
    throw new UserError(
      `${where}: expected no spaces or control characters (it is sent as 'Bearer <token>')`,
    );
  return t;
}

/**
 * The service's auth from its config: the checked token (tokenFrom) and RequireAuthForReads. Reads
 * required to carry a token with none configured would be open to anyone: refused, one line naming both keys.
 */
export function authFromConfig(
  service: { ApiToken?: string; RequireAuthForReads: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Auth {
  const token = tokenFrom(service.ApiToken, env);
  if (service.RequireAuthForReads && !token)
    throw new UserError(
      'Service.RequireAuthForReads is true but no token is configured: set Service.ApiToken (or PCM_API_TOKEN), or set RequireAuthForReads to false',
    );
  return makeAuth(token, service.RequireAuthForReads);
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
