import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { TelemetryError } from '../../src/telemetry/errors.js';
import { type InfluxOptions, influxOptionsFromConfig } from '../../src/telemetry/influx-http.js';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { zeroValues } from '../../src/telemetry/schema.js';

/**
 * The client against a local HTTP server that answers like a broken, slow or foreign server: the
 * "garbage" paths a real InfluxDB will not produce on demand. Real-InfluxDB behaviour (404, 400, refused)
 * is tested in test/integration/telemetry-influx.test.ts.
 */

const TOKEN = 'SECRET-TOKEN-123';
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handler: Handler = (_q, res) => res.end();
const seen: Array<{ url: string; auth: string | undefined; body: string }> = [];
let server: Server;
let url = '';

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function opts(o: Partial<InfluxOptions> = {}): InfluxOptions {
  return { url, database: 'telemetry', token: TOKEN, timeoutMs: 2000, retries: 0, backoffMs: 1, ...o };
}

function row() {
  return {
    time: 1_704_067_200,
    cluster: 'c',
    partition: '_all',
    capacity: 4,
    totalCpus: 4,
    values: zeroValues(),
  };
}

async function failure(p: Promise<unknown>): Promise<TelemetryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TelemetryError, `expected TelemetryError, got ${e}`);
    assert.ok(!e.message.includes(TOKEN), `token leaked: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e;
  }
  assert.fail('expected a failure');
}

describe('influx client against a garbage server', () => {
  it('sends the token as `Authorization: Token`, Basic for user/password, and db/precision', async () => {
    handler = (_q, res) => {
      res.statusCode = 204;
      res.end();
    };
    seen.length = 0;
    await new InfluxWriter(opts({ retentionPolicy: 'rp1' })).write([row()]);
    assert.equal(seen[0].auth, `Token ${TOKEN}`);
    assert.match(seen[0].url, /^\/write\?db=telemetry&precision=s&rp=rp1$/);
    assert.match(seen[0].body, /^pcm_cluster,cluster=c,partition=_all /);
    await new InfluxWriter(opts({ token: undefined, url: url.replace('//', '//u:p%40ss@') })).write([row()]);
    assert.equal(seen[1].auth, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  });

  it('HTML instead of JSON -> garbage', async () => {
    handler = (_q, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>It works!</body></html>');
    };
    const e = await failure(new InfluxReader(opts()).recent('c', '_all', 10));
    assert.equal(e.kind, 'garbage');
    assert.match(
      e.message,
      /\/query: answer is not JSON \(content-type text\/html, starts "<html><body>It works/,
    );
  });

  it('JSON of the wrong shape -> garbage naming the field', async () => {
    handler = (_q, res) => res.end('{"results": [{"series": [{"name": "m", "columns": "time"}]}]}');
    const e = await failure(new InfluxReader(opts()).recent('c', '_all', 10));
    assert.equal(e.kind, 'garbage');
    assert.match(e.message, /wrong shape \(results\.0\.series\.0\.columns: /);
  });

  it('a statement error in a 200 answer is reported', async () => {
    handler = (_q, res) =>
      res.end('{"results":[{"statement_id":0,"error":"database not found: telemetry"}]}');
    const e = await failure(new InfluxReader(opts()).recent('c', '_all', 10));
    assert.equal(e.kind, 'not_found');
    assert.match(e.message, /\/query: database not found: telemetry$/);
  });

  it('200 on /write is not InfluxDB (204) -> garbage', async () => {
    handler = (_q, res) => res.end('ok');
    const e = await failure(new InfluxWriter(opts()).write([row()]));
    assert.equal(e.kind, 'garbage');
    assert.match(e.message, /expected 204 No Content, got 200/);
  });

  it('5xx with an error body: retried, then one line with secrets redacted', async () => {
    handler = (_q, res) => {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: `engine failed\nfor token ${TOKEN}` }));
    };
    seen.length = 0;
    const e = await failure(new InfluxWriter(opts({ retries: 2 })).write([row()]));
    assert.equal(e.kind, 'server');
    assert.equal(e.status, 500);
    assert.equal(seen.length, 3);
    assert.match(e.message, /\/write: HTTP 500: engine failed for token \*\*\* \(after 3 attempts\)$/);
  });

  it('recovers when the server comes back within the retries', async () => {
    let n = 0;
    handler = (_q, res) => {
      res.statusCode = ++n <= 2 ? 503 : 204;
      res.end();
    };
    await new InfluxWriter(opts({ retries: 3 })).write([row()]);
    assert.equal(n, 3);
  });

  it('4xx is not retried; 401 says to check the credentials', async () => {
    handler = (_q, res) => {
      res.statusCode = 401;
      res.end('{"error":"unable to parse authentication credentials"}');
    };
    seen.length = 0;
    const e = await failure(new InfluxWriter(opts({ retries: 3 })).write([row()]));
    assert.equal(seen.length, 1);
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /HTTP 401: unable to parse authentication credentials \(check InfluxDB.Token/);
  });

  it('a server that never answers -> timeout', async () => {
    handler = () => {}; // keep the request hanging
    const e = await failure(new InfluxReader(opts({ timeoutMs: 150 })).recent('c', '_all', 10));
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /\/query: no answer within 150 ms$/);
  });

  it('a connection closed without an answer -> unreachable', async () => {
    handler = (req) => req.socket.destroy();
    const e = await failure(new InfluxWriter(opts()).write([row()]));
    assert.equal(e.kind, 'unreachable');
    assert.ok(e.retryable);
  });

  it('something that does not speak HTTP -> a clear failure', async () => {
    const tcp = createTcpServer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    try {
      const e = await failure(
        new InfluxReader(opts({ url: `http://127.0.0.1:${port}` })).recent('c', '_all', 10),
      );
      assert.equal(e.kind, 'garbage');
      assert.match(
        e.message,
        new RegExp(`^InfluxDB http://127.0.0.1:${port} /query: the answer is not valid HTTP`),
      );
    } finally {
      tcp.close();
    }
  });

  it('maps the config: Bucket db/rp, Database wins, no URL = no InfluxDB', () => {
    const c = parseConfig('InfluxDB:\n  URL: http://h:8086\n  Bucket: metrics/weekly\n  Token: t\n', 'c', {});
    const o = influxOptionsFromConfig(c.InfluxDB)!;
    assert.deepEqual([o.database, o.retentionPolicy, o.token, o.timeoutMs], ['metrics', 'weekly', 't', 5000]);
    const d = parseConfig('InfluxDB:\n  URL: http://h:8086\n  Bucket: b\n  Database: tel\n', 'c', {});
    assert.equal(influxOptionsFromConfig(d.InfluxDB)!.database, 'tel');
    assert.equal(influxOptionsFromConfig(parseConfig('', 'c', {}).InfluxDB), null);
    assert.throws(
      () =>
        influxOptionsFromConfig(
          parseConfig('InfluxDB:\n  URL: http://h\n  Database: "a\'b"\n', 'c', {}).InfluxDB,
        ),
      /InfluxDB.Database: expected letters/,
    );
  });
});

describe('answer size cap and Retry-After (issue 15)', () => {
  it('an answer larger than maxAnswerBytes fails with one line, streamed or declared', async () => {
    for (const chunked of [false, true]) {
      handler = (_q, res) => {
        const big = Buffer.alloc(3 * 1024 * 1024, 'a');
        res.writeHead(
          200,
          chunked ? { 'content-type': 'application/json' } : { 'content-length': big.length },
        );
        res.end(big);
      };
      const e = await failure(new InfluxReader(opts({ maxAnswerBytes: 1024 * 1024 })).query('SELECT 1'));
      assert.equal(e.kind, 'garbage');
      assert.match(
        e.message,
        /^InfluxDB http:\/\/127\.0\.0\.1:\d+ \/query: answer larger than 1048576 bytes/,
      );
    }
  });

  it('429 with Retry-After: 1 waits about a second (within the back-off bounds), then succeeds', async () => {
    let n = 0;
    handler = (_q, res) => {
      if (n++ === 0) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end('{"error":"slow down"}');
      } else {
        res.writeHead(204);
        res.end();
      }
    };
    const t0 = performance.now();
    await new InfluxWriter(opts({ retries: 8, backoffMs: 10 })).write([row()]);
    const ms = performance.now() - t0;
    assert.equal(n, 2);
    assert.ok(ms >= 950 && ms < 2500, `waited ${ms.toFixed(0)} ms`);
  });

  it('a Retry-After beyond the bounds is cut to the longest back-off', async () => {
    let n = 0;
    handler = (_q, res) => {
      if (n++ === 0) {
        res.writeHead(503, { 'retry-after': '3600' });
        res.end();
      } else {
        res.writeHead(204);
        res.end();
      }
    };
    const t0 = performance.now();
    await new InfluxWriter(opts({ retries: 2, backoffMs: 50 })).write([row()]);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `waited ${ms.toFixed(0)} ms`);
  });
});
