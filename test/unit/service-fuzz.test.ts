/**
 * The HTTP API under fuzzing, through Fastify's inject with the embedded memory store (no network):
 * thousands of generated `/predict` bodies (random JSON, wrong types, huge and non-finite numbers,
 * NaN-like strings, deep nesting, big arrays, unknown keys, non-JSON bytes, wrong content types, bodies
 * over the limit) and query strings / paths of the GET routes. Every answer must be a clean one: no 5xx
 * but a 503 with a reason when there is no data, every 400 naming the field and what was expected, and
 * each request done within the fuzz bound (a hang guard, not a speed test).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { boundedAsync } from '../helpers/fuzz.js';
import { Clock, dailyTimeline, serviceOver, storeWith } from '../helpers/service-helpers.js';

type Inject = (req: Req) => Promise<LightMyRequestResponse>;
interface Req {
  method: 'GET' | 'POST';
  url: string;
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

const BODY_LIMIT = 4096;
/** Statuses a well-formed or malformed request may get; anything else (a 5xx but 503) is a bug. */
const ALLOWED = new Set([200, 302, 400, 401, 403, 404, 413, 414, 415, 503]);

/** A service over 3000 minutes of a daily cycle, or (`empty`) over a store with no data. */
function service(empty = false) {
  if (empty) {
    const clock = new Clock(Date.UTC(2026, 0, 5) / 1000);
    return serviceOver(new MemoryStore({ now: clock.now }), clock, `  BodyLimitBytes: ${BODY_LIMIT}\n`);
  }
  const { store, clock } = storeWith(dailyTimeline(3000));
  return serviceOver(store, clock, `  BodyLimitBytes: ${BODY_LIMIT}\n`);
}

/** Send one request and check the answer is a clean one; returns status and parsed body. */
async function check(inject: Inject, req: Req): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await boundedAsync(req, () => inject(req));
  const what = `${req.method} ${req.url.slice(0, 120)} ${String(req.payload ?? '').slice(0, 120)} -> ${r.statusCode} ${r.body.slice(0, 300)}`;
  assert.ok(ALLOWED.has(r.statusCode), `unexpected status: ${what}`);
  if (r.statusCode === 302) return { status: 302, body: {} };
  const type = String(r.headers['content-type'] ?? '');
  let body: Record<string, unknown> = {};
  if (type.startsWith('application/json')) body = r.json();
  if (r.statusCode === 503 && req.url.startsWith('/health')) {
    // readiness: not ready, with the reasons
    assert.equal(body.ready, false, what);
    assert.ok(Array.isArray(body.reasons) && (body.reasons as string[]).length > 0, what);
    return { status: 503, body };
  }
  if (r.statusCode >= 400) {
    assert.ok(type.startsWith('application/json'), `error not JSON: ${what}`);
    assert.equal(typeof body.error, 'string', what);
    assert.equal(typeof body.message, 'string', what);
    const msg = body.message as string;
    assert.ok(msg.length > 0 && msg.length < 600, `message empty or too long: ${what}`);
    assert.ok(!/[\n\r]/.test(msg), `message has a line break: ${what}`);
    assert.doesNotMatch(msg, /\bat .*\.(ts|js):\d+|internal error/, what);
  }
  if (r.statusCode === 400 || r.statusCode === 413 || r.statusCode === 414 || r.statusCode === 415) {
    // names the field and what was expected
    assert.equal(typeof body.field, 'string', `no field: ${what}`);
    const field = body.field as string;
    assert.ok(field.length > 0 && field.length < 200, what);
    assert.ok(
      (body.message as string).startsWith(`${field}: `),
      `message does not start with the field: ${what}`,
    );
    assert.match(body.message as string, /expected|must|required/, `does not say what was expected: ${what}`);
  }
  if (r.statusCode === 503) {
    assert.ok(['no_forecast', 'telemetry_unavailable'].includes(body.error as string), what);
    assert.ok(r.headers['retry-after'], `503 without Retry-After: ${what}`);
  }
  if (r.statusCode === 200 && req.url.startsWith('/predict')) {
    assert.ok(Array.isArray(body.p50) && (body.p50 as number[]).length >= 1, what);
  }
  return { status: r.statusCode, body };
}

const json = { 'content-type': 'application/json' };
const post = (payload: string | Buffer, headers: Record<string, string> = json): Req => ({
  method: 'POST',
  url: '/predict',
  payload,
  headers,
});

const KEYS = ['total_nodes', 'cluster', 'partition', 'horizon_minutes'];
/** Values that are wrong in interesting ways (or right). */
const nasty = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.integer({ min: 1, max: 200 }),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    1,
    30,
    31,
    120,
    1_000_000,
    1_000_001,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 1,
    1e308,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '0x10',
    '120',
    ' 120',
    '',
    'c',
    '_all',
    '../..',
    'a b',
    '\u0000',
    '\ud800',
    'x'.repeat(129),
    null,
    true,
    false,
    [],
    {},
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);
/** An object with some of the known keys (and sometimes unknown ones) holding nasty values. */
const predictObject = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...KEYS), nasty, { maxKeys: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'nodes'),
      ),
      nasty,
      { maxKeys: 2 },
    ),
    fc.boolean(),
  )
  .map(([known, unknown, withUnknown]) => (withUnknown ? { ...unknown, ...known } : known));

/** Raw JSON text with numbers JSON.stringify cannot produce (1e400, -0.0, 1.0, long digit runs). */
const rawNumber = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1.0',
    '120.0',
    '-0',
    '1E2',
    '0.0000001e9',
    `1${'0'.repeat(400)}`,
    '120e-0',
  ),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
);

/** Deeply nested arrays/objects: `[[[[...]]]]`, `{"a":{"a":...}}`, also as a field value. */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean(), fc.boolean())
  .map(([d, arr, inField]) => {
    const inner = arr ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    return inField ? `{"total_nodes":${inner}}` : inner;
  });

describe('POST /predict under fuzzing', () => {
  const { app } = service();
  const inject = (r: Req) => app.inject(r);

  it('objects with known keys holding wrong types, huge numbers, NaN-like strings, unknown keys (3000 bodies)', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(predictObject, async (o) => {
        const { status, body } = await check(inject, post(JSON.stringify(o)));
        seen.set(status, (seen.get(status) ?? 0) + 1);
        if (status === 404) assert.match(body.message as string, /unknown series/);
        if (status === 200) {
          // a 200 means every field was valid
          for (const k of Object.keys(o)) assert.ok(KEYS.includes(k), `accepted unknown key ${k}`);
          if ('total_nodes' in o) assert.equal((body.capacity as { nodes: number }).nodes, o.total_nodes);
        }
      }),
      { numRuns: 3000 },
    );
    // the generator reaches both sides: answers and rejections
    assert.ok((seen.get(200) ?? 0) > 10 && (seen.get(400) ?? 0) > 1000, JSON.stringify([...seen]));
  });

  it('arbitrary JSON values (1500 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (v) => {
        const { status } = await check(inject, post(JSON.stringify(v) ?? 'null'));
        if (v === null || typeof v !== 'object' || Array.isArray(v)) assert.equal(status, 400);
      }),
      { numRuns: 1500 },
    );
  });

  it('numbers JSON.stringify cannot write, in every field (800 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KEYS), rawNumber, async (k, n) => {
        const { status, body } = await check(inject, post(`{"${k}":${n}}`));
        if (status === 400) {
          assert.equal(body.field, k);
          // 1e400 is Infinity, not null (JSON.stringify would say null)
          assert.doesNotMatch(body.message as string, /got null/);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('deep nesting and big arrays (300 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          deep,
          fc
            .integer({ min: 1, max: 2000 })
            .map((n) => JSON.stringify(Array.from({ length: n }, (_, i) => i))),
          fc.integer({ min: 1, max: 400 }).map((n) => `{"total_nodes":[${'1,'.repeat(n)}1]}`),
        ),
        async (text) => {
          const { status } = await check(inject, post(text));
          assert.ok(status === 400 || status === 413, `status ${status}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a field name with control characters is echoed on one line (a counterexample found in CI)', async () => {
    for (const name of ['horizon_m\nutes', 'a\rb', 'x\u2028y', 'tab\there', 'nul\u0000']) {
      const r = await check(inject, post(JSON.stringify({ total_nodes: 120, cluster: 'c', [name]: 1 })));
      assert.equal(r.status, 400);
      assert.match(r.body.message as string, /unknown field, expected one of/);
      assert.match(r.body.field as string, /\\u00|\\u2028/);
    }
  });

  it('non-JSON bytes, cut JSON and bytes flipped in a valid body (1500 bodies)', async () => {
    const valid = '{"total_nodes": 120, "horizon_minutes": 10, "cluster": "c"}';
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
          fc
            .tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }))
            .map(([i, b]) => {
              const buf = Buffer.from(valid);
              buf[i] = b;
              return buf;
            }),
        ),
        async (payload) => {
          await check(inject, post(payload));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('wrong and odd content types (800 requests)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/xml',
            'application/octet-stream',
            'application/json; charset=utf-8',
            'application/json; charset=latin1',
            'APPLICATION/JSON',
            'application/jsonx',
            'json',
            ';;;',
          ),
          fc.string({ maxLength: 40 }).filter((s) => /^[\x21-\x7e ]*$/.test(s)),
        ),
        fc.constantFrom('{"total_nodes": 120}', 'total_nodes=120', '<a/>', ''),
        async (type, payload) => {
          const headers: Record<string, string> = type === '' ? {} : { 'content-type': type };
          const { status } = await check(inject, post(payload, headers));
          if (!/json/i.test(type)) assert.ok(status === 415 || status === 400, `${type}: ${status}`);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('bodies over Service.BodyLimitBytes get 413 naming the body (200 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: BODY_LIMIT - 20, max: BODY_LIMIT * 40 }), async (n) => {
        const text = `{"total_nodes": 120, "pad": "${'x'.repeat(n)}"}`;
        const { status, body } = await check(inject, post(text));
        if (Buffer.byteLength(text) > BODY_LIMIT) {
          assert.equal(status, 413);
          assert.equal(body.field, 'body');
          assert.match(body.message as string, new RegExp(`at most ${BODY_LIMIT} bytes`));
        } else assert.equal(status, 400);
      }),
      { numRuns: 200 },
    );
  });

  it('answers 503 with a reason (never a 500) when there is no data', async () => {
    const { app: empty } = service(true);
    const inj = (r: Req) => empty.inject(r);
    await fc.assert(
      fc.asyncProperty(predictObject, async (o) => {
        const { status, body } = await check(inj, post(JSON.stringify(o)));
        if (status === 503) assert.match(body.message as string, /no telemetry|no forecast|no data|history/i);
      }),
      { numRuns: 300 },
    );
    const { status, body } = await check(inj, post('{}'));
    assert.equal(status, 503);
    assert.equal(body.error, 'no_forecast');
  });
});

/** encodeURIComponent that does not throw on a lone surrogate (sends it as the replacement character). */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));

/** Query-string pieces: known and unknown keys, odd encodings, arrays, long values. */
const queryPart = fc.oneof(
  fc
    .tuple(fc.constantFrom('cluster', 'partition', 'x', 'cluster[]', 'cluster[a]', '__proto__', ''), nasty)
    .map(([k, v]) => `${k}=${enc(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`),
  fc.constantFrom(
    'cluster=c',
    'partition=_all',
    'cluster=c&cluster=c',
    '%zz',
    '%',
    '&&',
    '=',
    'cluster',
    'a=%00',
  ),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[#\s]/g, '')),
  fc.integer({ min: 100, max: 20_000 }).map((n) => `cluster=${'c'.repeat(n)}`),
);

describe('GET routes: query strings and paths under fuzzing', () => {
  const { app } = service();
  const inject = (r: Req) => app.inject(r);

  it('query strings of /forecast/latest, /health, /metrics, /openapi.json, /admin/refresh (2000 requests)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/forecast/latest',
          '/health',
          '/health/live',
          '/metrics',
          '/openapi.json',
          '/admin/refresh',
        ),
        fc.array(queryPart, { minLength: 1, maxLength: 4 }),
        async (route, parts) => {
          const url = `${route}?${parts.join('&')}`;
          const method = route === '/admin/refresh' ? 'POST' : 'GET';
          const { status, body } = await check(inject, { method, url });
          if (url.length > 2048) assert.equal(status, 414);
          if (route === '/admin/refresh') assert.ok([400, 403, 414].includes(status), `${status}`);
          if (status === 400 && route === '/forecast/latest' && !/^url/.test(body.field as string))
            assert.ok(body.message, url);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('paths under /dashboard/ and /vendor/ serve only the named assets (1500 requests)', async () => {
    const ASSETS = [
      '/dashboard/',
      '/dashboard/app.js',
      '/dashboard/style.css',
      '/vendor/uPlot.iife.min.js',
      '/vendor/uPlot.min.css',
    ];
    const bodies = new Set<string>();
    for (const a of ASSETS) bodies.add((await inject({ method: 'GET', url: a })).body);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/dashboard/', '/vendor/'),
        fc.oneof(
          fc.constantFrom(
            '../../package.json',
            '..%2f..%2fpackage.json',
            '%2e%2e%2f%2e%2e%2fpackage.json',
            '%2e%2e',
            '..',
            '%00',
            'index.html%00',
            'app.js%00.png',
            '%2Fetc%2Fpasswd',
            '/etc/passwd',
            'C:%5Cwindows',
            '..%5c..%5cpackage.json',
            '%252e%252e%252fpackage.json',
            'app.ts',
            'index.html',
            'uPlot.iife.min.js',
            '%zz',
          ),
          fc.string({ maxLength: 60 }).map(enc),
          fc.string({ maxLength: 200 }).map((s) => s.replace(/[?#\s]/g, '')),
        ),
        async (prefix, rest) => {
          const r = await boundedAsync(rest, () => inject({ method: 'GET', url: prefix + rest }));
          assert.ok(ALLOWED.has(r.statusCode), `${prefix}${rest}: ${r.statusCode}`);
          // only one of the assets (`/dashboard/.` is `/dashboard/`), never a file of the repository
          if (r.statusCode === 200)
            assert.ok(bodies.has(r.body), `served ${prefix}${rest}: ${r.body.slice(0, 100)}`);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
