import type { FastifyInstance } from 'fastify';
import { readTrainingCurves } from '../../train/training-curves.js';
import { errorMessage } from '../../util/errors.js';
import type { ServiceContext } from '../context.js';
import { clientErrors, errorResponse, jsonResponse, otherResponse, readSecurity } from '../schemas.js';
import { guard } from './guard.js';

/**
 * GET /model/training-curves.svg: the served model's training curves (loss, validation MAE next to
 * persistence, learning rate per epoch), drawn once at start from the model directory's history.json; the
 * dashboard's model panel shows it. 404 with the reason when there are none (a baseline is served, or the
 * directory has no readable history).
 */
export function modelRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const m = ctx.hub.model;
  let svg: string | null = null;
  let reason = `the served model is the ${m.name} baseline: it has no training curves`;
  if (m.dir) {
    try {
      svg = readTrainingCurves(m.dir);
    } catch (e) {
      reason = `no training curves for the model in ${m.dir}: ${errorMessage(e)}`;
    }
  }
  const schema = {
    summary:
      "The served model's training curves (SVG): loss, validation MAE next to persistence, learning rate",
    ...readSecurity(ctx.auth),
    response: {
      200: otherResponse('The chart.', 'image/svg+xml'),
      404: jsonResponse(
        errorResponse,
        'No training curves: a baseline is served, or the model has no history.',
      ),
      ...clientErrors('missing or wrong bearer token (401, with RequireAuthForReads),'),
    },
  };
  app.get('/model/training-curves.svg', { onRequest: guard(ctx, 'read'), schema }, async (_req, reply) => {
    if (svg === null) return reply.code(404).send({ error: 'not_found', message: reason });
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(svg);
  });
}
