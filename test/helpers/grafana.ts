import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The InfluxQL queries of the Grafana files in deploy/grafana/ (the dashboard's template variables and panel
 * targets, the alert rules' InfluxDB queries), with Grafana's macros expanded the way Grafana does before it
 * sends them: `$timeFilter` to the panel's or rule's time range, `$__interval` to a bucket, template variables
 * to a value (regex-anchored `/^$cluster$/` stays a regex).
 */
const DIR = new URL('../../deploy/grafana/', import.meta.url);

export interface GrafanaQuery {
  /** Where it comes from: panel title and refId, template variable or alert rule. */
  where: string;
  /** The query as written in the file. */
  query: string;
  /** InfluxQL of the time range it runs over. */
  timeFilter: string;
}

interface Target {
  refId: string;
  query?: string;
}

export function dashboard(): {
  time: { from: string; to: string };
  templating: { list: Array<{ name: string; type: string; query: string }> };
  panels: Array<{ title: string; targets: Target[] }>;
} {
  return JSON.parse(readFileSync(new URL('pcm-forecast.json', DIR), 'utf8'));
}

/** `now-6h` / `now+30m` (Grafana's relative times) as InfluxQL `now() - 6h` / `now() + 30m`. */
function relative(t: string): string {
  const m = /^now(?:([+-])(\d+)([smhd]))?$/.exec(t);
  if (!m) throw new Error(`dashboard time ${t}: expected now, now-Nu or now+Nu`);
  return m[1] ? `now() ${m[1]} ${m[2]}${m[3]}` : 'now()';
}

export function dashboardQueries(): GrafanaQuery[] {
  const d = dashboard();
  const timeFilter = `time >= ${relative(d.time.from)} and time <= ${relative(d.time.to)}`;
  const out: GrafanaQuery[] = [];
  for (const v of d.templating.list)
    if (v.type === 'query') out.push({ where: `variable ${v.name}`, query: v.query, timeFilter });
  for (const p of d.panels)
    for (const t of p.targets)
      if (t.query) out.push({ where: `panel "${p.title}" ${t.refId}`, query: t.query, timeFilter });
  return out;
}

export function alertQueries(): GrafanaQuery[] {
  const f = parse(readFileSync(new URL('alert-rules.yaml', DIR), 'utf8')) as {
    groups: Array<{
      rules: Array<{
        title: string;
        data: Array<{
          refId: string;
          datasourceUid: string;
          relativeTimeRange?: { from: number; to: number };
          model: { query?: string };
        }>;
      }>;
    }>;
  };
  const out: GrafanaQuery[] = [];
  for (const g of f.groups)
    for (const r of g.rules)
      for (const d of r.data) {
        if (d.datasourceUid === '__expr__' || !d.model.query) continue;
        const range = d.relativeTimeRange ?? { from: 600, to: 0 };
        out.push({
          where: `alert "${r.title}" ${d.refId}`,
          query: d.model.query,
          timeFilter: `time >= now() - ${range.from}s and time <= now() - ${range.to}s`,
        });
      }
  return out;
}

/** The query as Grafana sends it, for the template variables' values. */
export function expand(q: GrafanaQuery, vars: Record<string, string>, interval = '1m'): string {
  let s = q.query.replaceAll('$timeFilter', q.timeFilter).replaceAll('$__interval', interval);
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`$${k}`, v);
  if (/\$(?!tag_)\w/.test(s)) throw new Error(`${q.where}: a macro is left in ${s}`);
  return s;
}

/** Measurement and field names a query reads: `FROM "m"` and the quoted names inside SELECT's functions. */
export function namesRead(query: string): { measurement: string; fields: string[] } {
  const from = /\bFROM\s+"([^"]+)"/i.exec(query);
  if (!from) throw new Error(`no FROM "measurement" in ${query}`);
  const select = /^\s*SELECT\s+(.*?)\s+FROM\s/i.exec(query);
  const fields = select ? [...select[1].matchAll(/\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]) : [];
  return { measurement: from[1], fields };
}
