/**
 * The HTTP API through Fastify's inject (no network): strict validation with the field and reason,
 * response shape, auth, body limit, /health, /metrics (/openapi.json: service-openapi.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dailyTimeline, serviceOver, storeWith } from '../helpers/service-helpers.js';

const TOKEN = 'correct-horse-battery-staple';

function service(yaml = '', env: NodeJS.ProcessEnv = {}) {
  const { store, clock } = storeWith(dailyTimeline(3000));
  return { clock, ...serviceOver(store, clock, yaml, env) };
}

const post = (
  app: ReturnType<typeof service>['app'],
  payload: string,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/predict',
    payload,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('POST /predict validation', () => {
  const { app } = service();
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['malformed JSON', '{"total_nodes": 12', 400, 'body', /malformed JSON/],
    ['empty body', '', 400, 'body', /empty/],
    ['a JSON array', '[120]', 400, 'body', /must be object/],
    ['a string for a number', '{"total_nodes": "120"}', 400, 'total_nodes', /must be integer, got "120"/],
    ['a fraction', '{"total_nodes": 12.5}', 400, 'total_nodes', /must be integer, got 12.5/],
    ['negative nodes', '{"total_nodes": -4}', 400, 'total_nodes', /must be >= 1, got -4/],
    ['zero nodes', '{"total_nodes": 0}', 400, 'total_nodes', /must be >= 1, got 0/],
    ['absurd nodes', '{"total_nodes": 1e15}', 400, 'total_nodes', /must be <= 1000000/],
    ['null nodes', '{"total_nodes": null}', 400, 'total_nodes', /must be integer, got null/],
    ['an unknown field', '{"total_nodes": 120, "nodes": 3}', 400, 'nodes', /unknown field/],
    ['a bad cluster name', '{"cluster": "a b"}', 400, 'cluster', /must match pattern/],
    ['a horizon too long', '{"horizon_minutes": 31}', 400, 'horizon_minutes', /must be <= 30, got 31/],
    [
      'fewer nodes than busy now',
      '{"total_nodes": 3}',
      400,
      'total_nodes',
      /3 is less than the \d+ nodes busy now in c\/_all/,
    ],
  ];
  for (const [what, body, status, field, msg] of cases) {
    it(`rejects ${what} with ${status} naming ${field}`, async () => {
      const r = await post(app, body);
      assert.equal(r.statusCode, status, r.body);
      const b = r.json();
      assert.equal(b.field, field);
      assert.match(b.message, msg);
      assert.ok(b.message.startsWith(`${field}: `), b.message);
    });
  }

  it('rejects a prototype-pollution body', async () => {
    const r = await post(app, '{"__proto__": {"x": 1}, "total_nodes": 120}');
    assert.equal(r.statusCode, 400);
  });

  it('rejects a non-JSON content type with 415', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: 'total_nodes=120',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(r.statusCode, 415);
    assert.equal(r.json().field, 'content-type');
  });

  it('rejects a body over Service.BodyLimitBytes with 413', async () => {
    const { app: small } = service('  BodyLimitBytes: 100\n');
    const r = await post(small, JSON.stringify({ total_nodes: 120, pad: 'x'.repeat(200) }));
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().error, 'payload_too_large');
  });

  it('answers 404 with the served series for an unknown cluster', async () => {
    const r = await post(app, '{"cluster": "other"}');
    assert.equal(r.statusCode, 404);
    assert.match(r.json().message, /unknown series other\/_all; served: c\/_all/);
  });

  it('answers 404 as JSON for unknown routes', async () => {
    const r = await app.inject({ method: 'GET', url: '/nope' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error, 'not_found');
  });
});

describe('POST /predict answer', () => {
  it('has per-minute P10/P50/P90, timestamps, power, warm pool, quality and model', async () => {
    const { app, clock } = service();
    const r = await post(app, '{"total_nodes": 120}');
    assert.equal(r.statusCode, 200, r.body);
    const b = r.json();
    for (const k of ['timestamps', 'p50', 'p10', 'p90', 'power_kw', 'warm_pool', 'quality', 'model'])
      assert.ok(k in b, `missing ${k}`);
    assert.equal(b.timestamps.length, 30);
    const origin = Math.floor(clock.t / 60) * 60;
    assert.equal(b.origin, new Date(origin * 1000).toISOString());
    assert.equal(b.timestamps[0], new Date((origin + 60) * 1000).toISOString());
    assert.equal(b.timestamps[29], new Date((origin + 1800) * 1000).toISOString());
    for (let h = 0; h < 30; h++) {
      assert.ok(b.p10[h] <= b.p50[h] && b.p50[h] <= b.p90[h], `band order at ${h}`);
      assert.ok(b.p90[h] <= 120 && b.p10[h] >= 0);
      assert.ok(b.power_kw[h] > 0);
    }
    assert.equal(b.model.name, 'persistence');
    assert.equal(b.model.banded, true);
    assert.equal(b.quality.verdict, 'ok');
    assert.deepEqual(b.capacity, { nodes: 120, source: 'request', telemetry: 120 });
    assert.ok(b.warm_pool.nodes >= 2, 'at least the margin');
    assert.equal(b.forecast.stale, false);
  });

  it('honours horizon_minutes and uses total_nodes as the capacity of the answer', async () => {
    const { app } = service();
    const b = (await post(app, '{"total_nodes": 200, "horizon_minutes": 5}')).json();
    assert.equal(b.p50.length, 5);
    assert.equal(b.power_kw.length, 5);
    assert.equal(b.capacity.nodes, 200);
    // 80 more nodes than the telemetry's 120: they are off (10 W each) or idle under the policy
    const { app: a2 } = service();
    const b120 = (await post(a2, '{"total_nodes": 120, "horizon_minutes": 5}')).json();
    assert.ok(Math.abs(b.power_kw[0] - b120.power_kw[0] - 80 * 0.01) < 1e-6);
  });

  it('defaults to the telemetry capacity without total_nodes (seed body optional)', async () => {
    const { app } = service();
    const b = (await post(app, '{}')).json();
    assert.deepEqual(b.capacity, { nodes: 120, source: 'telemetry', telemetry: 120 });
  });
});

describe('auth', () => {
  it('POST /admin/refresh is disabled without a token and needs it with one', async () => {
    const { app } = service();
    assert.equal((await app.inject({ method: 'POST', url: '/admin/refresh' })).statusCode, 403);
    const { app: a2 } = service('', { PCM_API_TOKEN: TOKEN });
    assert.equal((await a2.inject({ method: 'POST', url: '/admin/refresh' })).statusCode, 401);
    const wrong = await a2.inject({
      method: 'POST',
      url: '/admin/refresh',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().message, 'wrong bearer token');
    const ok = await a2.inject({
      method: 'POST',
      url: '/admin/refresh',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    // reads stay open unless RequireAuthForReads
    assert.equal((await post(a2, '{}')).statusCode, 200);
  });

  it('RequireAuthForReads guards reads before the body is parsed; /health stays open', async () => {
    const { app } = service(`  ApiToken: ${TOKEN}\n  RequireAuthForReads: true\n`);
    const r = await post(app, '{not json');
    assert.equal(r.statusCode, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    assert.equal((await post(app, '{}', { authorization: `bearer ${TOKEN}` })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/forecast/latest' })).statusCode, 401);
    assert.notEqual((await app.inject({ method: 'GET', url: '/health' })).statusCode, 401);
  });
});

describe('ops endpoints', () => {
  it('GET /health is not ready before the first forecast, ready and ok after', async () => {
    const { app } = service();
    const before = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(before.statusCode, 503);
    assert.equal(before.json().ready, false);
    await post(app, '{}');
    const h = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(h.statusCode, 200);
    const b = h.json();
    assert.equal(b.status, 'ok');
    assert.deepEqual(b.checks, {
      model_loaded: true,
      telemetry_fresh: true,
      telemetry_backend: 'memory',
      influx_reachable: null,
    });
    assert.equal(b.series[0].status, 'ok');
  });

  it('GET /health: reasons by code only without the token; the details with it (issue 15)', async () => {
    const { app } = service('', { PCM_API_TOKEN: TOKEN });
    const open = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(open.statusCode, 503);
    assert.deepEqual(open.json().reasons, ['c/_all:no_forecast_yet']);
    assert.equal(open.json().checks.telemetry_backend, 'memory');
    assert.deepEqual(Object.keys(open.json().series[0]).sort(), ['cluster', 'partition', 'status']);
    const authed = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.deepEqual(authed.json().reasons, ['c/_all: no forecast computed yet']);
    assert.equal(authed.json().checks.telemetry_backend, 'embedded memory store');
    assert.equal(authed.json().codes, undefined);
    // a wrong token is not an error on /health: it just gets the public view
    const wrong = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { authorization: 'Bearer nope' },
    });
    assert.deepEqual(wrong.json().reasons, ['c/_all:no_forecast_yet']);
  });

  it('GET /metrics counts requests by route and status, and reports forecast age', async () => {
    const { app } = service();
    await post(app, '{}');
    await post(app, '{"total_nodes": -1}');
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(m, /^pcm_http_requests_total\{method="POST",route="\/predict",status="200"\} 1$/m);
    assert.match(m, /^pcm_http_requests_total\{method="POST",route="\/predict",status="400"\} 1$/m);
    assert.match(m, /^pcm_http_request_duration_seconds_count\{method="POST",route="\/predict"\} 2$/m);
    assert.match(m, /^pcm_forecast_computes_total\{cluster="c",partition="_all",status="ok"\} 1$/m);
    assert.match(m, /^pcm_forecast_age_seconds\{cluster="c",partition="_all"\} \d/m);
    assert.match(m, /^pcm_quality_verdicts_total\{cluster="c",partition="_all",verdict="ok"\} 1$/m);
    // Node's process metrics, under their standard names
    for (const name of [
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
    ])
      assert.match(m, new RegExp(`^${name} \\d`, 'm'), name);
    assert.match(m, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });

  it('GET /metrics: the latest forecast as gauges, equal to what /predict answers', async () => {
    const { app } = service();
    const p = (await post(app, '{}')).json();
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const gauge = (name: string) => {
      const g = m.match(new RegExp(`^${name}\\{cluster="c",partition="_all"\\} (\\S+)$`, 'm'));
      assert.ok(g, name);
      return Number(g[1]);
    };
    assert.equal(gauge('pcm_forecast_p50_peak_busy_nodes'), Math.max(...p.p50));
    assert.equal(gauge('pcm_forecast_p90_peak_busy_nodes'), Math.max(...p.p90));
    assert.equal(gauge('pcm_warm_pool_nodes'), p.warm_pool.nodes);
    assert.equal(gauge('pcm_forecast_available'), 1);
    assert.ok(Math.max(...p.p90) > Math.max(...p.p50), 'a band to tell the two gauges apart');
  });

  it('GET /metrics before the first forecast: no forecast gauges, available 0', async () => {
    const { app } = service();
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(m, /^pcm_forecast_available\{cluster="c",partition="_all"\} 0$/m);
    assert.doesNotMatch(m, /^pcm_forecast_p50_peak_busy_nodes\{/m);
    assert.doesNotMatch(m, /^pcm_warm_pool_nodes\{/m);
  });

  it('GET /forecast/latest adds the busy history of the lookback', async () => {
    const { app } = service();
    const b = (await app.inject({ method: 'GET', url: '/forecast/latest?cluster=c&partition=_all' })).json();
    assert.equal(b.history.busy.length, 240);
    assert.equal(b.history.step_s, 60);
    assert.equal(b.p50.length, 30);
  });

  it('serves the dashboard and uPlot from the package', async () => {
    const { app } = service();
    const r = await app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 302);
    const page = await app.inject({ method: 'GET', url: '/dashboard/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const u = await app.inject({ method: 'GET', url: '/vendor/uPlot.iife.min.js' });
    assert.equal(u.statusCode, 200);
    assert.ok(u.body.length > 10_000);
    assert.equal((await app.inject({ method: 'GET', url: '/dashboard/..%2Fapp.ts' })).statusCode, 404);
  });
});
