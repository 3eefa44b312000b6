import { TelemetryError } from './errors.js';
import { InfluxHttp, type InfluxOptions } from './influx-http.js';
import { rowLines } from './line-protocol.js';
import type { TelemetryRow } from './schema.js';
import type { TelemetryWriter } from './types.js';

/** Lines per POST: InfluxData recommends batches of about 5000 points. */
const DEFAULT_BATCH_LINES = 5000;

/**
 * TelemetryWriter over `/write` (line protocol, precision=s). Rows are formatted (and validated) first, so a
 * bad row fails before anything is sent; then they go out in batches of `batchLines` lines, each retried
 * with exponential backoff on retryable failures (down, slow, 5xx). A batch that still fails throws
 * TelemetryError; the batches before it are stored (InfluxDB overwrites identical points, so the caller
 * can simply write the same rows again later).
 */
export class InfluxWriter implements TelemetryWriter {
  readonly http: InfluxHttp;
  private readonly batchLines: number;
  private readonly signal: AbortSignal | undefined;

  constructor(opts: InfluxOptions | InfluxHttp, o: { batchLines?: number; signal?: AbortSignal } = {}) {
    this.http = opts instanceof InfluxHttp ? opts : new InfluxHttp(opts);
    this.batchLines = o.batchLines ?? DEFAULT_BATCH_LINES;
    this.signal = o.signal;
  }

  async write(rows: readonly TelemetryRow[]): Promise<void> {
    const lines: string[] = [];
    for (const r of rows) for (const l of rowLines(r)) lines.push(l);
    await this.writeLines(lines);
  }

  /** Raw line-protocol lines (seconds precision). */
  async writeLines(lines: readonly string[]): Promise<void> {
    const { database, retentionPolicy } = this.http.opts;
    const params: Record<string, string> = { db: database, precision: 's' };
    if (retentionPolicy) params.rp = retentionPolicy;
    for (let i = 0; i < lines.length; i += this.batchLines) {
      const body = lines.slice(i, i + this.batchLines).join('\n');
      const a = await this.http.requestWithRetry('POST', 'write', params, body, this.signal);
      if (a.status !== 204) {
        throw new TelemetryError(
          'garbage',
          `InfluxDB ${this.http.endpoint} /write: expected 204 No Content, got ${a.status} (is this an InfluxDB?)`,
          a.status,
        );
      }
    }
  }
}
