import { openLines } from '../jobs/lines.js';
import { TIMELINE_COLUMNS, type TimelineColumn } from '../timeline/columns.js';
import { InputError } from '../util/errors.js';
import { checkName } from './influxql.js';
import type { TelemetryRow } from './schema.js';

/**
 * Rows of a timeline CSV or a `pcm collect --out` CSV (plain or gzip), for replay into the memory store.
 * Unlike readTimelineCsv this accepts gaps, disorder and empty cells (NaN): live data has them, and the
 * quality check is what reports them. Malformed lines (wrong field count, bad timestamp or number) are an
 * InputError naming the file and line. `cluster`/`partition` columns, when present, win over the defaults.
 */
export async function readRowsCsv(
  path: string,
  defaults: { cluster: string; partition: string; capacity?: number; totalCpus?: number },
): Promise<TelemetryRow[]> {
  const ls = await openLines(path);
  const rows: TelemetryRow[] = [];
  let idx: number[] | null = null;
  let nFields = 0;
  let ts = 0;
  let cap = -1;
  let cpus = -1;
  let cl = -1;
  let pa = -1;
  let lineNo = 0;
  for await (const raw of ls.lines) {
    lineNo++;
    const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (idx === null) {
      const names = line.split(',').map((s) => s.trim());
      const pos = new Map(names.map((n, k) => [n, k]));
      const missing = ['timestamp', ...TIMELINE_COLUMNS].filter((c) => !pos.has(c));
      if (missing.length) throw new InputError(`${path}: line 1: missing column(s) ${missing.join(', ')}`);
      nFields = names.length;
      ts = pos.get('timestamp')!;
      idx = TIMELINE_COLUMNS.map((c) => pos.get(c)!);
      cap = pos.get('capacity') ?? -1;
      cpus = pos.get('total_cpus') ?? -1;
      cl = pos.get('cluster') ?? -1;
      pa = pos.get('partition') ?? -1;
      continue;
    }
    if (line.trim() === '') continue;
    const f = line.split(',');
    if (f.length !== nFields) {
      throw new InputError(`${path}: line ${lineNo}: expected ${nFields} fields, found ${f.length}`);
    }
    const ms = /(Z|[+-]\d\d:?\d\d)$/.test(f[ts]) ? Date.parse(f[ts]) : Number.NaN;
    if (Number.isNaN(ms)) {
      throw new InputError(
        `${path}: line ${lineNo}: timestamp "${f[ts]}": expected ISO UTC like 2024-01-01T00:00:00Z`,
      );
    }
    const values = {} as Record<TimelineColumn, number>;
    for (let k = 0; k < idx.length; k++)
      values[TIMELINE_COLUMNS[k]] = cell(f[idx[k]], path, lineNo, TIMELINE_COLUMNS[k]);
    rows.push({
      time: ms / 1000,
      cluster: cl >= 0 ? checkName('cluster', f[cl]) : defaults.cluster,
      partition: pa >= 0 ? checkName('partition', f[pa]) : defaults.partition,
      capacity: cap >= 0 ? cell(f[cap], path, lineNo, 'capacity') : (defaults.capacity ?? Number.NaN),
      totalCpus: cpus >= 0 ? cell(f[cpus], path, lineNo, 'total_cpus') : (defaults.totalCpus ?? Number.NaN),
      values,
    });
  }
  if (idx === null)
    throw new InputError(
      `${path}: empty file; expected a header line with timestamp and the timeline columns`,
    );
  return rows;
}

function cell(s: string, path: string, line: number, name: string): number {
  if (s === '') return Number.NaN;
  const v = Number(s);
  if (!Number.isFinite(v))
    throw new InputError(`${path}: line ${line}: ${name}: expected a number, got "${s}"`);
  return v;
}
