import type { FastifyInstance } from 'fastify';
import { type ServiceContext, seriesOf } from '../context.js';
import { forecastView, historyView, type ViewOptions } from '../forecast-view.js';
import {
  forecastErrors,
  forecastResponse,
  jsonResponse,
  jsonSchema,
  latestResponse,
  readSecurity,
  seriesQuery,
} from '../schemas.js';
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
        summary: 'The latest cached forecast of a series, with the recent history (the dashboard reads this)',
        ...readSecurity(ctx.auth),
        querystring: jsonSchema(seriesQuery, 'input'),
        response: {
          200: jsonResponse(latestResponse, 'The forecast and the busy history.'),
          ...forecastErrors(),
        },
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
        summary: 'Recompute the forecast of a series now (needs the token)',
        security: [{ bearer: [] }],
        querystring: jsonSchema(seriesQuery, 'input'),
        response: {
          200: jsonResponse(forecastResponse, 'The new forecast.'),
          ...forecastErrors(),
        },
      },
    },
    async (req, reply) => {
      const id = seriesOf(ctx, req.query);
      await ctx.hub.refresh(id);
      return send(reply, forecastView(await ctx.hub.get(id), opts()));
    },
  );
}
