import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../timeline/columns.js';

/**
 * The telemetry schema: one point per minute per (cluster, partition), the same columns as the minute
 * timeline (src/timeline/columns.ts), so a live series and a historical timeline are interchangeable.
 * Documented for admins in docs/telemetry.md.
 */

/** The minute-row measurement: tags `cluster`, `partition`; one float field per timeline column + size. */
export const MEASUREMENT = 'pcm_cluster';
/** Node-state gauges from `sinfo` (exporter names), written by `pcm collect` only. */
export const NODES_MEASUREMENT = 'pcm_nodes';
/** The `partition` tag value of a whole-cluster series. */
export const ALL_PARTITIONS = '_all';

/** Cluster-size fields written after the timeline columns (same names as the timeline CSV). */
const SIZE_FIELDS = ['capacity', 'total_cpus'] as const;
export const ROW_FIELDS: readonly string[] = [...TIMELINE_COLUMNS, ...SIZE_FIELDS];

/**
 * Node states counted from `sinfo`, named as prometheus-slurm-exporter's `slurm_nodes_*` gauges
 * (vpenso/prometheus-slurm-exporter nodes.go) so existing dashboards' queries carry over.
 */
export const NODE_STATE_FIELDS = [
  'slurm_nodes_alloc',
  'slurm_nodes_comp',
  'slurm_nodes_down',
  'slurm_nodes_drain',
  'slurm_nodes_err',
  'slurm_nodes_fail',
  'slurm_nodes_idle',
  'slurm_nodes_idle_power_save',
  'slurm_nodes_maint',
  'slurm_nodes_mix',
  'slurm_nodes_resv',
  'slurm_nodes_plnd',
  /** Not in the exporter: nodes powered down (`~`), powering up (`#`), powering down (`%`), any base state. */
  'nodes_powered_down',
  'nodes_powering_up',
  'nodes_powering_down',
] as const;
export type NodeStateField = (typeof NODE_STATE_FIELDS)[number];

/** One minute of one series: the timeline row at instant `time` plus the cluster size. */
export interface TelemetryRow {
  /** Epoch seconds of the minute instant (a multiple of 60 when written by pcm). */
  time: number;
  cluster: string;
  partition: string;
  /** Nodes (busy_nodes is clipped to it) and CPUs (cpu_util denominator) of the series. */
  capacity: number;
  totalCpus: number;
  /** The timeline columns; NaN = not known (a null field read back). */
  values: Record<TimelineColumn, number>;
  /** Node-state gauges (live collection only), written to NODES_MEASUREMENT. */
  nodeStates?: Partial<Record<NodeStateField, number>>;
}

/** A series key for maps: cluster and partition joined by a byte that no valid name contains. */
export function seriesKey(cluster: string, partition: string): string {
  return `${cluster}\u0000${partition}`;
}

/** Names usable as tag values and in queries: letters, digits and `_ . - :`, 1..128 chars, no leading `-`. */
export const NAME_RE = /^[A-Za-z0-9_.:][A-Za-z0-9_.:-]{0,127}$/;

/** Empty values record (all zeros). */
export function zeroValues(): Record<TimelineColumn, number> {
  const v = {} as Record<TimelineColumn, number>;
  for (const c of TIMELINE_COLUMNS) v[c] = 0;
  return v;
}

/** Row i of a timeline as a TelemetryRow. */
export function rowOfTimeline(tl: Timeline, i: number, cluster: string, partition: string): TelemetryRow {
  const values = {} as Record<TimelineColumn, number>;
  for (const c of TIMELINE_COLUMNS) values[c] = tl.columns[c][i];
  return {
    time: tl.start + 60 * i,
    cluster,
    partition,
    capacity: tl.capacity,
    totalCpus: tl.totalCpus,
    values,
  };
}
