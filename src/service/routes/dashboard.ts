import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clientErrors, errorResponse, jsonResponse, jsonSchema, otherResponse } from '../schemas.js';

/**
 * The dashboard: three static files (index.html, app.js, style.css) and uPlot from its npm package,
 * read once at start and served from memory (no CDN, no static-file plugin). `/` redirects to it.
 */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** src/service/dashboard (tsx, tests) or dist/service/dashboard (when the build copies it). */
function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', 'dashboard'),
    join(here, '..', '..', '..', 'src', 'service', 'dashboard'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard files not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function dashboardRoutes(app: FastifyInstance): void {
  const dir = dashboardDir();
  const req = createRequire(import.meta.url);
  const uplotDir = dirname(req.resolve('uplot/package.json'));
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const [name, type] of Object.entries(FILES))
    assets.set(name, { type, body: readFileSync(join(dir, name)) });
  const vendor = new Map<string, { type: string; body: Buffer }>([
    [
      'uPlot.iife.min.js',
      { type: FILES['app.js'], body: readFileSync(join(uplotDir, 'dist', 'uPlot.iife.min.js')) },
    ],
    [
      'uPlot.min.css',
      { type: FILES['style.css'], body: readFileSync(join(uplotDir, 'dist', 'uPlot.min.css')) },
    ],
  ]);
  const serve = (m: Map<string, { type: string; body: Buffer }>) => {
    return async (r: { params: { file: string } }, reply: import('fastify').FastifyReply) => {
      const a = m.get(r.params.file);
      if (!a) return reply.code(404).send({ error: 'not_found', message: `no such file: ${r.params.file}` });
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    };
  };
  const redirect = {
    schema: {
      summary: 'Redirect to the dashboard',
      response: { 302: otherResponse('To /dashboard/.'), ...clientErrors() },
    },
  };
  const file = (summary: string, ...types: string[]) => ({
    schema: {
      summary,
      params: jsonSchema(z.strictObject({ file: z.string() }), 'input'),
      response: {
        200: otherResponse('The file.', ...types),
        404: jsonResponse(errorResponse, 'No such file.'),
        ...clientErrors(),
      },
    },
  });
  app.get('/', redirect, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard', redirect, async (_req, reply) => reply.redirect('/dashboard/'));
  const page = {
    schema: {
      summary: 'The dashboard',
      response: { 200: otherResponse('The page.', 'text/html'), ...clientErrors() },
    },
  };
  app.get('/dashboard/', page, async (_req, reply) => {
    const a = assets.get('index.html')!;
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });
  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    file('A file of the dashboard', 'text/html', 'text/javascript', 'text/css'),
    serve(assets),
  );
  app.get<{ Params: { file: string } }>(
    '/vendor/:file',
    file('uPlot, from its npm package', 'text/javascript', 'text/css'),
    serve(vendor),
  );
}
