import { type AnomalyOptions, type AnomalyReport, detectAnomalies } from './anomaly.js';
import { checkQuality, type QualityOptions, type QualityResult } from './quality.js';
import type { TelemetryReader } from './types.js';

/**
 * One read as the service does it: the lookback window of one series (plus the day before it, for the
 * level-vs-yesterday check), its quality check and anomaly flags. The reader's failures
 * (TelemetryError) propagate: the caller turns them into a "no forecast" answer.
 */
export interface AssessOptions extends Omit<QualityOptions, 'now' | 'lookbackMinutes'> {
  lookbackMinutes: number;
  /** The forecast origin (epoch s); default the system clock. */
  now?: number;
  /** Also read the day before the window and compare levels (default true). */
  yesterday?: boolean;
  anomaly?: AnomalyOptions;
}

export interface Assessment {
  quality: QualityResult;
  anomalies: AnomalyReport;
  /** Points read (window plus the day before when asked). */
  pointsRead: number;
}

export async function assess(
  reader: TelemetryReader,
  cluster: string,
  partition: string,
  o: AssessOptions,
): Promise<Assessment> {
  const now = o.now ?? Date.now() / 1000;
  const M = o.lookbackMinutes;
  const withDay = o.yesterday ?? true;
  // the reader counts back from its own clock; one extra minute covers the window's first instant
  const rows = await reader.recent(cluster, partition, M + 1 + (withDay ? 1440 : 0));
  const quality = checkQuality(rows, { ...o, now, lookbackMinutes: M });
  let dayAgo: Float64Array | null = null;
  if (withDay) {
    const dayNow = now - 86400;
    const older = rows.filter((r) => r.time <= dayNow);
    const prev = checkQuality(older, { ...o, now: dayNow, lookbackMinutes: M, maxMissingFraction: 1 });
    // only when yesterday's window actually has data; filled/missing rules as for today
    if (prev.report.counts.present > 0) dayAgo = prev.timeline.columns.busy_nodes;
  }
  const anomalies = detectAnomalies(
    quality.timeline.start,
    quality.timeline.columns.busy_nodes,
    dayAgo,
    o.anomaly,
  );
  return { quality, anomalies, pointsRead: rows.length };
}
