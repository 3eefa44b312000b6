/**
 * SWF reader speed: stream-parse every `*.swf` / `*.swf.gz` in a folder (gunzip + split + map), several
 * times each, and print lines, jobs, skipped lines and the best and median wall time per trace.
 *   node --import tsx bench/speed/parse-swf.ts TRACE_DIR [runs=3]
 * Also times gunzip + readline alone (no parsing) once per trace, to show what the parsing itself adds.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openLines } from '../../src/jobs/lines.js';
import { openSwf } from '../../src/jobs/swf.js';
import { usage } from '../lib/args.js';
import { ARCHIVE } from '../lib/traces.js';

const dir =
  process.argv[2] ??
  usage(import.meta.url, 'TRACE_DIR [runs]', [
    `TRACE_DIR: a folder of logs (*.swf, *.swf.gz) from ${ARCHIVE}, e.g. KTH-SP2-1996-2.1-cln.swf.gz`,
  ]);
const runs = Number(process.argv[3] ?? 3);

async function parseOnce(
  path: string,
): Promise<{ ms: number; lines: number; jobs: number; skipped: number }> {
  const t0 = performance.now();
  const src = await openSwf(path);
  let jobs = 0;
  for await (const _ of src.jobs) jobs++;
  return { ms: performance.now() - t0, lines: src.report.lines, jobs, skipped: src.report.skipped };
}

/** Milliseconds to read every line (gunzip + readline) without parsing; throws if no line came. */
async function readOnly(path: string): Promise<number> {
  const t0 = performance.now();
  const ls = await openLines(path);
  let n = 0;
  for await (const _ of ls.lines) n++;
  if (n === 0) throw new Error(`${path}: no lines`);
  return performance.now() - t0;
}

const files = readdirSync(dir)
  .filter((f) => /\.swf(\.gz)?$/.test(f))
  .sort();
const rows: string[] = [];
let totalLines = 0;
let totalBest = 0;
for (const f of files) {
  const path = join(dir, f);
  const times: number[] = [];
  let last = { ms: 0, lines: 0, jobs: 0, skipped: 0 };
  for (let r = 0; r < runs; r++) {
    last = await parseOnce(path);
    times.push(last.ms);
  }
  times.sort((a, b) => a - b);
  const read = await readOnly(path);
  const best = times[0];
  const median = times[Math.floor(times.length / 2)];
  totalLines += last.lines;
  totalBest += best;
  rows.push(
    `| ${f} | ${last.lines} | ${last.jobs} | ${last.skipped} | ${best.toFixed(0)} | ${median.toFixed(0)} | ${read.toFixed(0)} | ${(((last.lines / best) * 1000) / 1e6).toFixed(2)} |`,
  );
}
process.stdout.write(
  `| trace | lines | jobs | skipped | best ms | median ms (${runs} runs) | gunzip+readline only ms | M lines/s |\n|---|---|---|---|---|---|---|---|\n`,
);
process.stdout.write(`${rows.join('\n')}\n`);
process.stdout.write(`total: ${totalLines} lines in ${totalBest.toFixed(0)} ms (sum of best runs)\n`);
