/**
 * Preloaded into `pcm serve` by `bench/speed/serve.ts --loop-delay` (node --import): the event loop's delay
 * (perf_hooks.monitorEventLoopDelay, 10 ms resolution), one JSON line a second appended to the file named
 * by PCM_BENCH_LOOP_DELAY: `{t, mean, p99, max}` in ms over that second, above the resolution. The
 * per-second mean is what @fastify/under-pressure's maxEventLoopDelay compares (its sampleInterval is 1 s).
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.PCM_BENCH_LOOP_DELAY;
if (file) {
  const RESOLUTION_MS = 10;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  // the histogram holds the time between the 10 ms timer's runs: the delay is what exceeds 10 ms
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  setInterval(() => {
    const line = { t: Date.now(), mean: ms(h.mean), p99: ms(h.percentile(99)), max: ms(h.max) };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    h.reset();
  }, 1000).unref();
}
