import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../context.js';
import { healthReport, publicHealth, seriesGauges } from '../health.js';
import { healthSchema, openApiDocument } from '../schemas.js';
import { guard } from './guard.js';

/** GET /health (readiness; 503 when not ready), /health/live, /metrics (Prometheus), /openapi.json. */
export function opsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get(
    '/health',
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
    async (req, reply) => {
      const h = healthReport(ctx.hub, ctx.backend, ctx.clock, ctx.startedAt);
      // details (endpoint, error text) only with the token; without it status and reason codes
      const full = ctx.auth.check(req.headers.authorization) === 'ok';
      const { codes, ...details } = h;
      return reply.code(h.ready ? 200 : 503).send(full ? details : publicHealth(h, ctx.backend.kind));
    },
  );
  app.get('/health/live', async () => ({ live: true }));
  app.get('/metrics', { onRequest: guard(ctx, 'read') }, async (_req, reply) =>
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(ctx.metrics.render(seriesGauges(ctx.hub, ctx.clock))),
  );
  const doc = JSON.stringify(
    openApiDocument(
      { maxNodes: ctx.config.Service.MaxNodes, horizon: ctx.config.Predictor.ForecastMinutes },
      ctx.version,
      ctx.auth.enabled,
    ),
  );
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
}
