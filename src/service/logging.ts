import type { FastifyServerOptions } from 'fastify';

/**
 * The service log: pino (bundled with Fastify), one JSON object a line on stdout, which systemd passes
 * to journald. On by default, so that a 500's details ("details in the service log") are somewhere.
 * Request lines (method, URL, status, time) only with `requests` (`pcm serve --log`). Secrets are
 * redacted wherever a serializer or a caller might put them: authorization and cookie headers, and any
 * password / token field.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REDACTED = '[redacted]';

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.Password',
  '*.token',
  '*.Token',
  '*.ApiToken',
];

export interface ServiceLog {
  logger: NonNullable<FastifyServerOptions['logger']>;
  disableRequestLogging: boolean;
}

/** Fastify logger options for the service; `stream` (tests) instead of stdout. */
export function serviceLog(
  level: LogLevel,
  requests: boolean,
  stream?: { write(line: string): void },
): ServiceLog {
  return {
    logger: { level, redact: { paths: REDACT_PATHS, censor: REDACTED }, ...(stream ? { stream } : {}) },
    disableRequestLogging: !requests,
  };
}
