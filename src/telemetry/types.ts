import type { TelemetryRow } from './schema.js';

/**
 * Where minute rows are read from: the Influx reader (InfluxQL over HTTP) or the in-process memory store.
 * `recent` returns the rows of one series with time > now - minutes, sorted by time (points in the
 * future are returned too, so the quality check can see clock skew).
 */
export interface TelemetryReader {
  recent(cluster: string, partition: string, minutes: number): Promise<TelemetryRow[]>;
}

/** Where minute rows go: the Influx line-protocol writer or the memory store. */
export interface TelemetryWriter {
  write(rows: readonly TelemetryRow[]): Promise<void>;
}
