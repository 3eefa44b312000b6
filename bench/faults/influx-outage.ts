/**
 * influxd stopped and restarted under load (issue 7, faults). A private influxd (scripts/services/influxdb.sh,
 * own directory and free ports), the simulator's live mode writing a row a minute into it (real time,
 * 12 h pre-roll, 64 nodes), `pcm serve` reading it (ridge baseline), and an open-loop load
 * of --rate requests/s on POST /predict and as many on GET /health. Timeline of a run:
 *
 *   warm-up (until /predict answers 200) | --before s | influxd stopped (SIGTERM) for --outage s |
 *   influxd started again (data kept) | until /predict and /health answer 200 again | --after s
 *
 *   node --import tsx bench/faults/influx-outage.ts [--rate 10] [--before 30] [--outage 30] [--after 30]
 *     [--refresh 5] [--fallback] [--json out.json]
 *
 * Prints, per phase, the answers by status and error code (a 500 or no answer at all is a failure), the
 * reasons given while influxd is down, how long the service took to notice the outage and to recover after
 * influxd answered /ping again, latency p50/p99, and the service's RSS sampled every second (min / median
 * / max per phase, and the least-squares slope over the whole run). --fallback runs a second service
 * with Service.FallbackToBaseline (flagged persistence forecasts instead of 503s) under the same load.
 * Also counts the minute rows missing in InfluxDB around the outage afterwards (the live feed keeps failed
 * rows and writes them when influxd is back). Exit 1 when any run rule is broken (500s, no answers, a dead
 * service, recovery over 60 s). Needs influxd (bash scripts/services/install.sh). Bounded by its phases.
 * On the shared 2-core dev box the timings are noisy; repeat before quoting them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Child,
  Load,
  PrivateInflux,
  RssSampler,
  startLiveSim,
  startServe,
  until,
} from '../../harness/outage-harness.js';
import { numArg, strArg } from '../lib/args.js';

const RATE = numArg('rate', 10);
const BEFORE = numArg('before', 30);
const OUTAGE = numArg('outage', 30);
const AFTER = numArg('after', 30);
const REFRESH = numArg('refresh', 5);
const FALLBACK = process.argv.includes('--fallback');
const JSON_OUT = strArg('json');
const CLUSTER = 'outage';
const NODES = 64;
const RECOVERY_LIMIT_S = 60;

const log = (m: string) => process.stderr.write(`[influx-outage] ${m}\n`);
const pct = (a: number[], p: number) => {
  if (!a.length) return Number.NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Svc {
  name: string;
  child: Child & { base: string };
  load: Load;
  rss: RssSampler;
}

const dir = mkdtempSync(join(tmpdir(), 'pcm-influx-outage-'));
const influx = new PrivateInflux(join(dir, 'influxdb'));
let sim: Child | null = null;
const svcs: Svc[] = [];
const marks: Record<string, number> = {};

async function main(): Promise<number> {
  await influx.start();
  log(`influxd ${influx.url} (${influx.dir})`);
  sim = startLiveSim({ url: influx.url, dir, cluster: CLUSTER, nodes: NODES, prerollHours: 12 });
  const names = FALLBACK ? ['503', 'fallback'] : ['503'];
  for (const name of names) {
    const child = await startServe({
      url: influx.url,
      dir,
      name,
      cluster: CLUSTER,
      nodes: NODES,
      refreshSeconds: REFRESH,
      fallback: name === 'fallback',
    });
    log(`pcm serve (${name}) ${child.base}, pid ${child.proc.pid}`);
    svcs.push({
      name,
      child,
      load: new Load(
        [
          { name: 'predict', url: `${child.base}/predict`, method: 'POST', body: '{}' },
          { name: 'health', url: `${child.base}/health`, method: 'GET' },
        ],
        RATE,
      ),
      rss: new RssSampler(child.proc.pid!),
    });
  }
  // warm-up: the pre-roll is written and the first forecast made
  const warm = await until(async () => {
    for (const s of svcs) {
      const r = await fetch(`${s.child.base}/predict`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }).catch(() => null);
      if (r?.status !== 200) return false;
    }
    return true;
  }, 180_000);
  if (!warm) throw new Error(`no forecast within 180 s; sim: ${sim.err().slice(-500)}`);
  marks.load = Date.now();
  for (const s of svcs) s.load.start();
  log(`load: ${RATE} req/s on /predict + ${RATE} on /health per service; ${BEFORE} s before the outage`);
  await sleep(BEFORE * 1000);
  marks.stop = Date.now();
  await influx.stop();
  marks.down = Date.now();
  log(`influxd stopped (SIGTERM took ${r1((marks.down - marks.stop) / 1000)} s); down for ${OUTAGE} s`);
  await sleep(OUTAGE * 1000);
  marks.restart = Date.now();
  await influx.start(true);
  await until(() => influx.ping(), 30_000);
  marks.up = Date.now();
  log(`influxd answering again (start took ${r1((marks.up - marks.restart) / 1000)} s)`);
  const recovered = (s: Svc) => {
    const after = s.load.samples.filter((x) => x.t >= marks.up);
    return (
      after.some((x) => x.target === 'predict' && x.code === 'ok') &&
      after.some((x) => x.target === 'health' && x.status === 200)
    );
  };
  await until(() => svcs.every(recovered), (RECOVERY_LIMIT_S + 30) * 1000);
  marks.recovered = Date.now();
  await sleep(AFTER * 1000);
  marks.end = Date.now();
  for (const s of svcs) {
    await s.load.stop();
    s.rss.stop();
  }
  return report();
}

function phaseOf(t: number): string {
  if (t < marks.stop) return 'before';
  if (t < marks.up) return 'outage';
  if (t < marks.recovered) return 'recovering';
  return 'after';
}

async function missingRows(): Promise<{ expected: number; missing: number }> {
  // minutes from 5 before the stop to 2 before the end: every one should be in InfluxDB
  const from = Math.floor(marks.stop / 60_000) * 60 - 300;
  const to = Math.floor(marks.end / 60_000) * 60 - 120;
  const have = new Set(await influx.busyMinutes(CLUSTER, from, to));
  let missing = 0;
  for (let t = from; t <= to; t += 60) if (!have.has(t)) missing++;
  return { expected: (to - from) / 60 + 1, missing };
}

async function report(): Promise<number> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {
    rate_per_endpoint: RATE,
    phases_s: {
      before: BEFORE,
      outage: r1((marks.up - marks.stop) / 1000),
      recovering: r1((marks.recovered - marks.up) / 1000),
      after: AFTER,
    },
    refresh_s: REFRESH,
  };
  for (const s of svcs) {
    const samples = s.load.samples;
    const phases: Record<string, unknown> = {};
    for (const ph of ['before', 'outage', 'recovering', 'after']) {
      const mine = samples.filter((x) => phaseOf(x.t) === ph);
      const by: Record<string, number> = {};
      for (const x of mine) {
        const k = `${x.target} ${x.status} ${x.code}`;
        by[k] = (by[k] ?? 0) + 1;
      }
      const rss = s.rss.samples.filter((x) => phaseOf(x.t) === ph).map((x) => x.mb);
      phases[ph] = {
        requests: mine.length,
        answers: by,
        p50_ms: r1(
          pct(
            mine.map((x) => x.ms),
            0.5,
          ),
        ),
        p99_ms: r1(
          pct(
            mine.map((x) => x.ms),
            0.99,
          ),
        ),
        rss_mb: { min: r1(pct(rss, 0)), median: r1(pct(rss, 0.5)), max: r1(Math.max(...rss)) },
      };
    }
    const bad = samples.filter((x) => x.status === 0 || (x.status >= 500 && x.status !== 503));
    if (bad.length)
      problems.push(`${s.name}: ${bad.length} answers that are 5xx other than 503 or none at all`);
    const down = samples.filter((x) => x.t >= marks.stop && x.t < marks.up);
    const firstBad = down.find((x) => x.target === 'predict' && (x.status === 503 || x.fallback));
    const reasons = [...new Set(down.filter((x) => x.status === 503).map((x) => `${x.target}: ${x.reason}`))];
    const noRetryAfter = down.filter((x) => x.target === 'predict' && x.status === 503 && !x.retryAfter);
    if (noRetryAfter.length) problems.push(`${s.name}: ${noRetryAfter.length} 503s without Retry-After`);
    // what /health says once the service is back (a degraded status names its reason)
    const backReasons = [
      ...new Set(
        samples
          .filter((x) => x.t >= marks.up && x.target === 'health' && x.code !== 'health:ok')
          .map((x) => `${x.status} ${x.code}: ${x.reason}`),
      ),
    ];
    const firstOk = samples.find((x) => x.t >= marks.up && x.target === 'predict' && x.code === 'ok');
    const firstHealth = samples.find((x) => x.t >= marks.up && x.target === 'health' && x.status === 200);
    const recovery = firstOk ? (firstOk.t - marks.up) / 1000 : Number.POSITIVE_INFINITY;
    if (!(recovery < RECOVERY_LIMIT_S)) problems.push(`${s.name}: recovery ${recovery} s`);
    const all = s.rss.samples;
    const slope = slopeMbPerMin(all);
    const alive = s.child.proc.exitCode === null && s.child.proc.signalCode === null;
    if (!alive) problems.push(`${s.name}: pcm serve exited (${s.child.err().slice(-300)})`);
    const code = await s.child.stop();
    out[`service_${s.name}`] = {
      fallback_mode: s.name === 'fallback',
      phases,
      noticed_outage_after_s: firstBad ? r1((firstBad.t - marks.stop) / 1000) : null,
      outage_reasons: reasons.slice(0, 6),
      recovered_after_s: r1(recovery),
      health_not_ok_after_restart: backReasons.slice(0, 6),
      health_ok_again_after_s: (() => {
        const ok = samples.find((x) => x.t >= marks.up && x.target === 'health' && x.code === 'health:ok');
        return ok ? r1((ok.t - marks.up) / 1000) : null;
      })(),
      health_recovered_after_s: firstHealth ? r1((firstHealth.t - marks.up) / 1000) : null,
      rss_slope_mb_per_min: Math.round(slope * 100) / 100,
      rss_samples: all.length,
      alive_through_run: alive,
      exit_on_sigterm: code,
    };
  }
  try {
    out.influx_rows_around_outage = await missingRows();
  } catch (e) {
    out.influx_rows_around_outage = `not checked: ${(e as Error).message}`;
  }
  out.problems = problems;
  const text = JSON.stringify(out, null, 1);
  process.stdout.write(`${text}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, `${text}\n`);
  return problems.length ? 1 : 0;
}

/** Least-squares slope of RSS over time, MB per minute. */
function slopeMbPerMin(s: Array<{ t: number; mb: number }>): number {
  if (s.length < 2) return Number.NaN;
  const n = s.length;
  const mt = s.reduce((a, x) => a + x.t, 0) / n;
  const mm = s.reduce((a, x) => a + x.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of s) {
    num += (x.t - mt) * (x.mb - mm);
    den += (x.t - mt) ** 2;
  }
  return (num / den) * 60_000;
}

async function cleanup(): Promise<void> {
  for (const s of svcs) {
    s.rss.stop();
    await s.load.stop();
    await s.child.stop();
  }
  await sim?.stop();
  await influx.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

let code = 1;
try {
  code = await main();
} catch (e) {
  log(`failed: ${(e as Error).message}`);
} finally {
  await cleanup();
}
process.exit(code);
