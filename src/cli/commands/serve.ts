import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { DEFAULT_SERVICE_PORT } from '../../config/schema.js';
import { buildApp, configuredSeries } from '../../service/app.js';
import { authFromConfig } from '../../service/auth.js';
import { type Feed, ReplayFeed, SimulatorFeed } from '../../service/feed.js';
import { ForecastSink } from '../../service/forecast-sink.js';
import { loadForecaster } from '../../service/forecasters.js';
import { serviceLog } from '../../service/logging.js';
import {
  FORECAST_MEASUREMENT,
  ForecastWriter,
  WARM_POOL_MEASUREMENT,
} from '../../telemetry/forecast-writer.js';
import { openTelemetry } from '../../telemetry/index.js';
import { NAME_RE } from '../../telemetry/schema.js';
import { readTimelineCsv } from '../../timeline/csv.js';
import { UserError } from '../../util/errors.js';
import { listenError } from '../listen.js';
import { configOption, intOption, numberOption, patternOption, type Range } from '../options.js';

/** Replay / live feed speed: data minutes per wall minute (also `pcm demo --speed`). */
export const FEED_SPEED: Range = { minimum: 0.01, maximum: 100_000 };

/** How to choose another address, in serve's error line. */
const PORT_HOW = 'choose another with --port N (or --host, or Predictor.URL in the config)';

/** What a series tag (cluster, partition) may be, in words (telemetry's NAME_RE). */
const NAME = 'letters, digits or _ . : - (max 128)';

interface ServeOptions {
  config?: string;
  timeline?: string;
  speed: number;
  port?: number;
  host?: string;
  nodes?: number;
  simDays: number;
  cluster?: string;
  partition: string;
  log: boolean;
}

/** Where to listen: --host/--port, else the seed's Predictor.URL. */
function listenAddress(url: string, o: ServeOptions): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(
      `Predictor.URL: expected a URL such as http://127.0.0.1:${DEFAULT_SERVICE_PORT}, got '${url}'`,
    );
  }
  return {
    host: o.host ?? u.hostname.replace(/^\[|\]$/g, ''),
    port: o.port ?? Number(u.port || DEFAULT_SERVICE_PORT),
  };
}

async function serve(o: ServeOptions): Promise<void> {
  const cfg = loadConfig(o.config);
  authFromConfig(cfg.Service); // a weak token, or reads to guard with none, fails here before anything starts
  const { host, port } = listenAddress(cfg.Predictor.URL, o);
  const note = (m: string) => process.stderr.write(`pcm serve: ${m}\n`);
  let clock = () => Date.now() / 1000;
  const tel = openTelemetry(cfg, { memory: { now: () => clock() } });
  const model = await loadForecaster(cfg, note);
  let feed: Feed | null = null;
  let series = configuredSeries(cfg);
  if (tel.kind === 'influx') {
    if (o.timeline)
      throw new UserError(
        '--timeline replays into the embedded store; unset InfluxDB.URL (and PCM_INFLUX_URL) to use it',
      );
  } else {
    const id = { cluster: o.cluster ?? cfg.Cluster.Name, partition: o.partition };
    const preloadMinutes = model.contextMinutes + 60;
    if (o.timeline) {
      const tl = await readTimelineCsv(o.timeline, o.nodes ? { capacity: o.nodes } : {});
      feed = new ReplayFeed(tel.store, tl, { series: id, speed: o.speed, preloadMinutes });
      note(`${o.timeline}: ${feed.describe}`);
    } else {
      const cluster = { ...cfg.Cluster, Nodes: o.nodes ?? cfg.Cluster.Nodes };
      feed = new SimulatorFeed(tel.store, {
        series: id,
        sim: cfg.Simulator,
        cluster,
        speed: o.speed,
        preloadMinutes,
        days: o.simDays,
        onError: note,
      });
      note(`no InfluxDB and no --timeline: ${feed.describe} (Simulator section of the config)`);
    }
    const f = feed;
    clock = () => f.now();
    series = [id];
  }
  // each minute's forecast back into InfluxDB, beside the telemetry (Grafana: deploy/grafana/)
  const forecastSink =
    tel.kind === 'influx' && cfg.Service.WriteForecasts
      ? new ForecastSink(new ForecastWriter(tel.writer, { onError: note, onRecover: note }), cfg.Power)
      : undefined;
  // embedded feeds announce each row as they write it (hub.notify): no ingest grace needed
  const config = feed ? { ...cfg, Service: { ...cfg.Service, IngestGraceSeconds: 0 } } : cfg;
  let built: ReturnType<typeof buildApp>;
  try {
    built = buildApp({
      config,
      reader: tel.reader,
      forecaster: model,
      clock: () => clock(),
      backend: { kind: tel.kind, describe: tel.describe },
      series,
      log: serviceLog(cfg.Service.LogLevel, o.log),
      forecastSink,
    });
  } catch (e) {
    feed?.stop(); // the live simulation runs from its construction: stop it, or the process never exits
    throw e;
  }
  const { app, hub } = built;
  feed?.start((s) => hub.notify(s));
  hub.start();
  try {
    await app.listen({ host, port });
  } catch (e) {
    feed?.stop();
    hub.stop();
    throw listenError(host, port, e, PORT_HOW);
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const base = `http://${shown}:${bound}`;
  process.stdout.write(
    `pcm serve: listening on ${base} (dashboard ${base}/dashboard/, API ${base}/openapi.json)\n` +
      `  telemetry: ${tel.describe}; model: ${model.kind} ${model.name}; series: ${series.map((s) => `${s.cluster}/${s.partition}`).join(', ')}\n` +
      (forecastSink
        ? `  forecasts: written to InfluxDB (${FORECAST_MEASUREMENT}, ${WARM_POOL_MEASUREMENT})\n`
        : ''),
  );
  // run until SIGINT / SIGTERM, then stop taking requests, finish the ones in flight, and exit
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`pcm serve: ${sig}, shutting down\n`);
      feed?.stop();
      hub.stop();
      void app
        .close()
        .then(() => hub.idle())
        .finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'run the prediction service: HTTP API (/predict, /forecast/latest, /health, /metrics, /openapi.json) and dashboard; ' +
        'reads InfluxDB when configured, else an embedded store fed by replaying --timeline or by the live simulator',
    )
    .option('--config <file>', 'YAML config (Predictor, InfluxDB, Cluster, Service, Power sections)')
    .option(
      '--timeline <file>',
      'timeline CSV (or a directory of job_timeline_*.csv) to replay into the embedded store',
    )
    .addOption(
      numberOption(
        '--speed <n>',
        'replay speed: data minutes per wall minute (60 = one minute of data per second)',
        FEED_SPEED,
        1,
      ),
    )
    .addOption(
      intOption('--port <p>', 'port (default: the port of Predictor.URL)', { minimum: 0, maximum: 65_535 }),
    )
    .option('--host <h>', 'address to listen on (default: the host of Predictor.URL)')
    .addOption(
      configOption(
        '--nodes <n>',
        'cluster nodes: of the live simulation, or when the timeline CSV has no capacity column',
        'Cluster.Nodes',
      ),
    )
    .addOption(
      intOption(
        '--sim-days <d>',
        'without InfluxDB and --timeline: simulated days the live simulation runs before its workload ends',
        { minimum: 1, maximum: 3650 },
        7,
      ),
    )
    .addOption(
      patternOption(
        '--cluster <name>',
        'cluster name of the embedded series (default Cluster.Name)',
        NAME_RE,
        NAME,
      ),
    )
    .addOption(patternOption('--partition <name>', 'partition of the embedded series', NAME_RE, NAME, '_all'))
    .option('--log', 'log every request (JSON lines on stdout)', false)
    .action(serve);
}
