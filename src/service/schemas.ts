/**
 * JSON schemas at the service's edge: request bodies and query strings are validated with them (strict:
 * unknown fields, wrong types, out-of-range numbers -> 400 naming the field), responses are serialised
 * with them, and the OpenAPI 3 document at /openapi.json is assembled from the same objects.
 */

const NAME_PATTERN = '^[A-Za-z0-9_.:][A-Za-z0-9_.:-]{0,127}$';

export interface SchemaLimits {
  maxNodes: number;
  horizon: number;
}

export function predictBodySchema(l: SchemaLimits) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      total_nodes: {
        type: 'integer',
        minimum: 1,
        maximum: l.maxNodes,
        description:
          'Nodes in the cluster (the seed field). Used as the capacity of the answer: forecasts are clipped to it and the power view counts the nodes above the forecast as idle or off. Must be at least the nodes busy now. Default: the capacity the telemetry reports.',
      },
      cluster: { type: 'string', pattern: NAME_PATTERN, description: 'Cluster name (default Cluster.Name).' },
      partition: { type: 'string', pattern: NAME_PATTERN, description: 'Partition (default `_all`).' },
      horizon_minutes: {
        type: 'integer',
        minimum: 1,
        maximum: l.horizon,
        description: `Minutes ahead to return, 1..${l.horizon} (default ${l.horizon}).`,
      },
    },
  } as const;
}

export const seriesQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cluster: { type: 'string', pattern: NAME_PATTERN },
    partition: { type: 'string', pattern: NAME_PATTERN },
  },
} as const;

const num = { type: 'number' } as const;
const numArray = { type: 'array', items: num } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

const anomalyReport = {
  type: 'object',
  properties: {
    threshold: num,
    checked: { type: 'array', items: { type: 'string' } },
    flags: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kind: { type: 'string' }, time: { type: 'string' }, value: num, score: num },
      },
    },
  },
} as const;

const qualitySchema = {
  type: 'object',
  description: 'Data quality of the telemetry the forecast was made from (checked on every read).',
  properties: {
    verdict: { type: 'string', enum: ['ok', 'degraded', 'no_forecast'] },
    flags: { type: 'array', items: { type: 'string' } },
    reasons: { type: 'array', items: { type: 'string' } },
    cold_start: { type: 'boolean' },
    history_minutes: num,
    lookback_minutes: num,
    last_point_time: { type: ['string', 'null'] },
    last_point_age_s: nullableNum,
    missing_fraction: num,
    counts: anyObject,
    rule: anyObject,
    examples: { type: 'array', items: anyObject },
  },
} as const;

const modelSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    kind: { type: 'string' },
    ran: { type: 'string' },
    banded: { type: 'boolean' },
    fitted_through: { type: ['string', 'null'] },
    fallback: { type: 'boolean' },
    fallback_reason: { type: ['string', 'null'] },
  },
} as const;

const forecastProperties = {
  cluster: { type: 'string' },
  partition: { type: 'string' },
  origin: { type: 'string', description: 'The minute the forecast is made at (UTC, ISO 8601).' },
  timestamps: { type: 'array', items: { type: 'string' }, description: 'Target minutes origin+1..origin+H.' },
  p50: numArray,
  p10: numArray,
  p90: numArray,
  power_kw: { ...numArray, description: 'Estimated kW per minute under the warm-pool policy.' },
  power_kw_all_on: { ...numArray, description: 'Estimated kW per minute with every node powered.' },
  powered_nodes: numArray,
  warm_pool: {
    type: 'object',
    properties: {
      nodes: num,
      powered_now: num,
      current_busy: num,
      peak_p90: num,
      boot_minutes: num,
      margin: num,
    },
  },
  capacity: {
    type: 'object',
    properties: { nodes: num, source: { type: 'string' }, telemetry: nullableNum },
  },
  busy_now: num,
  quality: qualitySchema,
  anomalies: {
    type: 'object',
    properties: { series: anomalyReport, residual: { anyOf: [anomalyReport, { type: 'null' }] } },
  },
  model: modelSchema,
  forecast: {
    type: 'object',
    properties: {
      computed_at: { type: 'string' },
      age_s: num,
      stale: { type: 'boolean' },
      run_ms: num,
      refit: { type: 'boolean', description: 'The run refitted the model first (run_ms includes the fit).' },
      horizon_minutes: num,
    },
  },
} as const;

export const forecastResponseSchema = {
  type: 'object',
  required: ['timestamps', 'p50', 'p10', 'p90', 'power_kw', 'warm_pool', 'quality', 'model'],
  properties: forecastProperties,
} as const;

export const latestResponseSchema = {
  type: 'object',
  required: [...forecastResponseSchema.required, 'history'],
  properties: {
    ...forecastProperties,
    history: {
      type: 'object',
      description: 'Busy nodes over the lookback, one value a minute from `start` (null = missing).',
      properties: { start: { type: 'string' }, step_s: num, busy: { type: 'array', items: nullableNum } },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    quality: qualitySchema,
    model: modelSchema,
    retry_after_s: num,
  },
} as const;

export const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'down'] },
    live: { type: 'boolean' },
    ready: { type: 'boolean' },
    reasons: { type: 'array', items: { type: 'string' } },
    checks: {
      type: 'object',
      properties: {
        model_loaded: { type: 'boolean' },
        telemetry_fresh: { type: 'boolean' },
        telemetry_backend: { type: 'string' },
        influx_reachable: { type: ['boolean', 'null'] },
      },
    },
    model: modelSchema,
    series: { type: 'array', items: anyObject },
    uptime_s: num,
  },
} as const;

/** The OpenAPI 3.0 document served at /openapi.json, built from the schemas above. */
export function openApiDocument(l: SchemaLimits, version: string, authEnabled: boolean) {
  const json = (schema: unknown, description: string) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const errors = {
    '400': json(errorSchema, 'Invalid request: the field and the reason.'),
    '401': json(errorSchema, 'Missing or wrong bearer token.'),
    '404': json(errorSchema, 'Unknown series.'),
    '413': json(errorSchema, 'Request body too large.'),
    '503': json(
      errorSchema,
      'No forecast: telemetry unavailable, stale or too incomplete (the reason says which).',
    ),
  };
  const seriesParams = ['cluster', 'partition'].map((name) => ({
    name,
    in: 'query',
    required: false,
    schema: { type: 'string', pattern: NAME_PATTERN },
  }));
  return {
    openapi: '3.0.3',
    info: {
      title: 'power-control-model prediction service',
      version,
      description:
        'Forecasts of busy HPC nodes for the next minutes (P10/P50/P90), the power they draw and the warm pool to keep, from live telemetry. ' +
        (authEnabled ? 'Send `Authorization: Bearer <token>`.' : 'No token is configured on this instance.'),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        PredictRequest: predictBodySchema(l),
        Forecast: forecastResponseSchema,
        LatestForecast: latestResponseSchema,
        Error: errorSchema,
        Health: healthSchema,
      },
    },
    paths: {
      '/predict': {
        post: {
          summary: 'Forecast busy nodes, power and warm pool for one series',
          requestBody: { required: true, content: { 'application/json': { schema: predictBodySchema(l) } } },
          responses: { '200': json(forecastResponseSchema, 'The forecast.'), ...errors },
        },
      },
      '/forecast/latest': {
        get: {
          summary:
            'The latest cached forecast of a series, with the recent history (the dashboard reads this)',
          parameters: seriesParams,
          responses: { '200': json(latestResponseSchema, 'The forecast and history.'), ...errors },
        },
      },
      '/health': {
        get: {
          summary: 'Liveness and readiness: model loaded, telemetry fresh, InfluxDB reachable',
          responses: {
            '200': json(healthSchema, 'Ready (status ok or degraded).'),
            '503': json(healthSchema, 'Not ready.'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition 0.0.4)',
          responses: {
            '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/admin/refresh': {
        post: {
          summary: 'Recompute the forecast of a series now (needs the token)',
          security: [{ bearer: [] }],
          parameters: seriesParams,
          responses: { '200': json(forecastResponseSchema, 'The new forecast.'), ...errors },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3' } } },
      },
    },
  };
}
