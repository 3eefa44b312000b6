/**
 * /openapi.json against the running service: every route Fastify has is in the document and nothing
 * else is, and real answers of every documented operation (200s, 3xx, 4xx, 503, with degraded quality,
 * anomalies, a fallback, auth, rate limit) match the documented status, media type and schema — both the
 * object a route sent (before serialisation, so nothing is silently dropped) and the bytes on the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import type { InjectOptions } from 'fastify';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { rowOfTimeline } from '../../src/telemetry/schema.js';
import { Clock, dailyTimeline, GatedReader, serviceOver, storeWith } from '../helpers/service-helpers.js';

const TOKEN = 'correct-horse-battery-staple';

type App = ReturnType<typeof serviceOver>['app'];

interface Seen {
  method: string;
  route: string;
  status: number;
  contentType: string;
  /** What the route sent, before serialisation (undefined for strings, buffers and empty answers). */
  sent: unknown;
  body: string;
}

/** Record every route as Fastify adds it, and every answer with the object it was made from. */
function watch(app: App) {
  const routes: string[] = [];
  const seen: Seen[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) if (m !== 'HEAD') routes.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  app.addHook('preSerialization', async (req, _reply, payload) => {
    (req as unknown as { sent: unknown }).sent = payload;
    return payload;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    seen.push({
      method: req.method,
      route: (req.routeOptions.url ?? '?').replace(/:(\w+)/g, '{$1}'),
      status: reply.statusCode,
      contentType: String(reply.getHeader('content-type') ?? ''),
      sent: (req as unknown as { sent?: unknown }).sent,
      body: typeof payload === 'string' ? payload : '',
    });
    return payload;
  });
  return { routes, seen };
}

const ajv = new Ajv({ strict: false, allErrors: true });
const compiled = new Map<string, ValidateFunction>();
function validate(schema: object, value: unknown): string | null {
  const k = JSON.stringify(schema);
  const v = compiled.get(k) ?? ajv.compile(schema);
  compiled.set(k, v);
  return v(value) ? null : ajv.errorsText(v.errors);
}

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

/** Check one answer against the document; returns the operation key it exercised. */
function check(doc: { paths: Record<string, Record<string, Operation>> }, s: Seen): string {
  const what = `${s.method} ${s.route} -> ${s.status}`;
  const op = doc.paths[s.route]?.[s.method.toLowerCase()];
  assert.ok(op, `${what}: operation not documented`);
  const res = op.responses[String(s.status)] ?? op.responses[`${String(s.status)[0]}XX`];
  assert.ok(res, `${what}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`);
  const media = s.contentType.split(';')[0].trim();
  if (!res.content) {
    assert.equal(s.body, '', `${what}: documented without a body`);
    return `${s.method} ${s.route}`;
  }
  const c = res.content[media];
  assert.ok(c, `${what}: media type ${media} not documented (${Object.keys(res.content).join(', ')})`);
  if (media === 'application/json') {
    const wire = validate(c.schema, JSON.parse(s.body));
    assert.equal(
      wire,
      null,
      `${what}: the answer does not match the schema: ${wire}\n${s.body.slice(0, 400)}`,
    );
    if (s.sent !== undefined && typeof s.sent === 'object') {
      const sent = validate(c.schema, JSON.parse(JSON.stringify(s.sent)));
      assert.equal(sent, null, `${what}: what the route sent does not match the schema: ${sent}`);
    }
  }
  return `${s.method} ${s.route}`;
}

async function run(app: App, reqs: InjectOptions[]) {
  for (const r of reqs) await app.inject(r);
}

const json = { 'content-type': 'application/json' };
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('/openapi.json', () => {
  it('documents every route and nothing else; real answers match it', async () => {
    const exercised = new Set<string>();
    let doc: { paths: Record<string, Record<string, Operation>> } | null = null;
    let routes: string[] = [];
    const all: Seen[] = [];

    // a healthy series, no token: the API's ordinary answers and its client errors
    {
      const { store, clock } = storeWith(dailyTimeline(3000));
      const { app } = serviceOver(store, clock, '  BodyLimitBytes: 200\n');
      const w = watch(app);
      await run(app, [
        { method: 'GET', url: '/health' },
        { method: 'POST', url: '/predict', payload: '{}', headers: json },
        {
          method: 'POST',
          url: '/predict',
          payload: '{"total_nodes": 500, "horizon_minutes": 7}',
          headers: json,
        },
        { method: 'POST', url: '/predict', payload: '{"total_nodes": "x"}', headers: json },
        { method: 'POST', url: '/predict', payload: '{"total_nodes": 3}', headers: json },
        { method: 'POST', url: '/predict', payload: '{"cluster": "nope"}', headers: json },
        { method: 'POST', url: '/predict', payload: '{"x', headers: json },
        { method: 'POST', url: '/predict', payload: 'x=1', headers: { 'content-type': 'text/plain' } },
        { method: 'POST', url: '/predict', payload: JSON.stringify({ p: 'x'.repeat(300) }), headers: json },
        { method: 'GET', url: `/forecast/latest?cluster=${'c'.repeat(3000)}` },
        { method: 'GET', url: '/forecast/latest' },
        { method: 'GET', url: '/forecast/latest?cluster=c&partition=_all' },
        { method: 'GET', url: '/forecast/latest?bogus=1' },
        { method: 'POST', url: '/admin/refresh' },
        { method: 'GET', url: '/health' },
        { method: 'GET', url: '/health/live' },
        { method: 'GET', url: '/metrics' },
        { method: 'GET', url: '/openapi.json' },
        { method: 'GET', url: '/' },
        { method: 'GET', url: '/dashboard' },
        { method: 'GET', url: '/dashboard/' },
        { method: 'GET', url: '/dashboard/app.js' },
        { method: 'GET', url: '/dashboard/style.css' },
        { method: 'GET', url: '/dashboard/index.html' },
        { method: 'GET', url: '/dashboard/nope.js' },
        { method: 'GET', url: '/vendor/uPlot.min.css' },
        { method: 'GET', url: '/vendor/uPlot.iife.min.js' },
        { method: 'GET', url: '/vendor/nope.js' },
      ]);
      routes = w.routes;
      doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      all.push(...w.seen);
    }
    assert.ok(doc);

    // every route Fastify has is documented, and nothing else is
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    assert.deepEqual([...documented].sort(), [...routes].sort());

    // a token: the full /health, the admin route, wrong tokens, reads guarded
    {
      const { store, clock } = storeWith(dailyTimeline(3000));
      const { app } = serviceOver(store, clock, '  RequireAuthForReads: true\n', { PCM_API_TOKEN: TOKEN });
      const w = watch(app);
      await run(app, [
        { method: 'GET', url: '/health', headers: bearer },
        { method: 'POST', url: '/admin/refresh', headers: bearer },
        { method: 'POST', url: '/admin/refresh?partition=nope', headers: bearer },
        { method: 'POST', url: '/admin/refresh', headers: { authorization: 'Bearer wrong' } },
        { method: 'GET', url: '/health', headers: bearer },
        { method: 'GET', url: '/health' },
        { method: 'GET', url: '/metrics' },
        { method: 'GET', url: '/metrics', headers: bearer },
        { method: 'GET', url: '/forecast/latest' },
        // a baseline is served here: no training curves (404); without the token, 401
        { method: 'GET', url: '/model/training-curves.svg', headers: bearer },
        { method: 'GET', url: '/model/training-curves.svg' },
      ]);
      all.push(...w.seen);
    }

    // degraded telemetry: gaps, an out-of-range point, a jump the anomaly check flags
    {
      const tl = dailyTimeline(3000);
      const clock = new Clock(tl.start + 60 * 2999 + 5);
      const store = new MemoryStore({ now: clock.now });
      for (let i = 0; i < 3000; i++) {
        if (i % 50 === 7) continue;
        const row = rowOfTimeline(tl, i, 'c', '_all');
        if (i === 2990) row.values.busy_nodes = 500;
        if (i >= 2992) row.values.busy_nodes = 5;
        store.writeSync([row]);
      }
      const { app } = serviceOver(store, clock, '', { PCM_API_TOKEN: TOKEN });
      const w = watch(app);
      await run(app, [
        { method: 'POST', url: '/predict', payload: '{}', headers: json },
        { method: 'GET', url: '/forecast/latest' },
        { method: 'GET', url: '/health', headers: bearer },
        { method: 'GET', url: '/metrics' },
      ]);
      const b = JSON.parse(w.seen[0].body);
      assert.equal(b.quality.verdict, 'degraded');
      assert.ok(b.quality.examples.length > 0, 'an example of a bad point');
      assert.ok(b.anomalies.series.flags.length > 0, 'an anomaly flag');
      all.push(...w.seen);
    }

    // no forecast: stale data (503 with the quality report), no data at all
    for (const store of ['stale', 'empty'] as const) {
      const { store: s, clock } =
        store === 'stale'
          ? storeWith(dailyTimeline(600), 20 * 60)
          : { store: new MemoryStore({ now: () => 1_800_000_000 }), clock: new Clock(1_800_000_000) };
      const { app } = serviceOver(s, clock, '', { PCM_API_TOKEN: TOKEN });
      const w = watch(app);
      await run(app, [
        { method: 'POST', url: '/predict', payload: '{}', headers: json },
        { method: 'GET', url: '/forecast/latest' },
        { method: 'POST', url: '/admin/refresh', headers: bearer },
        { method: 'GET', url: '/health' },
        { method: 'GET', url: '/health', headers: bearer },
      ]);
      assert.equal(w.seen[0].status, 503);
      all.push(...w.seen);
    }

    // telemetry fails after a good forecast: 503 telemetry_unavailable, or the flagged fallback forecast
    for (const fallback of [false, true]) {
      const { store, clock } = storeWith(dailyTimeline(3000));
      const reader = new GatedReader(store);
      const yaml = `  FallbackToBaseline: ${fallback}\n`;
      const { app } = serviceOver(reader, clock, yaml, { PCM_API_TOKEN: TOKEN });
      const w = watch(app);
      await run(app, [{ method: 'POST', url: '/predict', payload: '{}', headers: json }]);
      reader.fail = new Error('connection refused');
      await run(app, [
        { method: 'POST', url: '/admin/refresh', headers: bearer },
        { method: 'POST', url: '/predict', payload: '{}', headers: json },
        { method: 'GET', url: '/forecast/latest' },
        { method: 'GET', url: '/health', headers: bearer },
        { method: 'GET', url: '/metrics' },
      ]);
      assert.equal(w.seen.at(-4)?.status, fallback ? 200 : 503);
      all.push(...w.seen);
    }

    // the rate limit: 429 in the API's error shape
    {
      const { store, clock } = storeWith(dailyTimeline(600));
      const { app } = serviceOver(store, clock, '  RateLimit:\n    Max: 1\n');
      const w = watch(app);
      await run(app, [
        { method: 'GET', url: '/forecast/latest' },
        { method: 'GET', url: '/forecast/latest' },
        { method: 'POST', url: '/predict', payload: '{}', headers: json },
      ]);
      assert.equal(w.seen.at(-1)?.status, 429);
      all.push(...w.seen);
    }

    for (const s of all) exercised.add(check(doc, s));
    // every documented operation answered at least once
    assert.deepEqual([...exercised].sort(), [...documented].sort());
    const statuses = new Set(all.map((s) => s.status));
    for (const st of [200, 302, 400, 401, 403, 404, 413, 414, 415, 429, 503])
      assert.ok(statuses.has(st), `a ${st} was checked`);
  });

  it('the request schemas are the ones the routes validate with', async () => {
    const { store, clock } = storeWith(dailyTimeline(600));
    const { app } = serviceOver(store, clock, '  MaxNodes: 5000\n');
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    const body = doc.paths['/predict'].post.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.equal(body.properties.total_nodes.maximum, 5000);
    assert.equal(body.properties.horizon_minutes.maximum, 30);
    // the documented limit is the enforced one
    const over = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: '{"total_nodes": 5001}',
      headers: json,
    });
    assert.equal(over.statusCode, 400);
    assert.match(over.json().message, /total_nodes: must be <= 5000/);
    const q = doc.paths['/forecast/latest'].get.parameters.map((p: { name: string; in: string }) =>
      [p.in, p.name].join(':'),
    );
    assert.deepEqual(q.sort(), ['query:cluster', 'query:partition']);
    assert.deepEqual(doc.paths['/admin/refresh'].post.security, [{ bearer: [] }]);
    assert.equal(
      doc.paths['/predict'].post.security,
      undefined,
      'reads are open without RequireAuthForReads',
    );
  });
});
