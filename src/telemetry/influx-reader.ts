import { z } from 'zod';
import { TIMELINE_COLUMNS, type TimelineColumn } from '../timeline/columns.js';
import { TelemetryError } from './errors.js';
import { InfluxHttp, type InfluxOptions } from './influx-http.js';
import { checkName, selectRecent } from './influxql.js';
import { MEASUREMENT, ROW_FIELDS, type TelemetryRow } from './schema.js';
import type { TelemetryReader } from './types.js';

/** The /query answer (InfluxDB 1.x JSON, also 2.x v1-compat), checked at the edge. */
const Cell = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const QueryAnswer = z.object({
  results: z.array(
    z.object({
      statement_id: z.number().optional(),
      error: z.string().optional(),
      series: z
        .array(
          z.object({
            name: z.string(),
            tags: z.record(z.string(), z.string()).optional(),
            columns: z.array(z.string()),
            values: z.array(z.array(Cell)).optional(),
          }),
        )
        .optional(),
    }),
  ),
  error: z.string().optional(),
});
export type QueryAnswer = z.infer<typeof QueryAnswer>;

/**
 * TelemetryReader over `/query` (InfluxQL, epoch=ms). Names are validated and quoted (influxql.ts).
 * Fields that are null in a point read back as NaN; rows come sorted by time, future points included.
 */
export class InfluxReader implements TelemetryReader {
  readonly http: InfluxHttp;
  private readonly signal: AbortSignal | undefined;

  constructor(opts: InfluxOptions | InfluxHttp, o: { signal?: AbortSignal } = {}) {
    this.http = opts instanceof InfluxHttp ? opts : new InfluxHttp(opts);
    this.signal = o.signal;
  }

  /** Run one InfluxQL statement; returns its checked answer or throws TelemetryError. */
  async query(q: string, method: 'GET' | 'POST' = 'GET'): Promise<QueryAnswer> {
    const { database, retentionPolicy } = this.http.opts;
    const params: Record<string, string> = { db: database, epoch: 'ms', q };
    if (retentionPolicy) params.rp = retentionPolicy;
    const a = await this.http.requestWithRetry(method, 'query', params, undefined, this.signal);
    const where = `InfluxDB ${this.http.endpoint} /query`;
    let json: unknown;
    try {
      json = JSON.parse(a.body);
    } catch {
      const head = this.http.scrub(a.body.slice(0, 40).replace(/\s+/g, ' '));
      throw new TelemetryError(
        'garbage',
        `${where}: answer is not JSON (content-type ${a.contentType || 'none'}, starts ${JSON.stringify(head)})`,
        a.status,
      );
    }
    const parsed = QueryAnswer.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new TelemetryError(
        'garbage',
        `${where}: answer has the wrong shape (${i.path.join('.') || 'top level'}: ${i.message})`,
        a.status,
      );
    }
    const ans = parsed.data;
    const err = ans.error ?? ans.results.find((r) => r.error)?.error;
    if (err !== undefined) {
      const kind = /database not found/.test(err) ? 'not_found' : 'bad_request';
      throw new TelemetryError(kind, `${where}: ${this.http.scrub(err)}`, a.status);
    }
    return ans;
  }

  async recent(cluster: string, partition: string, minutes: number): Promise<TelemetryRow[]> {
    checkName('cluster', cluster);
    checkName('partition', partition);
    const q = selectRecent({
      retentionPolicy: this.http.opts.retentionPolicy,
      measurement: MEASUREMENT,
      fields: ROW_FIELDS,
      tags: { cluster, partition },
      minutes,
    });
    const ans = await this.query(q);
    const rows: TelemetryRow[] = [];
    for (const s of ans.results[0]?.series ?? []) {
      const at = (name: string) => s.columns.indexOf(name);
      const ti = at('time');
      if (ti < 0)
        throw new TelemetryError(
          'garbage',
          `InfluxDB ${this.http.endpoint} /query: series has no time column`,
        );
      const idx = TIMELINE_COLUMNS.map(at);
      const ci = at('capacity');
      const ui = at('total_cpus');
      for (const v of s.values ?? []) {
        const t = v[ti];
        if (typeof t !== 'number') {
          throw new TelemetryError(
            'garbage',
            `InfluxDB ${this.http.endpoint} /query: time is not epoch ms (${typeof t})`,
          );
        }
        const values = {} as Record<TimelineColumn, number>;
        TIMELINE_COLUMNS.forEach((c, k) => {
          values[c] = num(idx[k] < 0 ? null : v[idx[k]]);
        });
        rows.push({
          time: t / 1000,
          cluster,
          partition,
          capacity: num(ci < 0 ? null : v[ci]),
          totalCpus: num(ui < 0 ? null : v[ui]),
          values,
        });
      }
    }
    rows.sort((a, b) => a.time - b.time);
    return rows;
  }
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : Number.NaN;
}
