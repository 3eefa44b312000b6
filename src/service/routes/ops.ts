import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../context.js';
import { healthReport, publicHealth, seriesGauges } from '../health.js';
import {
  clientErrors,
  type HealthBody,
  healthResponse,
  jsonResponse,
  liveResponse,
  otherResponse,
  readSecurity,
} from '../schemas.js';
import { guard } from './guard.js';

/** GET /health (readiness; 503 when not ready), /health/live, /metrics (Prometheus), /openapi.json. */
export function opsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness and readiness: model loaded, telemetry fresh, InfluxDB reachable',
        description:
          'Open to all; the details (reasons in words, the telemetry endpoint, per-series state) only with the token.',
        response: {
          200: jsonResponse(healthResponse, 'Ready (status ok or degraded).'),
          503: jsonResponse(healthResponse, 'Not ready: no series has a forecast to serve.'),
          ...clientErrors(),
        },
      },
    },
    async (req, reply) => {
      const h = healthReport(ctx.hub, ctx.backend, ctx.clock, ctx.startedAt);
      // details (endpoint, error text) only with the token; without it status and reason codes
      const full = ctx.auth.check(req.headers.authorization) === 'ok';
      const { codes, ...details } = h;
      const body: HealthBody = full ? details : publicHealth(h, ctx.backend.kind);
      return reply.code(h.ready ? 200 : 503).send(body);
    },
  );
  app.get(
    '/health/live',
    {
      schema: {
        summary: 'Liveness only: the process answers',
        response: { 200: jsonResponse(liveResponse, 'Alive.'), ...clientErrors() },
      },
    },
    async () => ({ live: true }),
  );
  app.get(
    '/metrics',
    {
      onRequest: guard(ctx, 'read'),
      schema: {
        summary: 'Prometheus metrics (text exposition 0.0.4): requests, computes, forecasts, process',
        ...readSecurity(ctx.auth),
        response: {
          200: otherResponse('The metrics.', 'text/plain'),
          ...clientErrors('missing or wrong bearer token (401, with RequireAuthForReads),'),
        },
      },
    },
    async (_req, reply) => {
      const text = await ctx.metrics.render(seriesGauges(ctx.hub, ctx.clock, ctx.config.Power));
      return reply.type(ctx.metrics.contentType).send(text);
    },
  );
  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This document (OpenAPI 3.1), generated from the routes’ schemas',
        response: {
          200: { description: 'The OpenAPI document.', type: 'object', additionalProperties: true },
        },
      },
    },
    async () => app.swagger(),
  );
}
