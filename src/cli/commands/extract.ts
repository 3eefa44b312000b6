import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { slurmDbOpenOptions } from '../../config/slurmdb.js';
import { checkTimeZone, isoUtc, parseDateArg } from '../../jobs/datetime.js';
import { writeJobsCsv } from '../../jobs/jobs-csv.js';
import type { ProgressingSource } from '../../jobs/lines.js';
import { type JobFormat, openJobSource } from '../../jobs/open.js';
import { formatReport, type JobRecord, type ParseReport } from '../../jobs/record.js';
import { DEFAULT_BATCH_ROWS, type JobSource, type SourceMeta } from '../../jobs/source.js';
import { InputError, UserError } from '../../util/errors.js';
import { startProgress } from '../../util/progress.js';
import { configOption } from '../options.js';
import { checkOutputFile } from '../output.js';

interface ExtractOptions {
  config?: string;
  batchRows?: number;
  swf?: string;
  sacct?: string;
  jobs?: string;
  slurmdb?: string;
  cluster?: string;
  ppn?: number;
  since?: string;
  until?: string;
  tz: string;
  out: string;
  json?: boolean;
}

/** What `pcm extract` prints: the parse report plus the span of the jobs written. */
export interface ExtractSummary {
  out: string;
  kind: JobSource['kind'];
  jobs: number;
  /** Earliest submit/start and latest end among written jobs (ISO, UTC), null when none. */
  span: { from: string | null; to: string | null };
  report: ParseReport;
  meta: SourceMeta;
}

/** What the Slurm DB reader gets: from the options, else (with --config) the SlurmDB section. */
export interface SlurmDbSettings {
  cluster?: string;
  password?: string;
  batchRows?: number;
  queryTimeoutMs?: number;
  tls?: { caFile?: string; verify: boolean };
}

/**
 * Fill the options from `--config FILE` (SlurmDB section): the input URL when no input is named,
 * `--cluster`, the password (PCM_SLURMDB_PASSWORD wins, as everywhere) and `--batch-rows`. Options
 * given on the command line win over the file.
 */
export function withConfig(
  o: ExtractOptions,
  env: NodeJS.ProcessEnv = process.env,
): ExtractOptions & SlurmDbSettings {
  if (!o.config) return { ...o };
  const db = loadConfig(o.config, env).SlurmDB;
  const noInput = [o.swf, o.sacct, o.jobs, o.slurmdb].every((v) => v === undefined);
  const slurmdb = o.slurmdb ?? (noInput && db.URL ? db.URL : undefined);
  if (noInput && !slurmdb)
    throw new UserError(
      `give an input (--swf, --sacct, --jobs or --slurmdb), or set SlurmDB.URL in ${o.config}`,
    );
  return {
    ...o,
    slurmdb,
    cluster: o.cluster ?? (slurmdb ? db.Cluster : undefined),
    ...slurmDbOpenOptions(db),
    batchRows: o.batchRows ?? db.BatchRows,
  };
}

/** The one input the options name, with its format. */
function chooseInput(o: ExtractOptions): { spec: string; format: JobFormat } {
  const given: Array<[string | undefined, JobFormat]> = [
    [o.swf, 'swf'],
    [o.sacct, 'sacct'],
    [o.jobs, 'csv'],
    [o.slurmdb, 'slurmdb'],
  ];
  const set = given.filter(([v]) => v !== undefined);
  if (set.length !== 1) {
    throw new UserError('give exactly one input: --swf FILE, --sacct FILE, --jobs FILE or --slurmdb URL');
  }
  const [spec, format] = set[0];
  if (format === 'slurmdb' && !o.cluster)
    throw new UserError('--slurmdb needs --cluster NAME (the Slurm ClusterName)');
  return { spec: spec as string, format };
}

/** Run an extraction: open, stream into the CSV (atomically), summarise. */
export async function extract(opts: ExtractOptions): Promise<ExtractSummary> {
  checkTimeZone(opts.tz);
  const o = withConfig(opts);
  const { spec, format } = chooseInput(o);
  if (opts.batchRows !== undefined && format !== 'slurmdb')
    throw new UserError('--batch-rows applies to the Slurm DB (--slurmdb) only');
  checkOutputFile(o.out, '--out');
  const since = o.since === undefined ? undefined : parseDateArg(o.since, '--since', o.tz);
  const until = o.until === undefined ? undefined : parseDateArg(o.until, '--until', o.tz);
  const src = await openJobSource(spec, {
    format,
    ppn: o.ppn,
    since,
    until,
    timeZone: o.tz,
    cluster: o.cluster,
    ...(format === 'slurmdb'
      ? { password: o.password, batchRows: o.batchRows, queryTimeoutMs: o.queryTimeoutMs, tls: o.tls }
      : {}),
  });
  try {
    mkdirSync(dirname(o.out), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the directory of ${o.out}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const progressOf = (src as Partial<ProgressingSource>).progress;
  const total = progressOf ? progressOf().total : 0;
  const bar = startProgress('extract', total, 'jobs {jobs}');
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const onJob = (j: JobRecord, n: number) => {
    const a = j.submit ?? j.start;
    if (a !== null && a < from) from = a;
    const b = j.end ?? j.start;
    if (b !== null && b > to) to = b;
    if ((n & 1023) === 0) bar.update(progressOf ? progressOf().done : n, { jobs: n });
  };
  let n: number;
  try {
    n = await writeJobsCsv(o.out, src.jobs, onJob, (n) => {
      const r = src.report;
      if (n === 0 && r.skipped > 0) {
        const first = r.firstSkipped[0];
        throw new InputError(
          `${r.source}: no jobs read, ${r.skipped} line(s) malformed (line ${first.line}: ${first.reason}); ${o.out} not written`,
        );
      }
    });
    bar.update(progressOf ? progressOf().total : n, { jobs: n });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = err?.code;
    // any file-system failure of the output (EACCES, EISDIR, ENOSPC, ...): errors of the input are UserErrors
    if (typeof code === 'string' && err.syscall && !(e instanceof UserError)) {
      throw new UserError(`cannot write ${o.out}: ${code}`);
    }
    throw e;
  } finally {
    bar.stop();
  }
  return {
    out: o.out,
    kind: src.kind,
    jobs: n,
    span: {
      from: Number.isFinite(from) ? isoUtc(from) : null,
      to: Number.isFinite(to) ? isoUtc(to) : null,
    },
    report: src.report,
    meta: src.meta,
  };
}

function summaryText(s: ExtractSummary): string {
  const lines = [`wrote ${s.jobs} jobs to ${s.out}`];
  if (s.span.from) lines.push(`span: ${s.span.from} .. ${s.span.to}`);
  lines.push(formatReport(s.report));
  const m = s.meta;
  const machine = [
    m.maxNodes !== undefined ? `MaxNodes ${m.maxNodes}` : '',
    m.maxProcs !== undefined ? `MaxProcs ${m.maxProcs}` : '',
    m.ppn !== undefined ? `ppn ${m.ppn}` : '',
    m.timeZone ? `time zone ${m.timeZone}` : '',
  ].filter(Boolean);
  if (machine.length) lines.push(`machine: ${machine.join(', ')}`);
  if (m.header?.Acknowledge) lines.push(`acknowledge: ${m.header.Acknowledge.split('\n')[0]}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('extract')
    .description('read jobs from an SWF log, a sacct export, a job CSV or the Slurm DB and write a job CSV')
    .option('--swf <file>', 'SWF job log (.swf or .swf.gz, Parallel Workloads Archive format)')
    .option(
      '--sacct <file>',
      'output of sacct -X --parsable2 --format=JobID,Submit,Start,End,NNodes,AllocCPUS,...',
    )
    .option('--jobs <file>', 'a job CSV written by pcm extract')
    .option(
      '--slurmdb <url>',
      'Slurm accounting DB, mysql://user@host:3306/slurm_acct_db (password: PCM_SLURMDB_PASSWORD)',
    )
    .option('--cluster <name>', 'Slurm ClusterName (with --slurmdb; default SlurmDB.Cluster with --config)')
    .option(
      '--config <file>',
      'YAML config: its SlurmDB section gives the URL (when no input is named), Cluster, BatchRows and the password',
    )
    .addOption(
      configOption('--batch-rows <n>', 'Slurm DB rows per query', 'SlurmDB.BatchRows', {
        defaultText: `default: SlurmDB.BatchRows with --config, else ${DEFAULT_BATCH_ROWS}`,
      }),
    )
    .addOption(
      configOption('--ppn <n>', 'SWF: processors per node', 'Cluster.CpusPerNode', {
        defaultText: 'default: MaxProcs/MaxNodes from the header, else 1',
      }),
    )
    .option(
      '--since <date>',
      'keep jobs overlapping [since, until): YYYY-MM-DD, ISO date-time or epoch seconds',
    )
    .option('--until <date>', 'end of the window (exclusive)')
    .option('--tz <zone>', 'IANA zone of sacct times and of dates without an offset', 'UTC')
    .requiredOption('--out <file>', 'job CSV to write (replaced atomically)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (opts: ExtractOptions) => {
      const s = await extract(opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else process.stderr.write(summaryText(s));
    });
}
