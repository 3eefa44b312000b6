import type { JobRecord, ParseReport } from './record.js';

/** What a source knows about the machine the jobs ran on (SWF header, DB cluster table, ...). */
export interface SourceMeta {
  /** Total nodes of the machine, when the source says (SWF MaxNodes). */
  maxNodes?: number;
  /** Total processors, when the source says (SWF MaxProcs). */
  maxProcs?: number;
  /** Processors per node used to turn processors into nodes. */
  ppn?: number;
  /** IANA time zone of the site (SWF TimeZoneString). */
  timeZone?: string;
  /** Free-form header facts (SWF `; Keyword: value` lines), for summaries. */
  header?: Record<string, string>;
}

/**
 * An opened job source. `jobs` streams records (read it once); `report` fills in while it is read
 * and is complete when the iteration ends. `meta` is known after opening (for SWF: after the header).
 */
export interface JobSource {
  kind: 'swf' | 'sacct' | 'csv' | 'slurmdb';
  meta: SourceMeta;
  jobs: AsyncIterable<JobRecord>;
  report: ParseReport;
}

export interface OpenOptions {
  /** Processors per node (SWF: processors -> nodes = ceil(procs / ppn)). */
  ppn?: number;
  /** Only jobs that overlap [since, until) (epoch s). */
  since?: number;
  until?: number;
  /** Slurm DB: cluster name (table `<cluster>_job_table`). */
  cluster?: string;
  /** Slurm DB: password (else from the URL or env PCM_SLURMDB_PASSWORD). */
  password?: string;
  /** Slurm DB: rows per query (config SlurmDB.BatchRows); default DEFAULT_BATCH_ROWS. */
  batchRows?: number;
  /** Slurm DB: a query with no answer for this long fails (config SlurmDB.QueryTimeoutSeconds). */
  queryTimeoutMs?: number;
  /** Slurm DB: TLS (config SlurmDB.TLS): a CA file, and whether to verify the server's certificate. */
  tls?: { caFile?: string; verify: boolean };
}

/** Slurm DB rows per query when neither the config nor the command line says (docs/benchmarks.md). */
export const DEFAULT_BATCH_ROWS = 2_000;
