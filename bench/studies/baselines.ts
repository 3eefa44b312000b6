/**
 * Baselines on the exact-node archive traces: persistence, seasonal naive (day, week) and ridge,
 * last 20 % of the time as test (10 % before it as validation), every minute an origin.
 *
 *   node --import tsx bench/studies/baselines.ts TRACE_DIR [--only KTH] [--json out.json]
 *
 * TRACE_DIR holds the four Parallel Workloads Archive logs of ACCURACY_LOGS (bench/lib/traces.ts).
 *
 * Prints h=30 MAE / RMSE / R^2 and P10-P90 coverage per trace and baseline, plus timings.
 * Timings on the shared 2-core dev box are noisy; repeat before quoting them.
 */
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { openSwf } from '../../src/jobs/swf.js';
import { makeDataset } from '../../src/model/dataset.js';
import { buildFeatures } from '../../src/model/features.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../../src/timeline/columns.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { positionals, strArg } from '../lib/args.js';
import { ACCURACY_LOGS, checkTraceDir } from '../lib/traces.js';

/** Feature building on one synthetic year of minutes (525,600 rows), DST zone + holidays, 3 runs. */
function featuresYear(): void {
  const n = 525_600;
  const columns = {} as Record<TimelineColumn, Float64Array>;
  for (const c of TIMELINE_COLUMNS) columns[c] = Float64Array.from({ length: n }, (_, t) => (t * 7919) % 500);
  const tl: Timeline = {
    start: Date.UTC(2024, 0, 1) / 1000,
    minutes: n,
    capacity: 500,
    totalCpus: 500,
    columns,
  };
  const runs: string[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    buildFeatures(tl, { timeZone: 'Europe/Stockholm', holidayCountry: 'SE' });
    runs.push(((performance.now() - t0) / 1000).toFixed(2));
  }
  process.stderr.write(`features for 525,600 rows (Europe/Stockholm, SE holidays): ${runs.join(' / ')} s\n`);
}

async function main(): Promise<void> {
  const only = strArg('only');
  const jsonOut = strArg('json');
  const logs = ACCURACY_LOGS.filter((l) => !only || l.name.toLowerCase().includes(only.toLowerCase()));
  const synopsis = 'TRACE_DIR [--only NAME] [--json OUT]';
  const dir = checkTraceDir(positionals(['only', 'json'])[0], logs, import.meta.url, synopsis);
  featuresYear();
  const all: Record<string, unknown> = {};
  const rows: string[][] = [
    ['trace', 'model', 'MAE@30', 'RMSE@30', 'R2@30', 'cov@30', 'width@30', 'meanMAE', 'fit s', 'pred s'],
  ];
  for (const tr of logs) {
    const t0 = performance.now();
    const src = await openSwf(join(dir, tr.file), { ppn: tr.ppn });
    const tl = await buildTimeline(src.jobs, { capacity: tr.capacity, cpusPerNode: tr.ppn });
    const t1 = performance.now();
    const features = buildFeatures(tl, { timeZone: src.meta.timeZone ?? 'UTC' });
    const t2 = performance.now();
    const res = await evaluate(makeDataset(tl, features, 30), undefined, {
      split: { testFraction: 0.2, validFraction: 0.1 },
    });
    const t3 = performance.now();
    process.stderr.write(
      `${tr.name}: ${tl.minutes} minutes, tz ${src.meta.timeZone ?? 'UTC'}; timeline ${((t1 - t0) / 1000).toFixed(2)} s, ` +
        `features ${((t2 - t1) / 1000).toFixed(2)} s, evaluate ${((t3 - t2) / 1000).toFixed(2)} s, ${res.testSamples} test origins\n`,
    );
    for (const name of res.order) {
      const m = res.models[name];
      const h = 29;
      rows.push([
        tr.name,
        name,
        m.metrics.mae[h].toFixed(2),
        m.metrics.rmse[h].toFixed(2),
        m.metrics.r2[h].toFixed(3),
        m.metrics.coverage_p10_p90[h].toFixed(3),
        m.metrics.interval_width[h].toFixed(1),
        m.mean.mae.toFixed(2),
        m.fitSeconds.toFixed(2),
        m.predictSeconds.toFixed(2),
      ]);
      all[`${tr.name}/${name}`] = {
        h30: {
          mae: m.metrics.mae[h],
          rmse: m.metrics.rmse[h],
          r2: m.metrics.r2[h],
          coverage: m.metrics.coverage_p10_p90[h],
        },
        mean: m.mean,
      };
    }
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((v, c) => (c < 2 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ')}\n`);
  if (jsonOut) await writeFileAtomic(jsonOut, `${JSON.stringify(all, null, 2)}\n`);
}

await main();
