import { z } from 'zod';
import type { BaselineName } from '../model/baselines/index.js';
import { LOG_LEVELS } from './logging.js';
import { seriesName } from './schemas.js';

/**
 * The prediction service's config section `Service`. Where it listens is the seed's `Predictor.URL`;
 * the forecast horizon and lookback are `Predictor.ForecastMinutes` / `LookbackMinutes`.
 */
/** The baselines `Service.Baseline` may name: a subset of the registry's names (the type checks it). */
const SERVED_BASELINES = ['ridge', 'persistence', 'seasonal_day'] as const satisfies readonly BaselineName[];

export const ServiceSchema = z
  .strictObject({
    /** Bearer token for state-changing endpoints (and reads when RequireAuthForReads); env PCM_API_TOKEN. */
    ApiToken: z.string().min(16, 'expected at least 16 characters').optional(),
    /** Require the token on reads (/predict, /forecast/latest, /metrics) too; /health stays open. */
    RequireAuthForReads: z.boolean().default(false),
    /** Service log level (JSON lines on stdout, for journald); `pcm serve --log` adds a line per request. */
    LogLevel: z.enum(LOG_LEVELS).default('info'),
    /** A client must send its whole request (headers and body) within this: else 408 and the connection closed, so a client trickling bytes cannot hold it. */
    RequestTimeoutSeconds: z.number().positive().max(3600).default(30),
    /** A connection idle this long is closed (Fastify connectionTimeout; Node's default is never). */
    IdleTimeoutSeconds: z.number().positive().max(3600).default(120),
    /** Keep-alive: longer than the reverse proxy's upstream idle timeout (nginx keepalive_timeout 60 s), so the proxy closes first. */
    KeepAliveTimeoutSeconds: z.number().positive().max(3600).default(65),
    /** Trust X-Forwarded-* from this proxy: false (default, direct clients), true (any), or addresses/CIDRs ("127.0.0.1", "10.0.0.0/8"). */
    TrustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
    /** Optional per-client rate limit (by address; behind a proxy set TrustProxy): Max requests per WindowSeconds, then 429 + Retry-After. /health is exempt. */
    RateLimit: z
      .strictObject({
        Max: z.number().int().positive(),
        WindowSeconds: z.number().positive().max(86_400).default(60),
      })
      .optional(),
    /** Largest request body accepted, bytes (413 above). */
    BodyLimitBytes: z.number().int().min(64).max(10_485_760).default(16_384),
    /** Largest node count a request may name (400 above). */
    MaxNodes: z.number().int().positive().max(10_000_000).default(1_000_000),
    /** Background refresh: re-read telemetry (and recompute on a new minute) this often, seconds. */
    RefreshSeconds: z.number().positive().max(3600).default(5),
    /** Seconds after a minute starts before its row is expected (collector latency): the forecast for minute m is made at m + this, so a row still on its way is not reported missing. */
    IngestGraceSeconds: z.number().nonnegative().max(300).default(20),
    /** The last telemetry point older than this -> stale -> no forecast (503). */
    StaleAfterMinutes: z.number().int().positive().max(10_080).default(5),
    /** Gaps up to this many minutes are forward-filled from the last point (and reported). */
    MaxFillMinutes: z.number().int().nonnegative().max(1440).default(5),
    /** More than this fraction of the history missing -> no forecast (503). */
    MaxMissingFraction: z.number().min(0).max(1).default(0.1),
    /** Cold start: with less history than this (minutes) there is no forecast; between this and the lookback the forecast is made from what there is and flagged. */
    MinHistoryMinutes: z.number().int().positive().max(10_080).default(30),
    /** Minutes of history read per forecast (model input: lags, same time yesterday); at least the lookback. */
    ContextMinutes: z.number().int().positive().max(40_320).default(2880),
    /** Baseline served until the trained model plugs in: ridge (refit on the recent history), persistence or seasonal_day. */
    Baseline: z.enum(SERVED_BASELINES).default('ridge'),
    /** Refit the baseline on the latest history this often (minutes of telemetry time). */
    RefitMinutes: z.number().int().positive().max(10_080).default(60),
    /** When telemetry cannot be read, answer /predict with a flagged persistence forecast from the last good data instead of 503. */
    FallbackToBaseline: z.boolean().default(false),
    /** With an InfluxDB: write each minute's forecast into it (measurements pcm_forecast, pcm_warm_pool; docs/telemetry.md). */
    WriteForecasts: z.boolean().default(true),
    /** Series served (cluster, partition); default: Cluster.Name, partition `_all`. */
    Series: z
      .array(z.strictObject({ Cluster: seriesName, Partition: seriesName.default('_all') }))
      .max(256)
      .optional(),
  })
  .prefault({});

export type ServiceConfig = z.infer<typeof ServiceSchema>;
