/**
 * The service in front of an InfluxDB HTTP endpoint that misbehaves: garbage answers and answers slower
 * than InfluxDB.TimeoutMs. A local HTTP server on loopback plays the endpoint; the real InfluxReader talks
 * to it. The service stays up, /health says degraded and unreachable, /predict answers 503 with the reason.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/service/app.js';
import { loadForecaster } from '../../src/service/forecasters.js';
import { openTelemetry } from '../../src/telemetry/index.js';

describe('service with a misbehaving InfluxDB endpoint', () => {
  let server: Server;
  let mode: 'garbage' | 'slow' = 'garbage';
  let url = '';
  before(async () => {
    server = createServer((req, res) => {
      if (mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>proxy error</html>');
        return;
      }
      const t = setTimeout(() => res.end('{"results":[]}'), 2000);
      req.on('close', () => clearTimeout(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function service() {
    const cfg = parseConfig(
      `InfluxDB:\n  URL: ${url}\n  TimeoutMs: 200\nService:\n  Baseline: persistence\n`,
      'test',
      {},
    );
    const tel = openTelemetry(cfg);
    const { app } = buildApp({
      config: cfg,
      reader: tel.reader,
      forecaster: await loadForecaster(cfg),
      backend: { kind: tel.kind, describe: tel.describe },
    });
    return app;
  }

  for (const m of ['garbage', 'slow'] as const) {
    it(`${m} answers: 503 with the reason, /health degraded, still serving`, async () => {
      mode = m;
      const app = await service();
      const r = await app.inject({ method: 'POST', url: '/predict', payload: {} });
      assert.equal(r.statusCode, 503);
      const b = r.json();
      assert.equal(b.error, 'telemetry_unavailable');
      assert.match(
        b.message,
        m === 'garbage'
          ? /^telemetry unavailable: .*(JSON|expected)/
          : /^telemetry unavailable: .*(timed out|timeout|200 ms)/i,
      );
      const h = await app.inject({ method: 'GET', url: '/health' });
      assert.equal(h.statusCode, 503);
      assert.equal(h.json().status, 'degraded');
      assert.equal(h.json().checks.influx_reachable, false);
      assert.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
      await app.close();
    });
  }
});
