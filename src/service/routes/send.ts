import type { FastifyReply } from 'fastify';
import type { View } from '../forecast-view.js';

/** Send a view: its status, its body, and Retry-After on a 503. */
export function send(reply: FastifyReply, v: View, extra?: Record<string, unknown>): FastifyReply {
  reply.code(v.status);
  if (v.status === 503 && v.retryAfterS) reply.header('retry-after', String(v.retryAfterS));
  return reply.send(extra && v.status === 200 ? { ...v.body, ...extra } : v.body);
}
