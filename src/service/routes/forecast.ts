import type { FastifyInstance } from 'fastify';
import { type ServiceContext, seriesOf } from '../context.js';
import { forecastView, historyView, type ViewOptions } from '../forecast-view.js';
import { errorSchema, forecastResponseSchema, latestResponseSchema, seriesQuerySchema } from '../schemas.js';
import { guard } from './guard.js';
import { send } from './send.js';

interface SeriesQuery {
  cluster?: string;
  partition?: string;
}

/** GET /forecast/latest (the dashboard's feed) and POST /admin/refresh (recompute now; needs the token). */
export function forecastRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const opts = (): ViewOptions => ({
    power: ctx.config.Power,
    fallbackToBaseline: ctx.config.Service.FallbackToBaseline,
    now: ctx.clock(),
    retryAfterS: Math.ceil(ctx.config.Service.RefreshSeconds),
  });
  app.get<{ Querystring: SeriesQuery }>(
    '/forecast/latest',
    {
      onRequest: guard(ctx, 'read'),
      schema: {
        querystring: seriesQuerySchema,
        response: { 200: latestResponseSchema, '4xx': errorSchema, 503: errorSchema },
      },
    },
    async (req, reply) => {
      const r = await ctx.hub.get(seriesOf(ctx, req.query));
      return send(reply, forecastView(r, opts()), { history: historyView(r.snap) });
    },
  );
  app.post<{ Querystring: SeriesQuery }>(
    '/admin/refresh',
    {
      onRequest: guard(ctx, 'write'),
      schema: {
        querystring: seriesQuerySchema,
        response: { 200: forecastResponseSchema, '4xx': errorSchema, 503: errorSchema },
      },
    },
    async (req, reply) => {
      const id = seriesOf(ctx, req.query);
      await ctx.hub.refresh(id);
      return send(reply, forecastView(await ctx.hub.get(id), opts()));
    },
  );
}
