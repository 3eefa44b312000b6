// Telemetry costs per call: line formatting, memory store, quality check, and (given a URL) a real InfluxDB
// round trip.  node --import tsx bench/speed/telemetry.ts [http://127.0.0.1:8086]

import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { rowLines } from '../../src/telemetry/line-protocol.js';
import { MemoryStore } from '../../src/telemetry/memory-store.js';
import { checkQuality } from '../../src/telemetry/quality.js';
import { type TelemetryRow, zeroValues } from '../../src/telemetry/schema.js';
import { TIMELINE_COLUMNS } from '../../src/timeline/columns.js';

const WEEK = 10080;
const now = Math.floor(Date.now() / 60000) * 60;
const rows: TelemetryRow[] = Array.from({ length: WEEK }, (_, i) => {
  const values = zeroValues();
  TIMELINE_COLUMNS.forEach((c, k) => {
    values[c] = ((i * 7 + k * 13) % 97) / (c === 'cpu_util' ? 97 : 1);
  });
  return {
    time: now - 60 * (WEEK - 1 - i),
    cluster: 'bench',
    partition: '_all',
    capacity: 128,
    totalCpus: 4096,
    values,
  };
});

function time(label: string, reps: number, f: () => unknown): void {
  f();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) f();
  const ms = (performance.now() - t0) / reps;
  console.log(`${label.padEnd(52)} ${ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(2)} ms`}`);
}

time('format 10080 rows as line protocol', 20, () => rows.map(rowLines));
const store = new MemoryStore({ now: () => now + 5 });
time('memory store: write 10080 rows (in order, overwrite)', 20, () => store.writeSync(rows));
time('memory store: recent 240 min', 2000, () => store.recentSync('bench', '_all', 240));
time('memory store: recent 10080 min', 50, () => store.recentSync('bench', '_all', WEEK));
const last240 = rows.slice(-240);
time('checkQuality: 240-minute lookback', 2000, () =>
  checkQuality(last240, { now: now + 5, lookbackMinutes: 240 }),
);
time('checkQuality: 10080-minute lookback', 50, () =>
  checkQuality(rows, { now: now + 5, lookbackMinutes: WEEK }),
);

const url = process.argv[2];
if (url) {
  const db = `pcm_bench_${process.pid}`;
  const opts = { url, database: db, timeoutMs: 30_000, retries: 0, backoffMs: 100 };
  const r = new InfluxReader(opts);
  await r.query(`CREATE DATABASE "${db}"`, 'POST');
  try {
    const w = new InfluxWriter(opts);
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      await w.write(rows);
      const t1 = performance.now();
      const got = await r.recent('bench', '_all', WEEK);
      const t2 = performance.now();
      await r.recent('bench', '_all', 240);
      const t3 = performance.now();
      console.log(
        `influx run ${k + 1}: write 10080 rows ${(t1 - t0).toFixed(0)} ms, read ${got.length} rows ${(t2 - t1).toFixed(0)} ms, ` +
          `read 240 ${(t3 - t2).toFixed(1)} ms`,
      );
    }
  } finally {
    await r.query(`DROP DATABASE "${db}"`, 'POST');
  }
}
