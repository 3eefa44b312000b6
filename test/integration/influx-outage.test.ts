/**
 * influxd stopped and restarted under load (issue 7, faults; the long run with figures is
 * bench/faults/influx-outage.ts). A PRIVATE influxd (scripts/services/influxdb.sh with its own directory and free
 * ports; the shared one is never touched), `pcm simulate --live` writing a row a minute into it, and two
 * `pcm serve` processes reading it: the default one (503 while telemetry cannot be read) and one with
 * Service.FallbackToBaseline (flagged persistence forecasts instead). Both get 5 requests/s on /predict and
 * on /health, open loop, through the whole run. influxd is stopped (SIGTERM) until both services have
 * noticed and a few seconds more, then started again with its data.
 *
 * Asserted: no request goes unanswered and none gets a 5xx other than 503; while influxd is down the
 * default service answers /predict with 503 `telemetry_unavailable`, a reason naming InfluxDB and
 * Retry-After (after answering from the current minute's cached forecast until it notices), the fallback
 * service with 200 flagged `fallback` and its reason, and /health of both says 503 degraded, InfluxDB
 * unreachable; once influxd is back both recover by themselves within a minute; neither process died
 * (SIGTERM ends them with exit 0); a degraded /health always gives a reason; the rows of the outage
 * minutes reach InfluxDB afterwards.
 *
 * Needs influxd (bash scripts/services/install.sh); no shared services. PCM_SKIP_INTEGRATION=1 skips.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Child,
  Load,
  PrivateInflux,
  type Sample,
  startLiveSim,
  startServe,
  until,
} from '../../harness/outage-harness.js';

const skip = process.env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const CLUSTER = 'outage';
const NODES = 32;

describe('influxd stopped and restarted under load', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcm-influx-outage-'));
  const influx = new PrivateInflux(join(dir, 'influxdb'));
  let sim: Child | null = null;
  const svc: Record<'plain' | 'fallback', (Child & { base: string }) | null> = {
    plain: null,
    fallback: null,
  };
  const load: Record<'plain' | 'fallback', Load | null> = { plain: null, fallback: null };
  const marks = { stop: 0, up: 0 };

  before(async () => {
    try {
      execFileSync('influxd', ['version'], { stdio: 'ignore' });
    } catch {
      throw new Error('influxd not found: run bash scripts/services/install.sh, or PCM_SKIP_INTEGRATION=1');
    }
    await influx.start();
    sim = startLiveSim({ url: influx.url, dir, cluster: CLUSTER, nodes: NODES, prerollHours: 12 });
    for (const name of ['plain', 'fallback'] as const) {
      const s = await startServe({
        url: influx.url,
        dir,
        name,
        cluster: CLUSTER,
        nodes: NODES,
        refreshSeconds: 1,
        fallback: name === 'fallback',
      });
      svc[name] = s;
      load[name] = new Load(
        [
          { name: 'predict', url: `${s.base}/predict`, method: 'POST', body: '{}' },
          { name: 'health', url: `${s.base}/health`, method: 'GET' },
        ],
        5,
      );
    }
  });

  after(async () => {
    for (const n of ['plain', 'fallback'] as const) {
      await load[n]?.stop();
      await svc[n]?.stop();
    }
    await sim?.stop();
    await influx.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const predictOk = async (base: string) =>
    (
      await fetch(`${base}/predict`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }).catch(() => null)
    )?.status === 200;
  const during = (n: 'plain' | 'fallback', target: string) =>
    load[n]!.samples.filter((x) => x.target === target && x.t >= marks.stop && x.t < marks.up);

  it('serves forecasts from the live feed in InfluxDB', async () => {
    const ready = await until(
      async () => (await predictOk(svc.plain!.base)) && (await predictOk(svc.fallback!.base)),
      180_000,
    );
    assert.ok(ready, `no forecast within 180 s; simulate: ${sim!.err().slice(-400)}`);
    load.plain!.start();
    load.fallback!.start();
    await sleep(5000);
    for (const n of ['plain', 'fallback'] as const)
      assert.ok(load[n]!.samples.some((x) => x.target === 'predict' && x.code === 'ok'));
  });

  it('influxd down: 503 with the reason (or a flagged fallback), /health degraded, no 500, no crash', async () => {
    marks.stop = Date.now();
    await influx.stop();
    const noticed = (n: 'plain' | 'fallback') => () => {
      const h = load[n]!.samples.filter(
        (x) => x.t >= marks.stop && x.target === 'health' && x.status === 503,
      );
      return h.length >= 3;
    };
    assert.ok(await until(() => noticed('plain')() && noticed('fallback')(), 60_000), 'outage noticed');
    await sleep(5000);
    marks.up = Date.now(); // provisional: the outage samples end here
    // the default service: cached forecasts of the current minute until it notices, then 503s only
    const p = during('plain', 'predict');
    const first503 = p.findIndex((x) => x.status === 503);
    assert.ok(first503 >= 0, 'a 503 while influxd is down');
    for (const x of p.slice(0, first503)) {
      assert.equal(x.code, 'ok');
      assert.ok(
        x.lastPoint !== null && x.lastPoint <= marks.stop,
        'a 200 is a forecast from before the stop',
      );
    }
    for (const x of p.slice(first503)) {
      assert.equal(x.status, 503, JSON.stringify(x));
      assert.equal(x.code, 'telemetry_unavailable');
      assert.match(
        x.reason,
        /^telemetry unavailable: InfluxDB http:\/\/127\.0\.0\.1:\d+ \/query: connection refused/,
      );
      assert.equal(x.retryAfter, '1');
    }
    // the fallback service: flagged forecasts, never a 503 on /predict
    const f = during('fallback', 'predict');
    assert.ok(f.some((x) => x.fallback));
    for (const x of f)
      assert.ok(x.status === 200 && (x.code === 'ok' || x.code === 'fallback'), JSON.stringify(x));
    const firstFallback = f.findIndex((x) => x.fallback);
    assert.ok(
      f.slice(firstFallback).every((x) => x.fallback),
      'no fresh forecast while influxd is down',
    );
    // /health of both: 503, degraded, InfluxDB unreachable first
    for (const n of ['plain', 'fallback'] as const) {
      const h = during(n, 'health').filter((x) => x.status === 503);
      assert.ok(h.length > 0);
      for (const x of h) {
        assert.equal(x.code, 'health:degraded');
        // without the token /health gives reasons by code only (issue 15): no endpoint, no error text
        assert.equal(x.reason, 'influx_unreachable');
      }
      assert.equal(svc[n]!.proc.exitCode, null, `${n} still running`);
    }
  });

  it('influxd back: both recover by themselves within a minute', async () => {
    await influx.start(true);
    assert.ok(await until(() => influx.ping(), 30_000));
    marks.up = Date.now();
    const back = (n: 'plain' | 'fallback') => {
      const s = load[n]!.samples.filter((x) => x.t >= marks.up);
      return (
        s.some((x) => x.target === 'predict' && x.code === 'ok') &&
        s.some((x) => x.target === 'health' && x.status === 200)
      );
    };
    assert.ok(await until(() => back('plain') && back('fallback'), 60_000), 'recovered within 60 s');
    await sleep(3000);
    await load.plain!.stop();
    await load.fallback!.stop();
    // the last seconds: fresh forecasts only
    for (const n of ['plain', 'fallback'] as const) {
      const tail = load[n]!.samples.filter((x) => x.t >= Date.now() - 2000 && x.target === 'predict');
      assert.ok(tail.length > 0 && tail.every((x) => x.code === 'ok'), JSON.stringify(tail.slice(0, 3)));
    }
  });

  it('nothing unanswered, no 5xx but 503, services alive to the end and exit 0 on SIGTERM', async () => {
    for (const n of ['plain', 'fallback'] as const) {
      const all: Sample[] = load[n]!.samples;
      assert.ok(all.length > 100, `${n}: ${all.length} requests`);
      const bad = all.filter((x) => x.status === 0 || (x.status >= 500 && x.status !== 503));
      assert.deepEqual(bad, [], `${n}: unanswered or 5xx`);
      // a degraded /health always says why (also after the restart, while the outage minutes are filled)
      const mute = all.filter((x) => x.code === 'health:degraded' && x.reason === '');
      assert.deepEqual(mute, [], `${n}: /health degraded without a reason`);
      assert.equal(svc[n]!.proc.exitCode, null);
      assert.equal(await svc[n]!.stop(), 0, svc[n]!.err());
      svc[n] = null;
    }
  });

  it('the feed writes the outage minutes once influxd is back (no gap in InfluxDB)', async () => {
    // give the live feed a tick to flush what it kept
    await sleep(2000);
    const from = Math.floor(marks.stop / 60_000) * 60 - 300;
    const to = Math.floor(Date.now() / 60_000) * 60 - 60;
    const times = await influx.busyMinutes(CLUSTER, from, to);
    const want: number[] = [];
    for (let t = from; t <= to; t += 60) want.push(t);
    assert.deepEqual(times, want);
  });
});
