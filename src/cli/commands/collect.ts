import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { collect, type SlurmSnapshot } from '../../telemetry/collector.js';
import { CsvSink } from '../../telemetry/csv-sink.js';
import { openTelemetry } from '../../telemetry/index.js';
import { ALL_PARTITIONS, type TelemetryRow } from '../../telemetry/schema.js';
import { SPOOL_MAX_ROWS, Spool } from '../../telemetry/spool.js';
import type { TelemetryWriter } from '../../telemetry/types.js';
import { readEndingTable } from '../../timeline/survival.js';
import { UserError } from '../../util/errors.js';
import { intOption } from '../options.js';
import { stopOnSignals } from '../stop-signals.js';

interface CollectCliOptions {
  config?: string;
  cluster?: string;
  partition?: string;
  interval: number;
  once?: boolean;
  out?: string;
  influx: boolean;
  json?: boolean;
  endingTable?: string;
  spool?: string;
}

function summaryLine(row: TelemetryRow, snap: SlurmSnapshot): string {
  const v = row.values;
  const t = new Date(row.time * 1000).toISOString().slice(0, 16);
  return (
    `${t}Z ${row.cluster}/${row.partition}: busy ${v.busy_nodes}/${row.capacity} nodes, ` +
    `${v.running_jobs} running, ${v.queued_jobs} queued, cpu ${(100 * v.cpu_util).toFixed(1)} % ` +
    `(${snap.report.jobs} jobs from squeue${snap.report.skipped ? `, ${snap.report.skipped} lines skipped` : ''})`
  );
}

export function register(program: Command): void {
  program
    .command('collect')
    .description(
      'every interval, compute the current minute row (busy nodes, queue, ...) from Slurm (squeue/sinfo) ' +
        'and write it to InfluxDB (InfluxDB.URL / PCM_INFLUX_URL) and/or append it to a CSV (--out)',
    )
    .option('--config <file>', 'YAML config (InfluxDB and Cluster sections)')
    .option('--cluster <name>', 'cluster tag of the series (default Cluster.Name)')
    .option(
      '--partition <name>',
      `only this Slurm partition (default: the whole cluster, tagged ${ALL_PARTITIONS})`,
    )
    .addOption(
      intOption(
        '--interval <s>',
        'seconds between rows, aligned to the clock',
        { minimum: 1, maximum: 86_400, unit: 'seconds' },
        60,
      ),
    )
    .option('--once', 'collect one row, write it and exit')
    .option('--out <file>', 'append rows to this CSV (timeline CSV columns + cluster,partition)')
    .option('--no-influx', 'do not write to InfluxDB even if one is configured')
    .option(
      '--spool <file>',
      `keep rows not yet in InfluxDB in this file (fsynced; read back on start; at most ${SPOOL_MAX_ROWS} rows)`,
    )
    .option('--json', 'print each row as a JSON line on stdout')
    .option(
      '--ending-table <file>',
      'table for expected_end_30m_nodes written by pcm timeline --ending-table (default: the time-limit prior)',
    )
    .addHelpText(
      'after',
      '\nStops cleanly on SIGINT/SIGTERM (the current minute is finished). While InfluxDB is unreachable, rows\n' +
        'are kept (up to one day in memory; with --spool on disk, across restarts and crashes) and written when\n' +
        'it is back, beside the sampling. Needs squeue/sinfo on PATH (and SLURM_CONF).',
    )
    .action(async (o: CollectCliOptions) => {
      const cfg = loadConfig(o.config);
      const endingTable = o.endingTable ? readEndingTable(o.endingTable) : undefined;
      const sinks: Array<{ name: string; writer: TelemetryWriter; pending?: Spool }> = [];
      let csv: CsvSink | undefined;
      const note = (m: string) => process.stderr.write(`pcm collect: ${m}\n`);
      if (o.spool && !(o.influx && cfg.InfluxDB.URL))
        throw new UserError('--spool: no InfluxDB to spool for: set InfluxDB.URL (or PCM_INFLUX_URL)');
      if (o.influx && cfg.InfluxDB.URL) {
        const t = openTelemetry(cfg);
        const pending = o.spool ? Spool.open(o.spool, SPOOL_MAX_ROWS, note) : undefined;
        sinks.push({ name: t.describe, writer: t.writer, pending });
      }
      if (o.out) {
        csv = new CsvSink(o.out);
        sinks.push({ name: o.out, writer: csv });
      }
      if (sinks.length === 0 && !o.json) {
        throw new UserError(
          'nowhere to write: set InfluxDB.URL (or PCM_INFLUX_URL), give --out FILE, or --json to print rows',
        );
      }
      const stop = stopOnSignals((sig) =>
        process.stderr.write(`pcm collect: ${sig}, finishing the current minute (again to stop at once)\n`),
      );
      const interactive = Boolean(process.stderr.isTTY);
      try {
        const res = await collect({
          cluster: o.cluster ?? cfg.Cluster.Name,
          partition: o.partition ?? ALL_PARTITIONS,
          slurmPartition: o.partition,
          intervalS: o.interval,
          once: Boolean(o.once),
          endingTable,
          sinks,
          signal: stop.signal,
          onRow: (row, snap) => {
            if (o.json) process.stdout.write(`${JSON.stringify(row)}\n`);
            if (interactive || o.once) process.stderr.write(`${summaryLine(row, snap)}\n`);
          },
          onError: note,
        });
        const spooled = new Set(sinks.filter((s) => s.pending).map((s) => s.name));
        for (const [n, s] of Object.entries(res.sinks))
          if (spooled.has(n) && s.pending > 0)
            note(`${n}: ${s.pending} row(s) left in ${o.spool} for the next start`);
        const lost = Object.entries(res.sinks).filter(
          ([n, s]) => (s.pending > 0 && !spooled.has(n)) || s.dropped > 0,
        );
        if (lost.length) {
          const what = lost.map(([n, s]) => `${n}: ${s.pending} pending, ${s.dropped} dropped`).join('; ');
          throw new UserError(`stopped with rows not written (${what})`);
        }
      } finally {
        stop.dispose();
        csv?.close();
      }
    });
}
