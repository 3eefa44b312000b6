import type { Config } from '../config/schema.js';
import type { Auth } from './auth.js';
import type { ForecastHub, SeriesId } from './forecast-hub.js';
import type { Metrics } from './metrics.js';

/** What the routes share: built once by buildApp. */
export interface ServiceContext {
  config: Config;
  hub: ForecastHub;
  metrics: Metrics;
  auth: Auth;
  clock: () => number;
  backend: { kind: 'influx' | 'memory'; describe: string };
  defaultSeries: SeriesId;
  startedAt: number;
  version: string;
}

/** The series a request names, with the defaults filled in. */
export function seriesOf(ctx: ServiceContext, q: { cluster?: string; partition?: string }): SeriesId {
  return {
    cluster: q.cluster ?? ctx.defaultSeries.cluster,
    partition:
      q.partition ??
      (q.cluster && q.cluster !== ctx.defaultSeries.cluster ? '_all' : ctx.defaultSeries.partition),
  };
}
