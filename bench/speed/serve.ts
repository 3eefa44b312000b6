/**
 * The prediction service under load: `pcm serve` as a child process (embedded store fed by the live
 * simulator on 120 nodes in real time, ridge baseline), autocannon against POST /predict on loopback.
 *
 *   node --import tsx bench/speed/serve.ts [--connections 100] [--duration 10] [--rate R] [--soak 60] [--json out.json]
 *     [--model DIR] [--no-cache-miss] [--no-peak-band] [--compiled DIR] [--loop-delay]
 *
 * --compiled DIR runs the service from tsc output (`npx tsc -p tsconfig.json --outDir DIR`, with
 * src/service/dashboard copied to DIR/service/) instead of through tsx, as an installed pcm runs.
 * Prints req/s, latency p50/p99, errors and non-2xx, and the child's RSS sampled every second of the
 * run (first / min / max / last and the least-squares slope in MB per minute: "flat" is a slope near 0
 * against the GC sawtooth). --rate R holds the offered load at R requests/s over all connections
 * (autocannon overallRate, latencies corrected for coordinated omission) instead of as fast as possible.
 * --loop-delay preloads bench/lib/loop-delay.ts into the service and prints its event-loop delay over the
 * run (what @fastify/under-pressure would shed load on).
 * With --soak S: a further S s run at the same load, RSS sampled every 5 s. Then, in this process, times cache-miss
 * forecasts over a simulated 14-day timeline: a telemetry read + quality check + features + ridge predict
 * per new minute (the refit, once an hour of telemetry, timed separately; it calibrates the power controller's
 * peak band as the service does, --no-peak-band leaves that out for a side-by-side figure).
 * Bounded: every run stops after its duration. On the shared 2-core dev box (autocannon and the service
 * share the cores) figures are noisy; repeat before quoting them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort } from '../../harness/net.js';
import { rssMb } from '../../harness/outage-harness.js';
import { loadConfig } from '../../src/config/load.js';
import { hubFor } from '../../src/service/app.js';
import { demoTimeline } from '../../src/service/demo.js';
import { BaselineModel, loadForecaster } from '../../src/service/forecasters.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { rowOfTimeline } from '../../src/telemetry/schema.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { numArg } from '../lib/args.js';

/** RSS of `pid` in MB (NaN once it is gone). */
const rssMB = (pid: number): number => rssMb(pid) ?? Number.NaN;

async function startService(port: number, loopDelayFile?: string): Promise<ChildProcess> {
  // --compiled DIR: the service as tsc output (DIR/cli/main.js, as installed), else through tsx
  const ci = process.argv.indexOf('--compiled');
  const entry = ci > 0 ? [`${process.argv[ci + 1]}/cli/main.js`] : ['--import', 'tsx', 'src/cli/main.ts'];
  // --loop-delay: the service's event-loop delay, a line a second (bench/lib/loop-delay.ts)
  const preload = loopDelayFile ? ['--import', 'tsx', '--import', './bench/lib/loop-delay.ts'] : [];
  const child = spawn(
    process.execPath,
    [...preload, ...entry, 'serve', '--host', '127.0.0.1', '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PCM_INFLUX_URL: '', PCM_BENCH_LOOP_DELAY: loopDelayFile ?? '' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`pcm serve exited with ${c}`)));
  });
  return child;
}

async function load(
  url: string,
  connections: number,
  duration: number,
  onTick?: () => void,
  rate?: number,
  tickMs = 5000,
) {
  const timer = onTick ? setInterval(onTick, tickMs) : null;
  const r = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ total_nodes: 120 }),
    connections,
    duration,
    ...(rate ? { overallRate: rate } : {}),
  });
  if (timer) clearInterval(timer);
  return {
    reqPerSec: r.requests.average,
    requests: r.requests.total,
    latencyP50ms: r.latency.p50,
    latencyP99ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Cache-miss forecasts in this process: one compute per new telemetry minute, as the hub does them. */
async function cacheMiss(n: number) {
  const cfg = loadConfig(undefined, {});
  const tl = demoTimeline(cfg, 14);
  let now = tl.start + 60 * 10_000 + 5;
  const store = new MemoryStore({ now: () => now });
  store.writeSync(Array.from({ length: 10_001 }, (_, i) => rowOfTimeline(tl, i, 'cluster', '_all')));
  // --model DIR: time the trained model's cache misses instead of the ridge baseline's
  const mi = process.argv.indexOf('--model');
  const model =
    mi > 0
      ? await loadForecaster({
          ...cfg,
          Predictor: { ...cfg.Predictor, CheckpointFile: process.argv[mi + 1] },
        })
      : new BaselineModel(
          'ridge',
          cfg.Service.ContextMinutes,
          cfg.Service.RefitMinutes,
          {},
          // as the service: the refit also calibrates the power controller's peak band (--no-peak-band: not)
          process.argv.includes('--no-peak-band') ? null : cfg.Power.Predictive.PeakQuantile,
        );
  if (mi > 0 && model.kind !== 'trained') throw new Error(`--model ${process.argv[mi + 1]}: not loaded`);
  const hub = hubFor({ config: cfg, reader: store, forecaster: model, clock: () => now });
  const id = { cluster: 'cluster', partition: '_all' };
  hub.addSeries(id);
  const fits: number[] = [];
  const runs: number[] = [];
  for (let k = 0; k < n; k++) {
    now += 60;
    store.writeSync([rowOfTimeline(tl, 10_001 + k, 'cluster', '_all')]);
    const t0 = performance.now();
    const s = await hub.refresh(id);
    const ms = performance.now() - t0;
    if (s.status !== 'ok') throw new Error(`compute failed: ${s.reason}`);
    // the first compute and one an hour refit the ridge
    (k % cfg.Service.RefitMinutes === 0 ? fits : runs).push(ms);
  }
  const q = (a: number[], p: number) =>
    [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
  return {
    model: model.kind === 'trained' ? `trained model ${model.name}` : 'ridge',
    computes: runs.length,
    p50ms: q(runs, 0.5),
    p95ms: q(runs, 0.95),
    maxms: Math.max(...runs),
    refits: fits.length,
    refitMs: fits.map((x) => Math.round(x)),
  };
}

/** The service's event-loop delay over [from, to] (ms epoch) from the --loop-delay file's lines. */
function loopDelaySummary(file: string, from: number, to: number) {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: number; mean: number; p99: number; max: number })
    .filter((l) => l.t > from && l.t <= to + 1000);
  const top = (k: 'mean' | 'p99' | 'max') => Math.max(...lines.map((l) => l[k]));
  const sorted = lines.map((l) => l.mean).sort((a, b) => a - b);
  return {
    seconds: lines.length,
    meanMedianMs: sorted[Math.floor(sorted.length / 2)],
    meanMaxMs: top('mean'),
    p99MaxMs: top('p99'),
    maxMs: top('max'),
  };
}

/** RSS samples summarised: first, min, max, last and the least-squares slope (MB per minute). */
function rssSummary(samples: number[], everyS: number) {
  const n = samples.length;
  const mt = ((n - 1) * everyS) / 2;
  const my = samples.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  samples.forEach((y, i) => {
    sxy += (i * everyS - mt) * (y - my);
    sxx += (i * everyS - mt) ** 2;
  });
  return {
    first: samples[0],
    min: Math.min(...samples),
    max: Math.max(...samples),
    last: samples[n - 1],
    slopeMBPerMin: sxx > 0 ? (sxy / sxx) * 60 : 0,
  };
}

async function main(): Promise<void> {
  const connections = numArg('connections', 100);
  const duration = numArg('duration', 10);
  const rate = process.argv.includes('--rate') ? numArg('rate', 5000) : undefined;
  const soak = process.argv.includes('--soak') ? numArg('soak', 60) : 0;
  const jsonOut = process.argv.includes('--json')
    ? process.argv[process.argv.indexOf('--json') + 1]
    : undefined;
  const port = await freePort();
  const loopDelayFile = process.argv.includes('--loop-delay')
    ? join(mkdtempSync(join(tmpdir(), 'pcm-loop-delay-')), 'delay.jsonl')
    : undefined;
  const child = await startService(port, loopDelayFile);
  const url = `http://127.0.0.1:${port}`;
  const out: Record<string, unknown> = {
    connections,
    duration,
    service: process.argv.includes('--compiled') ? 'compiled' : 'tsx',
  };
  try {
    // first request computes the first forecast (and fits the ridge); load starts after it
    await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    out.rssStartMB = rssMB(child.pid!);
    await load(url, connections, 2, undefined, rate); // warm-up (JIT), not reported
    const rss: number[] = [rssMB(child.pid!)];
    const mainFrom = Date.now();
    const main = await load(url, connections, duration, () => rss.push(rssMB(child.pid!)), rate, 1000);
    const mainTo = Date.now();
    rss.push(rssMB(child.pid!));
    out.run = main;
    out.rate = rate ?? null;
    out.rssAfterMB = rssMB(child.pid!);
    out.rssEverySecondMB = rss.map((x) => Math.round(x));
    const m = rssSummary(rss, 1);
    out.rssSummary = m;
    process.stdout.write(
      `POST /predict, ${connections} connections, ${duration} s${rate ? ` at ${rate} req/s offered` : ''}: ` +
        `${main.reqPerSec.toFixed(0)} req/s (${main.requests} requests), ` +
        `p50 ${main.latencyP50ms} ms, p99 ${main.latencyP99ms} ms, max ${main.latencyMaxMs} ms, ` +
        `errors ${main.errors}, timeouts ${main.timeouts}, non-2xx ${main.non2xx}; ` +
        `RSS every 1 s: first ${m.first.toFixed(0)}, min ${m.min.toFixed(0)}, max ${m.max.toFixed(0)}, last ${m.last.toFixed(0)} MB, ` +
        `slope ${m.slopeMBPerMin.toFixed(1)} MB/min (${rss.length} samples: ${rss.map((x) => x.toFixed(0)).join(' ')})\n`,
    );
    if (loopDelayFile) {
      await sleep(1100); // the last second's line
      const d = loopDelaySummary(loopDelayFile, mainFrom, mainTo);
      out.loopDelay = d;
      process.stdout.write(
        `event-loop delay of the service over the run (${d.seconds} one-second samples, 10 ms resolution): ` +
          `per-second mean: median ${d.meanMedianMs} ms, highest ${d.meanMaxMs} ms; per-second p99 highest ${d.p99MaxMs} ms; max ${d.maxMs} ms\n`,
      );
    }
    if (soak) {
      const samples: number[] = [rssMB(child.pid!)];
      const s = await load(url, connections, soak, () => samples.push(rssMB(child.pid!)), rate);
      samples.push(rssMB(child.pid!));
      out.soak = { ...s, seconds: soak, rssMB: samples.map((x) => Math.round(x)) };
      const mid = samples[Math.floor(samples.length / 2)];
      process.stdout.write(
        `soak ${soak} s: ${s.reqPerSec.toFixed(0)} req/s, p99 ${s.latencyP99ms} ms, errors ${s.errors}, timeouts ${s.timeouts}, ` +
          `non-2xx ${s.non2xx}; RSS start/middle/end ${samples[0].toFixed(0)} / ${mid.toFixed(0)} / ${samples[samples.length - 1].toFixed(0)} MB ` +
          `(every 5 s: ${samples.map((x) => x.toFixed(0)).join(' ')})\n`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    if (loopDelayFile) rmSync(dirname(loopDelayFile), { recursive: true, force: true });
  }
  if (process.argv.includes('--no-cache-miss')) {
    if (jsonOut) await writeFileAtomic(jsonOut, `${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const cm = await cacheMiss(241);
  out.cacheMiss = cm;
  process.stdout.write(
    `cache-miss forecast (read 2880 min + quality + features + ${cm.model} predict): ${cm.computes} computes, ` +
      `p50 ${cm.p50ms.toFixed(1)} ms, p95 ${cm.p95ms.toFixed(1)} ms, max ${cm.maxms.toFixed(1)} ms; ` +
      `first compute and one per ${60} telemetry minutes (a ridge refit; a trained model's first run): ${cm.refitMs.join(', ')} ms\n`,
  );
  if (jsonOut) await writeFileAtomic(jsonOut, `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench/speed/serve: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
