import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Config } from '../config/schema.js';
import type { TelemetryReader } from '../telemetry/types.js';
import { authFromConfig } from './auth.js';
import type { ServiceContext } from './context.js';
import { ForecastHub, type HubEvents, type SeriesId, UnknownSeriesError } from './forecast-hub.js';
import type { ServingModel } from './forecasters.js';
import type { ServiceLog } from './logging.js';
import { Metrics } from './metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { forecastRoutes } from './routes/forecast.js';
import { modelRoutes } from './routes/model.js';
import { opsRoutes } from './routes/ops.js';
import { predictRoutes } from './routes/predict.js';

/**
 * The prediction service as a Fastify instance. Everything it talks to is injected: the telemetry reader,
 * the model, the config and the clock (epoch seconds of "now" in telemetry time: the wall clock, or a
 * replay's accelerated clock). Routes are thin; the logic is in the hub and in plain view functions.
 * The app does not start the hub's background loop: call `hub.start()` (the serve command does).
 */
export interface AppDeps {
  config: Config;
  reader: TelemetryReader;
  forecaster: ServingModel;
  clock?: () => number;
  /** Where telemetry comes from, for /health. */
  backend?: { kind: 'influx' | 'memory'; describe: string };
  /** Series served; default Service.Series, else (Cluster.Name, `_all`). */
  series?: SeriesId[];
  /** A hub built by the caller (tests); default one is built from the deps. */
  hub?: ForecastHub;
  /** Also told of every forecast the hub computes (the forecasts written to InfluxDB: ForecastSink). */
  forecastSink?: HubEvents;
  env?: NodeJS.ProcessEnv;
  /** The service log (serviceLog); default none (tests). */
  log?: ServiceLog;
  version?: string;
}

export interface App {
  app: FastifyInstance;
  hub: ForecastHub;
  metrics: Metrics;
}

export function configuredSeries(cfg: Config): SeriesId[] {
  const s = cfg.Service.Series?.map((x) => ({ cluster: x.Cluster, partition: x.Partition }));
  return s?.length ? s : [{ cluster: cfg.Cluster.Name, partition: '_all' }];
}

export function hubFor(
  deps: Pick<AppDeps, 'config' | 'reader' | 'forecaster' | 'clock'>,
  events?: HubEvents,
) {
  const s = deps.config.Service;
  return new ForecastHub(
    deps.reader,
    deps.forecaster,
    {
      lookbackMinutes: deps.config.Predictor.LookbackMinutes,
      horizon: deps.config.Predictor.ForecastMinutes,
      staleMinutes: s.StaleAfterMinutes,
      maxFillMinutes: s.MaxFillMinutes,
      maxMissingFraction: s.MaxMissingFraction,
      minHistoryMinutes: s.MinHistoryMinutes,
      refreshSeconds: s.RefreshSeconds,
      graceSeconds: s.IngestGraceSeconds,
    },
    deps.clock ?? (() => Date.now() / 1000),
    events,
  );
}

export function buildApp(deps: AppDeps): App {
  const cfg = deps.config;
  const clock = deps.clock ?? (() => Date.now() / 1000);
  const metrics = new Metrics(cfg.Predictor.ForecastMinutes);
  const sink = deps.forecastSink;
  const events: HubEvents = sink
    ? {
        onCompute(s, snap, ms) {
          metrics.onCompute(s, snap, ms);
          sink.onCompute(s, snap, ms);
        },
      }
    : metrics;
  const hub = deps.hub ?? hubFor({ ...deps, clock }, events);
  const series = deps.series ?? configuredSeries(cfg);
  for (const s of series) hub.addSeries(s);
  const ctx: ServiceContext = {
    config: cfg,
    hub,
    metrics,
    auth: authFromConfig(cfg.Service, deps.env),
    clock,
    backend: deps.backend ?? { kind: 'memory', describe: 'embedded memory store' },
    defaultSeries: series[0],
    startedAt: Date.now() / 1000,
    version: deps.version ?? process.env.npm_package_version ?? '0.1.0',
  };
  const requestMs = cfg.Service.RequestTimeoutSeconds * 1000;
  const app = Fastify({
    logger: deps.log?.logger ?? false,
    logController: new LogController({ disableRequestLogging: deps.log?.disableRequestLogging ?? false }),
    bodyLimit: cfg.Service.BodyLimitBytes,
    // strict validation: no type coercion, unknown fields rejected (not silently removed)
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, verbose: true } },
    return503OnClosing: true,
    // a client must send its whole request within this (Fastify's default 0 lets a slow client hold a
    // connection open forever by trickling its body)
    requestTimeout: requestMs,
    // and to Node itself: Fastify sets requestTimeout only after Node made the server, which left Node's
    // headersTimeout at 60 s; Node then swaps the two (the larger one limits the whole request) and looks
    // every 30 s, so a trickled body was cut after 60-90 s, not 30. Same limit for the headers, looked at
    // every second.
    http: {
      requestTimeout: requestMs,
      headersTimeout: requestMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    // idle and keep-alive timeouts from the config (keep-alive above the proxy's, so the proxy closes first)
    connectionTimeout: cfg.Service.IdleTimeoutSeconds * 1000,
    keepAliveTimeout: cfg.Service.KeepAliveTimeoutSeconds * 1000,
    trustProxy: cfg.Service.TrustProxy,
    // malformed or over-long path parameters (`/dashboard/%zz`, 100+ chars) in the API's error shape
    frameworkErrors: (err, _req, reply) => {
      const e = describeError(err);
      return (reply as FastifyReply).code(e.status).send(e.body);
    },
  });
  // the URL (path + query) is bounded like the body: 414 before routing, validation or auth
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > MAX_URL_CHARS)
      await reply.code(414).send({
        error: 'uri_too_long',
        field: 'url',
        message: `url: ${req.url.length} characters, expected at most ${MAX_URL_CHARS}`,
      });
  });
  // JSON only: other media types (Fastify also parses text/plain by default) -> 415
  app.removeContentTypeParser('text/plain');
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = describeError(err, cfg.Service.BodyLimitBytes);
    if (e.status >= 500)
      req.log.error({ err, method: req.method, url: req.url.split('?')[0] }, 'internal error');
    return reply.code(e.status).send(e.body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  const rl = cfg.Service.RateLimit;
  if (rl)
    app.register(rateLimit, {
      max: rl.Max,
      timeWindow: rl.WindowSeconds * 1000,
      allowList: (req) => req.url === '/health' || req.url === '/health/live',
      // thrown to the error handler below, which answers 429 too_many_requests with this message
      errorResponseBuilder: (_req, c) => ({
        statusCode: 429,
        message: `rate limit: more than ${c.max} requests in ${rl.WindowSeconds} s from this address, retry after ${c.after}`,
      }),
    });
  // /openapi.json: generated from the schemas of the routes added after it
  app.register(swagger, { openapi: openApiInfo(ctx.version, ctx.auth.enabled) });
  // routes inside a plugin, so that they are added after the rate limiter and the document's hook are loaded
  app.register(async (scope) => {
    predictRoutes(scope, ctx);
    forecastRoutes(scope, ctx);
    opsRoutes(scope, ctx);
    dashboardRoutes(scope);
    modelRoutes(scope, ctx);
  });
  return { app, hub, metrics };
}

/** The OpenAPI document's head; its paths come from the routes. */
function openApiInfo(version: string, authEnabled: boolean) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'power-control-model prediction service',
      version,
      description:
        'Forecasts of busy HPC nodes for the next minutes (P10/P50/P90), the power they draw and the warm pool to keep, from live telemetry. ' +
        (authEnabled ? 'Send `Authorization: Bearer <token>`.' : 'No token is configured on this instance.'),
    },
    components: { securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer' } } },
  };
}

/** How often Node looks for requests over Service.RequestTimeoutSeconds, ms (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;

/** Longest request URL (path and query string) accepted; the routes need a few dozen characters. */
const MAX_URL_CHARS = 2048;

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  data?: unknown;
  parentSchema?: { properties?: Record<string, unknown> };
}

/** Longest piece of the request echoed in an error message (field names, values). */
const ECHO_CHARS = 64;

/** A request value as shown in a message: JSON, non-finite numbers by name, cut to ECHO_CHARS. */
function shown(v: unknown): string {
  const s = typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}...(${s.length} chars)` : s;
}

/** A name or detail from the request as shown: control and line-separator characters escaped (one line), cut. */
function shownName(name: string): string {
  let s = '';
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    s +=
      c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029 ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}...(${s.length} chars)` : s;
}

/** An error as the API's answer: status and a one-line message naming the field. */
function describeError(
  err: FastifyError,
  bodyLimit?: number,
): { status: number; body: Record<string, unknown> } {
  if (err instanceof UnknownSeriesError)
    return { status: 404, body: { error: 'unknown_series', message: err.message } };
  if (err.validation) {
    const v = err.validation[0] as AjvError;
    const where = err.validationContext ?? 'body';
    let field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let reason = v.message ?? 'invalid';
    if (v.keyword === 'additionalProperties') {
      field = [field, String(v.params.additionalProperty)].filter(Boolean).join('.');
      const known = Object.keys(v.parentSchema?.properties ?? {});
      reason = known.length ? `unknown field, expected one of ${known.join(', ')}` : 'unknown field';
    } else if (v.keyword === 'required') {
      field = [field, String(v.params.missingProperty)].filter(Boolean).join('.');
      reason = 'required';
    } else if (v.data !== undefined && typeof v.data !== 'object') {
      reason = `${reason}, got ${shown(v.data)}`;
    } else if (v.data !== undefined) {
      reason = `${reason}, got ${v.data === null ? 'null' : Array.isArray(v.data) ? 'an array' : 'an object'}`;
    }
    const name = shownName(field || where);
    return { status: 400, body: { error: 'bad_request', field: name, message: `${name}: ${reason}` } };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: { error: 'bad_request', field: 'body', message: `body: ${jsonReason(err)}` },
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: {
          error: 'payload_too_large',
          field: 'body',
          message: `body: too large, expected at most ${bodyLimit ?? 'Service.BodyLimitBytes'} bytes (Service.BodyLimitBytes)`,
        },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: {
          error: 'unsupported_media_type',
          field: 'content-type',
          message: 'content-type: expected application/json',
        },
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        body: {
          error: 'bad_request',
          field: 'content-length',
          message: 'content-length: does not match the body, expected its length in bytes',
        },
      };
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        body: { error: 'bad_request', field: 'url', message: 'url: malformed, expected valid %-escapes' },
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        status: 414,
        body: {
          error: 'uri_too_long',
          field: 'url',
          message: 'url: a path segment is too long, expected at most 100 characters',
        },
      };
  }
  if (err.statusCode === 429)
    return { status: 429, body: { error: 'too_many_requests', message: err.message } };
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  // a 500 is a bug: its details (paths, internals) go to the log only
  if (status === 500)
    return { status, body: { error: 'internal', message: 'internal error (details in the service log)' } };
  return {
    status,
    body: { error: 'bad_request', field: 'request', message: `request: ${shownName(err.message)}` },
  };
}

function jsonReason(err: FastifyError): string {
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'empty, expected a JSON object';
  const detail = err.message
    .replace(/^Body is not valid JSON but content-type is set to 'application\/json'/, '')
    .trim();
  return `malformed JSON (${shownName(detail || 'parse error')}), expected a JSON object`;
}
