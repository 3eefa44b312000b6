import type { Config } from '../config/schema.js';
import { InfluxHttp, influxOptionsFromConfig, warnUnusedInfluxKeys } from './influx-http.js';
import { InfluxReader } from './influx-reader.js';
import { InfluxWriter } from './influx-writer.js';
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';

export type { TelemetryReader, TelemetryWriter } from './types.js';

/**
 * The telemetry backend the config asks for: InfluxDB when `InfluxDB.URL` (or PCM_INFLUX_URL) is set,
 * else the embedded memory store. One writer for the simulator's live mode, `pcm collect` and the service.
 */
export type Telemetry =
  | { kind: 'influx'; reader: InfluxReader; writer: InfluxWriter; http: InfluxHttp; describe: string }
  | { kind: 'memory'; reader: MemoryStore; writer: MemoryStore; store: MemoryStore; describe: string };

export function openTelemetry(
  cfg: Pick<Config, 'InfluxDB'>,
  o: { signal?: AbortSignal; memory?: MemoryStoreOptions } = {},
): Telemetry {
  warnUnusedInfluxKeys(cfg.InfluxDB);
  const opts = influxOptionsFromConfig(cfg.InfluxDB);
  if (opts) {
    const http = new InfluxHttp(opts);
    const rp = opts.retentionPolicy ? `, retention policy ${opts.retentionPolicy}` : '';
    return {
      kind: 'influx',
      http,
      reader: new InfluxReader(http, { signal: o.signal }),
      writer: new InfluxWriter(http, { signal: o.signal }),
      describe: `InfluxDB ${http.endpoint}, database ${opts.database}${rp}`,
    };
  }
  const store = new MemoryStore(o.memory);
  return {
    kind: 'memory',
    store,
    reader: store,
    writer: store,
    describe: `embedded memory store (${store.maxMinutes} minutes per series)`,
  };
}
