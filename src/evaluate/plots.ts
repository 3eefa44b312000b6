import { offsetFinder } from '../model/features.js';
import type { EvalResult } from './evaluate.js';

/**
 * SVG charts written as plain text (no browser, no native dependencies).
 * `lineChart` is the generic helper (also for training curves: loss / val loss / lr by epoch);
 * `errorByHorizonChart` and `sampleWeekChart` draw the evaluator's figures.
 */

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  /** NaN values break the line. */
  y: ArrayLike<number>;
  color?: string;
  /** SVG stroke-dasharray, e.g. '6 4'. */
  dash?: string;
  strokeWidth?: number;
  /** Draw a dot at each point (for short series such as per-horizon errors). */
  markers?: boolean;
}

export interface BandSeries {
  name: string;
  x: ArrayLike<number>;
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
  color?: string;
  opacity?: number;
}

export interface ChartSpec {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: LineSeries[];
  bands?: BandSeries[];
  width?: number;
  height?: number;
  /** 'time': x is epoch seconds, ticks at local midnights (or hours for short spans) in `timeZone`. */
  xAxis?: 'number' | 'time';
  timeZone?: string;
  /** Logarithmic y axis (values <= 0 are dropped), e.g. for losses. */
  logY?: boolean;
  yMin?: number;
  yMax?: number;
  /** Fixed x range (default: the data's), e.g. to line up charts drawn one above the other. */
  xMin?: number;
  xMax?: number;
  /** x counts something (epochs): ticks at whole numbers only. */
  xWhole?: boolean;
  /** Where the legend goes (default top-right inside the plot; 'above' = one row between title and plot). */
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'above' | 'none';
  /** Id of the plot area's clip path (default 'plot'): unique per chart when several share one document. */
  clipId?: string;
}

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** About `target` round tick values from at or below lo to at or above hi: steps of 1, 2, 2.5 or 5 times 10^k. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - d, hi + d, target);
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

/** Tick label with no float noise: 0.30000000000000004 -> 0.3, 12000 -> 12000, 1e-5 -> 1e-5. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1).replace(/\.0e/, 'e').replace('e+', 'e');
  return String(Number.parseFloat(v.toPrecision(6)));
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Ticks for an epoch-seconds axis: local midnights (spans >= 2 days) or every few hours. */
function timeTicks(lo: number, hi: number, timeZone: string): Array<{ v: number; label: string }> {
  const offsetAt = offsetFinder(timeZone);
  const localOf = (t: number) => t / 60 + offsetAt(Math.floor(t / 60));
  const spanH = (hi - lo) / 3600;
  const stepMin =
    spanH >= 48
      ? 1440 * Math.max(1, Math.ceil(spanH / 24 / 10))
      : 60 * ([1, 2, 3, 6, 12].find((h) => spanH / h <= 10) ?? 24);
  const out: Array<{ v: number; label: string }> = [];
  // walk local time in steps, converting back with the offset at each tick
  let local = Math.ceil(localOf(lo) / stepMin) * stepMin;
  for (let guard = 0; guard < 1000; guard++, local += stepMin) {
    const utcMin = local - offsetAt(Math.floor(local - offsetAt(Math.floor(local))));
    const v = utcMin * 60;
    if (v > hi) break;
    if (v < lo) continue;
    const d = new Date(local * 60_000);
    const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    out.push({ v, label: stepMin >= 1440 ? `${WEEKDAYS[d.getUTCDay()]} ${md}` : hm === '00:00' ? md : hm });
  }
  return out;
}

/** A line chart (with optional shaded bands) as an SVG document. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 900;
  const Hh = spec.height ?? 480;
  const legendPos = spec.legend ?? 'top-right';
  const m = { left: 72, right: 24, top: legendPos === 'above' ? 72 : 48, bottom: spec.xLabel ? 62 : 44 };
  const pw = W - m.left - m.right;
  const ph = Hh - m.top - m.bottom;
  const logY = spec.logY ?? false;
  const fy = (v: number) => (logY ? (v > 0 ? Math.log10(v) : Number.NaN) : v);

  // data ranges over finite points
  let x0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  const seeX = (x: number) => {
    if (Number.isFinite(x)) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
    }
  };
  const seeY = (y: number) => {
    const v = fy(y);
    if (Number.isFinite(v)) {
      y0 = Math.min(y0, v);
      y1 = Math.max(y1, v);
    }
  };
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      if (Number.isFinite(fy(s.y[i]))) {
        seeX(s.x[i]);
        seeY(s.y[i]);
      }
    }
  }
  for (const b of spec.bands ?? []) {
    for (let i = 0; i < b.x.length; i++) {
      if (Number.isFinite(fy(b.lo[i])) && Number.isFinite(fy(b.hi[i]))) {
        seeX(b.x[i]);
        seeY(b.lo[i]);
        seeY(b.hi[i]);
      }
    }
  }
  if (!Number.isFinite(x0)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  if (spec.xMin !== undefined) x0 = spec.xMin;
  if (spec.xMax !== undefined) x1 = spec.xMax;
  if (spec.yMin !== undefined) y0 = fy(spec.yMin);
  if (spec.yMax !== undefined) y1 = fy(spec.yMax);

  // y ticks: round values (or powers of ten on a log axis); the axis spans the outer ticks
  let yTicks: number[];
  if (logY) {
    const lo = Math.floor(y0);
    const hi = Math.ceil(y1 === y0 ? y0 + 1 : y1);
    yTicks = [];
    for (let e = lo; e <= hi; e++) yTicks.push(e);
    y0 = lo;
    y1 = hi;
  } else {
    yTicks = niceTicks(y0, y1, 6);
    if (spec.yMin === undefined) y0 = Math.min(y0, yTicks[0]);
    if (spec.yMax === undefined) y1 = Math.max(y1, yTicks[yTicks.length - 1]);
    yTicks = yTicks.filter((v) => v >= y0 - 1e-9 && v <= y1 + 1e-9);
  }
  if (x1 === x0) x1 = x0 + 1;
  const xTicks =
    spec.xAxis === 'time'
      ? timeTicks(x0, x1, spec.timeZone ?? 'UTC')
      : niceTicks(x0, x1, 8)
          .filter((v) => v >= x0 - 1e-9 && v <= x1 + 1e-9 && (!spec.xWhole || Number.isInteger(v)))
          .map((v) => ({ v, label: formatTick(v) }));

  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}">`,
    `<rect width="${W}" height="${Hh}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold" ${FONT}>${escapeXml(spec.title)}</text>`,
  );
  // grid + y ticks
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const v of yTicks)
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${r1(sy(v))}" y2="${r1(sy(v))}"/>`);
  for (const t of xTicks)
    out.push(`<line x1="${r1(sx(t.v))}" x2="${r1(sx(t.v))}" y1="${m.top}" y2="${m.top + ph}"/>`);
  out.push('</g>');
  out.push(`<g font-size="12" fill="#333" ${FONT}>`);
  for (const v of yTicks) {
    const label = logY ? formatTick(10 ** v) : formatTick(v);
    out.push(`<text x="${m.left - 8}" y="${r1(sy(v) + 4)}" text-anchor="end">${escapeXml(label)}</text>`);
  }
  for (const t of xTicks) {
    out.push(
      `<text x="${r1(sx(t.v))}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  out.push('</g>');
  if (spec.xLabel) {
    out.push(
      `<text x="${m.left + pw / 2}" y="${Hh - 14}" text-anchor="middle" font-size="13" ${FONT}>${escapeXml(spec.xLabel)}</text>`,
    );
  }
  if (spec.yLabel) {
    const cy = m.top + ph / 2;
    out.push(
      `<text x="18" y="${cy}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${cy})" ${FONT}>${escapeXml(spec.yLabel)}</text>`,
    );
  }
  // clip the data to the plot area
  const clip = spec.clipId ?? 'plot';
  out.push(
    `<defs><clipPath id="${clip}"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath></defs>`,
  );
  out.push(`<g clip-path="url(#${clip})">`);
  const legend: Array<{ name: string; color: string; kind: 'band' | 'line'; dash?: string }> = [];
  (spec.bands ?? []).forEach((b, k) => {
    const color = b.color ?? PALETTE[k % PALETTE.length];
    for (const seg of segments(
      b.x.length,
      (i) => Number.isFinite(b.x[i]) && Number.isFinite(fy(b.lo[i])) && Number.isFinite(fy(b.hi[i])),
    )) {
      const top = seg.map((i) => `${r1(sx(b.x[i]))},${r1(sy(fy(b.hi[i])))}`);
      const bottom = seg.reverse().map((i) => `${r1(sx(b.x[i]))},${r1(sy(fy(b.lo[i])))}`);
      out.push(
        `<polygon points="${[...top, ...bottom].join(' ')}" fill="${color}" fill-opacity="${b.opacity ?? 0.2}" stroke="none"/>`,
      );
    }
    legend.push({ name: b.name, color, kind: 'band' });
  });
  spec.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const sw = s.strokeWidth ?? 1.8;
    const d: string[] = [];
    for (const seg of segments(s.x.length, (i) => Number.isFinite(s.x[i]) && Number.isFinite(fy(s.y[i])))) {
      d.push(seg.map((i, j) => `${j === 0 ? 'M' : 'L'}${r1(sx(s.x[i]))} ${r1(sy(fy(s.y[i])))}`).join(''));
    }
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    if (d.length) {
      out.push(
        `<path d="${d.join('')}" fill="none" stroke="${color}" stroke-width="${sw}" stroke-linejoin="round"${dash}/>`,
      );
    }
    if (s.markers) {
      for (let i = 0; i < s.x.length; i++) {
        const v = fy(s.y[i]);
        if (Number.isFinite(v) && Number.isFinite(s.x[i])) {
          out.push(`<circle cx="${r1(sx(s.x[i]))}" cy="${r1(sy(v))}" r="2.6" fill="${color}"/>`);
        }
      }
    }
    legend.push({ name: s.name, color, kind: 'line', dash: s.dash });
  });
  out.push('</g>');
  // axes
  out.push(
    `<g stroke="#333" stroke-width="1.2"><line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}"/>`,
    `<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}"/></g>`,
  );
  if (legendPos !== 'none' && legend.length) out.push(drawLegend(legend, legendPos, m, pw, ph));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Runs of consecutive indices where ok(i) holds. */
function segments(n: number, ok: (i: number) => boolean): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ok(i)) cur.push(i);
    else if (cur.length) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

function drawLegend(
  items: Array<{ name: string; color: string; kind: 'band' | 'line'; dash?: string }>,
  where: string,
  m: { left: number; top: number },
  pw: number,
  ph: number,
): string {
  const rowH = 18;
  const symbol = (it: (typeof items)[number], x: number, cy: number): string => {
    if (it.kind === 'band')
      return `<rect x="${x}" y="${cy - 6}" width="22" height="10" fill="${it.color}" fill-opacity="0.25"/>`;
    const dash = it.dash ? ` stroke-dasharray="${it.dash}"` : '';
    return `<line x1="${x}" x2="${x + 22}" y1="${cy - 1}" y2="${cy - 1}" stroke="${it.color}" stroke-width="2.2"${dash}/>`;
  };
  if (where === 'above') {
    // one centred row between the title and the plot
    const widths = items.map((it) => 36 + it.name.length * 7 + 16);
    let x = m.left + (pw - widths.reduce((a, b) => a + b, 0)) / 2;
    const cy = m.top - 18;
    const out = [`<g ${FONT} font-size="12">`];
    items.forEach((it, k) => {
      out.push(symbol(it, x, cy), `<text x="${x + 28}" y="${cy + 3}">${escapeXml(it.name)}</text>`);
      x += widths[k];
    });
    out.push('</g>');
    return out.join('\n');
  }
  const w = 40 + Math.max(...items.map((i) => i.name.length)) * 7;
  const h = items.length * rowH + 10;
  const x = where.endsWith('left') ? m.left + 10 : m.left + pw - w - 10;
  const y = where.startsWith('top') ? m.top + 10 : m.top + ph - h - 10;
  const out = [
    `<g ${FONT} font-size="12"><rect x="${x}" y="${y}" width="${w}" height="${h}" fill="#ffffff" fill-opacity="0.85" stroke="#bbb"/>`,
  ];
  items.forEach((it, k) => {
    const cy = y + 14 + k * rowH;
    out.push(symbol(it, x + 8, cy));
    out.push(`<text x="${x + 36}" y="${cy + 3}">${escapeXml(it.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** One metric (e.g. MAE) by horizon, one line per model. */
export function errorByHorizonChart(res: EvalResult, metric: 'mae' | 'rmse', title?: string): string {
  const label = metric.toUpperCase();
  return lineChart({
    title: title ?? `${label} by forecast horizon (test period)`,
    xLabel: 'horizon (minutes ahead)',
    yLabel: `${label} (busy nodes)`,
    series: res.order.map((name, k) => ({
      name,
      x: res.horizons,
      y: res.models[name].metrics[metric],
      color: PALETTE[k % PALETTE.length],
      markers: true,
    })),
    yMin: 0,
    legend: 'above',
  });
}

/** Actual busy nodes vs one model's P50 and P10-P90 band at one horizon over the sample week. */
export function sampleWeekChart(res: EvalResult, model: string, timeZone = 'UTC'): string | null {
  const s = res.sample;
  const m = s?.models[model];
  if (!s || !m) return null;
  const x = Array.from({ length: s.actual.length }, (_, i) => s.start + 60 * i);
  // forecasts exist only at evaluated origins (every minute, or every stride-th): join those points
  const at = x.map((_, i) => i).filter((i) => Number.isFinite(m.p50[i]));
  const pick = (a: ArrayLike<number>) => at.map((i) => a[i]);
  const xf = pick(x);
  const bands =
    m.p10 && m.p90
      ? [{ name: 'P10-P90', x: xf, lo: pick(m.p10), hi: pick(m.p90), color: PALETTE[0], opacity: 0.22 }]
      : [];
  return lineChart({
    title: `${model}: forecast ${s.horizon} min ahead vs actual (last ${Math.round(s.actual.length / 1440)} days of test)`,
    xLabel: `target time (${timeZone})`,
    yLabel: 'busy nodes',
    xAxis: 'time',
    timeZone,
    series: [
      { name: 'actual', x, y: s.actual, color: '#222222', strokeWidth: 1.4 },
      { name: `P50 (t+${s.horizon})`, x: xf, y: pick(m.p50), color: PALETTE[0], strokeWidth: 1.4 },
    ],
    bands,
    yMin: 0,
    yMax: res.timeline.capacity,
    height: 460,
    width: 1100,
    legend: 'above',
  });
}
