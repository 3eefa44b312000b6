import { isoMinute } from '../timeline/csv.js';
import type { EvalResult } from './evaluate.js';
import { METRIC_NAMES } from './metrics.js';

/**
 * The evaluator's outputs: the JSON document (`--json`) and the text table (stdout).
 * JSON: {"horizons": [1..H], "models": {"<name>": {"mae": [...H], "rmse", "mape", "r2", "coverage_p10_p90",
 * "interval_width", "n", "mean": {...}, "folds": [...]}}, "split": {...}}; NaN is written as null.
 */

export interface JsonExtras {
  /** Input file(s) and options, echoed for reproducibility. */
  [key: string]: unknown;
}

export function resultToJson(res: EvalResult, extras: JsonExtras = {}): Record<string, unknown> {
  const models: Record<string, unknown> = {};
  for (const name of res.order) {
    const r = res.models[name];
    const entry: Record<string, unknown> = {};
    for (const k of METRIC_NAMES) entry[k] = r.metrics[k].map(num);
    entry.n = r.metrics.n;
    entry.mean = Object.fromEntries(METRIC_NAMES.map((k) => [k, num(r.mean[k])]));
    if (r.folds.length)
      entry.folds = r.folds.map((f) => Object.fromEntries(METRIC_NAMES.map((k) => [k, f[k].map(num)])));
    entry.fit_seconds = round(r.fitSeconds, 3);
    entry.predict_seconds = round(r.predictSeconds, 3);
    models[name] = entry;
  }
  const t0 = res.timeline.start;
  return {
    horizons: res.horizons,
    models,
    split: {
      timeline_start: isoMinute(t0),
      timeline_minutes: res.timeline.minutes,
      capacity: res.timeline.capacity,
      test_samples: res.testSamples,
      warnings: res.warnings,
      folds: res.folds.map((f) => ({
        train_end: isoMinute(t0 + 60 * f.validStart),
        valid_start: isoMinute(t0 + 60 * f.validStart),
        test_start: isoMinute(t0 + 60 * f.testStart),
        test_end: isoMinute(t0 + 60 * f.end),
      })),
    },
    ...extras,
  };
}

function num(v: number): number | null {
  return Number.isFinite(v) ? round(v, 6) : null;
}

function round(v: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(v * p) / p;
}

const TABLE_METRICS: Array<
  [key: 'mae' | 'rmse' | 'mape' | 'r2' | 'coverage_p10_p90', label: string, digits: number]
> = [
  ['mae', 'MAE', 2],
  ['rmse', 'RMSE', 2],
  ['mape', 'MAPE %', 1],
  ['r2', 'R2', 3],
  ['coverage_p10_p90', 'P10-P90 cov', 3],
];

/** Text table: one row per metric and model, columns h=1/5/10/30 (those within H) and the mean over all h. */
export function formatTable(res: EvalResult, horizons = [1, 5, 10, 30]): string {
  const hs = horizons.filter((h) => h <= res.horizons.length);
  const head = ['metric', 'model', ...hs.map((h) => `h=${h}`), 'mean'];
  const rows: string[][] = [head];
  for (const [key, label, digits] of TABLE_METRICS) {
    for (const name of res.order) {
      const r = res.models[name];
      const cell = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
      rows.push([label, name, ...hs.map((h) => cell(r.metrics[key][h - 1])), cell(r.mean[key])]);
    }
  }
  const w = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ');
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('  ')];
  let prev = '';
  for (const r of rows.slice(1)) {
    if (prev && r[0] !== prev) out.push('');
    prev = r[0];
    out.push(line(r));
  }
  return `${out.join('\n')}\n`;
}
