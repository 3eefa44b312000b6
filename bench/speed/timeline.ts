/**
 * Timeline builder speed and memory on a synthetic year: 1,000,000 jobs (seeded), 1024 nodes.
 *   node --import tsx bench/speed/timeline.ts [jobs] [--keep-csv PATH]
 * Prints generation time (the input stream alone), build time (add + sweep, minus generation),
 * peak RSS, and CSV write/read times. Targets: build < 5 s, peak RSS < 500 MB.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRecord } from '../../src/jobs/record.js';
import { TimelineBuilder } from '../../src/timeline/build.js';
import { readTimelineCsv, writeTimelineCsv } from '../../src/timeline/csv.js';

const args = process.argv.slice(2);
const keepAt = args.indexOf('--keep-csv');
const keep = keepAt >= 0 ? args.splice(keepAt, 2)[1] : undefined;
const N = Number(args[0] ?? 1_000_000);
const NODES = 1024;
const YEAR0 = Date.UTC(2024, 0, 1) / 1000;
const SPAN = 365 * 86400;

/** xorshift32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Poisson arrivals over one year; power-of-two sizes; log-uniform run times (1 min .. 12 h); limits round up to hours. */
function* jobs(n: number, seed = 42): Generator<JobRecord> {
  const r = rng(seed);
  const mean = SPAN / n;
  let t = YEAR0;
  for (let k = 0; k < n; k++) {
    t += -Math.log(1 - r()) * mean;
    const submit = Math.floor(t);
    const start = submit + Math.floor(-Math.log(1 - r()) * 600);
    const run = Math.floor(60 * Math.exp(r() * Math.log(720)));
    const nodes = 1 << Math.floor(r() * r() * r() * 8);
    yield {
      id: String(k + 1),
      submit,
      eligible: null,
      start,
      end: start + run,
      nodes,
      cpus: nodes * 32,
      timeLimit: r() < 0.1 ? null : Math.ceil((run * (1 + r())) / 3600) * 3600,
      partition: 'batch',
      state: 'COMPLETED',
      user: String(k % 300),
      nodeList: null,
    };
  }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const rssStart = process.memoryUsage().rss / 1024;
let t0 = performance.now();
let count = 0;
for (const _ of jobs(N)) count++;
const genMs = performance.now() - t0;

t0 = performance.now();
const b = new TimelineBuilder({ capacity: NODES, cpusPerNode: 32 });
for (const j of jobs(N)) b.add(j);
const addMs = performance.now() - t0;
t0 = performance.now();
const tl = b.finish();
const sweepMs = performance.now() - t0;
const rssBuild = process.resourceUsage().maxRSS;

const csv = keep ?? join(tmpdir(), `pcm-bench-timeline-${process.pid}.csv`);
t0 = performance.now();
writeTimelineCsv(csv, tl);
const writeMs = performance.now() - t0;
t0 = performance.now();
const back = await readTimelineCsv(csv);
const readMs = performance.now() - t0;
if (!keep) rmSync(csv, { force: true });
if (back.minutes !== tl.minutes) throw new Error('CSV round trip lost rows');

let busy = 0;
let over = 0;
for (let i = 0; i < tl.minutes; i++) {
  busy += tl.columns.busy_nodes[i];
  if (tl.columns.overshoot_nodes[i] > 0) over++;
}
const busyMean = (busy / tl.minutes).toFixed(1);
console.log(
  `jobs                ${count}, ${tl.minutes} minutes, mean busy ${busyMean} / ${NODES}, overshoot in ${over} minutes`,
);
console.log(`generate input      ${s(genMs)} (the job stream alone, not part of the build)`);
console.log(`stream + add        ${s(addMs)}`);
console.log(`sweep (finish)      ${s(sweepMs)}`);
console.log(`build               ${s(addMs - genMs + sweepMs)} (stream + add - stream alone + sweep)`);
console.log(`RSS at start        ${mb(rssStart)} (node + tsx, before any job)`);
console.log(`peak RSS (build)    ${mb(rssBuild)}`);
console.log(`write CSV           ${s(writeMs)}`);
console.log(`read CSV            ${s(readMs)}`);
console.log(`peak RSS (all)      ${mb(process.resourceUsage().maxRSS)}`);
