import type { FastifyInstance } from 'fastify';
import { type ServiceContext, seriesOf } from '../context.js';
import { forecastView } from '../forecast-view.js';
import {
  forecastErrors,
  forecastResponse,
  jsonResponse,
  jsonSchema,
  predictBody,
  readSecurity,
} from '../schemas.js';
import { guard } from './guard.js';
import { send } from './send.js';

interface PredictBody {
  total_nodes?: number;
  cluster?: string;
  partition?: string;
  horizon_minutes?: number;
}

/** POST /predict: the cached forecast of a series for the request's capacity and horizon. */
export function predictRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const limits = { maxNodes: ctx.config.Service.MaxNodes, horizon: ctx.config.Predictor.ForecastMinutes };
  app.post<{ Body: PredictBody }>(
    '/predict',
    {
      onRequest: guard(ctx, 'read'),
      schema: {
        summary: 'Forecast busy nodes, power and warm pool for one series',
        ...readSecurity(ctx.auth),
        body: jsonSchema(predictBody(limits), 'input'),
        response: {
          200: jsonResponse(forecastResponse, 'The forecast.'),
          ...forecastErrors(),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const r = await ctx.hub.get(seriesOf(ctx, b));
      return send(
        reply,
        forecastView(r, {
          power: ctx.config.Power,
          totalNodes: b.total_nodes,
          horizon: b.horizon_minutes,
          fallbackToBaseline: ctx.config.Service.FallbackToBaseline,
          now: ctx.clock(),
          retryAfterS: Math.ceil(ctx.config.Service.RefreshSeconds),
        }),
      );
    },
  );
}
