import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../context.js';

/**
 * onRequest hook enforcing the bearer token before the body is read: `write` routes always need it
 * (403 when no token is configured), `read` routes only with RequireAuthForReads.
 */
export function guard(ctx: ServiceContext, kind: 'read' | 'write') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (kind === 'read' && !ctx.auth.requireForReads) return;
    const r = ctx.auth.check(req.headers.authorization);
    if (r === 'ok') return;
    if (r === 'unconfigured') {
      // reads get here only with RequireAuthForReads and no token, which authFromConfig refuses at start:
      // closed all the same
      await reply.code(403).send({
        error: 'forbidden',
        message: `this endpoint ${kind === 'write' ? 'changes state' : 'is guarded'} and needs a token: set Service.ApiToken or PCM_API_TOKEN`,
      });
      return;
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({
        error: 'unauthorized',
        message: r === 'missing' ? 'Authorization: Bearer <token> required' : 'wrong bearer token',
      });
  };
}
