import { UserError } from '../util/errors.js';

/**
 * Why a telemetry request failed:
 * - unreachable: connection refused / reset / DNS failure; timeout: no answer within TimeoutMs;
 * - auth: 401/403; not_found: 404 (e.g. `database not found`); bad_request: 400 or a query error;
 * - server: 5xx; garbage: an answer that is not what the API returns (non-JSON, wrong shape).
 */
export type TelemetryErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'not_found'
  | 'bad_request'
  | 'server'
  | 'garbage';

/** A failed InfluxDB request: one line naming the endpoint and the reason, never a secret. */
export class TelemetryError extends UserError {
  readonly kind: TelemetryErrorKind;
  /** HTTP status when there was one. */
  readonly status: number | undefined;
  /** The server's Retry-After (429/503), ms, when it gave one. */
  retryAfterMs: number | undefined;
  constructor(kind: TelemetryErrorKind, message: string, status?: number) {
    super(message, 3);
    this.name = 'TelemetryError';
    this.kind = kind;
    this.status = status;
  }

  /** Worth trying again later: the server was down, slow, overloaded or failing. */
  get retryable(): boolean {
    return (
      this.kind === 'unreachable' || this.kind === 'timeout' || this.kind === 'server' || this.status === 429
    );
  }
}

/** Replace every occurrence of each secret (token, password, and their URL-encoded forms) by `***`. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    for (const form of new Set([s, encodeURIComponent(s), Buffer.from(s).toString('base64')])) {
      out = out.split(form).join('***');
    }
  }
  return out;
}
