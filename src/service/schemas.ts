import { z } from 'zod';
import { NAME_RE } from '../telemetry/schema.js';

/**
 * The service's edge, one zod schema per message: request bodies and query strings are validated with
 * their JSON Schema (strict: unknown fields, wrong types, out-of-range numbers -> 400 naming the field),
 * responses are serialised with theirs, /openapi.json is generated from the routes' schemas
 * (@fastify/swagger), and the view functions' return types are these schemas' outputs, so the compiler
 * keeps what is sent and what is documented the same.
 */

/** A series name (cluster, partition): the telemetry's tag rule. */
export const seriesName = z.string().regex(NAME_RE, 'expected a series name');

export interface SchemaLimits {
  maxNodes: number;
  horizon: number;
}

export function predictBody(l: SchemaLimits) {
  return z.strictObject({
    total_nodes: z
      .int()
      .min(1)
      .max(l.maxNodes)
      .optional()
      .describe(
        'Nodes in the cluster (the seed field). Used as the capacity of the answer: forecasts are clipped to it and the power view counts the nodes above the forecast as idle or off. Must be at least the nodes busy now. Default: the capacity the telemetry reports.',
      ),
    cluster: seriesName.optional().describe('Cluster name (default Cluster.Name).'),
    partition: seriesName.optional().describe('Partition (default `_all`).'),
    horizon_minutes: z
      .int()
      .min(1)
      .max(l.horizon)
      .optional()
      .describe(`Minutes ahead to return, 1..${l.horizon} (default ${l.horizon}).`),
  });
}

export const seriesQuery = z.strictObject({
  cluster: seriesName.optional().describe('Cluster name (default: the first served series).'),
  partition: seriesName.optional().describe('Partition (default `_all`).'),
});

const num = z.number();
const nums = z.array(num);
const time = z.string().describe('UTC, ISO 8601.');

const anomalyReport = z.object({
  threshold: num,
  checked: z.array(z.string()),
  flags: z.array(z.object({ kind: z.string(), time, value: num, score: num })),
});

const quality = z
  .object({
    verdict: z.enum(['ok', 'degraded', 'no_forecast']),
    flags: z.array(z.string()),
    reasons: z.array(z.string()),
    cold_start: z.boolean(),
    history_minutes: num,
    lookback_minutes: num,
    last_point_time: time.nullable(),
    last_point_age_s: num.nullable(),
    missing_fraction: num,
    counts: z.object({
      points: num,
      present: num,
      filled: num,
      missing: num,
      beforeHistory: num,
      duplicates: num,
      outOfOrder: num,
      future: num,
      outOfRange: num,
      incompleteRows: num,
      misaligned: num,
    }),
    rule: z.object({
      maxFillMinutes: num,
      staleMinutes: num,
      maxMissingFraction: num,
      futureToleranceS: num,
    }),
    examples: z.array(z.object({ time: num, column: z.string(), value: num.nullable(), why: z.string() })),
  })
  .describe('Data quality of the telemetry the forecast was made from (checked on every read).');

const model = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.enum(['baseline', 'trained']),
  ran: z.string(),
  banded: z.boolean(),
  fitted_through: z.string().nullable(),
  fallback: z.boolean(),
  fallback_reason: z.string().nullable(),
});

const forecastFields = {
  cluster: z.string(),
  partition: z.string(),
  origin: z.string().describe('The minute the forecast is made at (UTC, ISO 8601).'),
  timestamps: z.array(z.string()).describe('Target minutes origin+1..origin+H.'),
  p50: nums,
  p10: nums,
  p90: nums,
  peak_band: z
    .object({
      quantile: num,
      bin: num,
      offsets: nums.describe('Nodes added to the highest p50 over the next 1..H minutes.'),
    })
    .nullable()
    .describe(
      "The forecaster's calibrated peak band at this origin: the power controller keeps the highest p50 plus this offset (as the replay does); null until calibrated, then it reads P90.",
    ),
  power_kw: nums.describe("Estimated kW per minute under the power controller's warm-pool law."),
  power_kw_all_on: nums.describe('Estimated kW per minute with every node powered.'),
  powered_nodes: nums,
  warm_pool: z.object({
    nodes: num.describe(
      'Idle nodes to keep powered now: what the power controller (pcm power advise/run) would keep.',
    ),
    powered_now: num,
    current_busy: num,
    peak_p90: num.describe('Highest demand outlook over the boot lead (boot + decision interval).'),
    boot_minutes: num,
    margin: num,
  }),
  capacity: z.object({ nodes: num, source: z.enum(['telemetry', 'request']), telemetry: num.nullable() }),
  busy_now: num,
  quality,
  anomalies: z.object({ series: anomalyReport, residual: anomalyReport.nullable() }),
  model,
  forecast: z.object({
    computed_at: z.string(),
    age_s: num,
    stale: z.boolean(),
    run_ms: num,
    refit: z.boolean().describe('The run refitted the model first (run_ms includes the fit).'),
    horizon_minutes: num,
  }),
};

export const forecastResponse = z.object(forecastFields);

export const latestResponse = z.object({
  ...forecastFields,
  history: z
    .object({ start: z.string(), step_s: num, busy: z.array(num.nullable()) })
    .describe('Busy nodes over the lookback, one value a minute from `start` (null = missing).'),
});

export const errorResponse = z.object({
  error: z.string().describe('A code: bad_request, unauthorized, not_found, no_forecast, ...'),
  message: z.string().describe('One line: the field and what was expected, or why there is no answer.'),
  field: z.string().optional(),
  quality: quality.optional(),
  model: model.optional(),
  retry_after_s: num.optional(),
});

const seriesHealth = z.object({
  cluster: z.string(),
  partition: z.string(),
  status: z.enum(['pending', 'ok', 'no_forecast', 'error']),
  reason: z.string().nullable().optional(),
  quality: z.enum(['ok', 'degraded', 'no_forecast']).nullable().optional(),
  flags: z.array(z.string()).optional(),
  last_point_age_s: num.nullable().optional(),
  forecast_age_s: num.optional(),
  model: z.string().optional(),
  anomalies: z.array(z.object({ kind: z.string(), time: z.string(), score: num })).optional(),
});

export const healthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']),
    live: z.literal(true),
    ready: z.boolean(),
    reasons: z
      .array(z.string())
      .describe(
        'With the token: sentences; without: codes such as influx_unreachable, <series>:no_forecast.',
      ),
    checks: z.object({
      model_loaded: z.boolean(),
      telemetry_fresh: z.boolean(),
      telemetry_backend: z.string(),
      influx_reachable: z.boolean().nullable(),
    }),
    series: z
      .array(seriesHealth)
      .describe('Per series; without the token only cluster, partition and status.'),
    uptime_s: num,
  })
  .describe('Liveness and readiness.');

export const liveResponse = z.object({ live: z.literal(true) });

export type ForecastBody = z.output<typeof forecastResponse>;
export type HistoryBody = z.output<typeof latestResponse>['history'];
export type ErrorBody = z.output<typeof errorResponse>;
export type QualityBody = z.output<typeof quality>;
export type AnomalyBody = z.output<typeof anomalyReport>;
export type ModelBody = z.output<typeof model>;
export type HealthBody = z.output<typeof healthResponse>;
export type SeriesHealthBody = z.output<typeof seriesHealth>;

/**
 * A schema as the JSON Schema (draft 7, Fastify's validator's) a route gives Fastify: `input` for
 * what a client sends (fields with defaults optional), `output` for what the service answers.
 */
export function jsonSchema(s: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { target: 'draft-7', io, unrepresentable: 'throw' });
  return rest;
}

/** A JSON response for a route's `response` map: the schema plus what the status means. */
export function jsonResponse(s: z.ZodType, description: string): Record<string, unknown> {
  return { ...jsonSchema(s), description };
}

/** A non-JSON response (text, HTML, a redirect without a body) for a route's `response` map. */
export function otherResponse(description: string, ...mediaTypes: string[]): Record<string, unknown> {
  if (!mediaTypes.length) return { description, type: 'null' };
  const content = Object.fromEntries(mediaTypes.map((m) => [m, { schema: { type: 'string' } }]));
  return { description, content };
}

/**
 * The refusals any route may answer (a `4xx` entry): URL too long (414), malformed URL (400), rate limit
 * (429), plus the route's own (`extra`, a phrase ending in a comma).
 */
export function clientErrors(extra = ''): Record<string, unknown> {
  return {
    '4xx': jsonResponse(
      errorResponse,
      `Refused: ${extra} URL too long (414), malformed URL (400), rate limit (429).`.replace('  ', ' '),
    ),
  };
}

/** The error answers of the forecast routes: their refusals and the 503 without a forecast. */
export function forecastErrors(): Record<string, unknown> {
  return {
    ...clientErrors(
      'invalid request (400, the field and the reason), missing or wrong bearer token (401, 403 when the route needs a token and none is configured), unknown series (404), body too large (413), not JSON (415),',
    ),
    503: jsonResponse(
      errorResponse,
      'No forecast: telemetry unavailable, stale or too incomplete (the message says which; Retry-After set).',
    ),
  };
}

/** The OpenAPI `security` of a read route: the bearer token when RequireAuthForReads, else none. */
export function readSecurity(auth: { requireForReads: boolean }): {
  security?: Array<Record<string, string[]>>;
} {
  return auth.requireForReads ? { security: [{ bearer: [] }] } : {};
}
