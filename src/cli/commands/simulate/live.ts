import { loadConfig } from '../../../config/load.js';
import { startLiveSimulation } from '../../../sim/live.js';
import { openTelemetry } from '../../../telemetry/index.js';
import { UserError } from '../../../util/errors.js';
import { stopOnSignals } from '../../stop-signals.js';
import type { SimulateOptions } from './options.js';

function isoMinute(t: number): string {
  return new Date(t * 1000).toISOString().replace(':00.000Z', 'Z');
}

/** `--live`: run the generated workload in (accelerated) wall-clock time, one telemetry row per minute. */
export async function runLive(o: SimulateOptions): Promise<void> {
  const cfg = loadConfig(o.config);
  if (o.influx !== undefined) cfg.InfluxDB.URL = o.influx;
  const tel = openTelemetry(cfg);
  if (tel.kind === 'influx') {
    // fail now, with one line, when the InfluxDB is not there (rather than after the first minute)
    await tel.http.ping();
  }
  const speed = o.speed ?? 1;
  const stop = stopOnSignals((sig) =>
    process.stderr.write(`pcm simulate: ${sig}, writing the last rows (again to stop at once)\n`),
  );
  const interactive = Boolean(process.stderr.isTTY);
  try {
    const h = startLiveSimulation(
      {
        sim: cfg.Simulator,
        cluster: cfg.Cluster,
        nodes: o.nodes,
        seed: o.seed,
        days: o.days,
        speed,
        origin: o.origin,
        prerollHours: o.preroll,
        overrun: o.overrun,
        backfill: o.backfill,
        clusterName: o.cluster,
        signal: stop.signal,
        onRows: (rows) => {
          if (o.json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
          if (interactive) {
            const r = rows[rows.length - 1];
            const v = r.values;
            process.stderr.write(
              `${isoMinute(r.time)} ${r.cluster}: busy ${v.busy_nodes}/${r.capacity} nodes, ${v.running_jobs} running, ${v.queued_jobs} queued${rows.length > 1 ? ` (${rows.length} rows)` : ''}\n`,
            );
          }
        },
        onError: (m) => process.stderr.write(`pcm simulate: ${m}\n`),
      },
      tel.writer,
    );
    process.stderr.write(
      `pcm simulate: live on ${h.nodes} nodes, speed ${speed}x, simulated clock from ${isoMinute(h.origin)}` +
        `${h.firstRow < h.origin ? ` (pre-roll from ${isoMinute(h.firstRow)})` : ''}, writing to ${tel.describe}\n`,
    );
    const res = await h.done;
    const span =
      res.firstRowTime !== null && res.lastRowTime !== null
        ? `${isoMinute(res.firstRowTime)} .. ${isoMinute(res.lastRowTime)}, last row at ${res.lastRowTime}`
        : 'none';
    process.stderr.write(
      `pcm simulate: ${res.reason === 'exhausted' ? 'workload ended' : `stopped${stop.reason() ? ` by ${stop.reason()}` : ''}`}; ` +
        `wrote ${res.rowsWritten} rows (${span})${res.pending ? `, ${res.pending} not written` : ''}\n`,
    );
    if (res.pending > 0 || res.dropped > 0)
      throw new UserError(`stopped with rows not written (${res.pending} pending, ${res.dropped} dropped)`);
  } finally {
    stop.dispose();
  }
}
