import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, PALETTE } from '../evaluate/plots.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import type { EpochRecord, ShrinkReport, UntrainedRecord } from './validation.js';

/**
 * The training curves of a model directory as one SVG, drawn from its `history.json` with the evaluator's
 * `lineChart`: three panels over the epochs — training and validation loss; validation P50 MAE next to
 * persistence's (the untrained model is epoch 0, where P50 = persistence); the learning rate (log axis).
 * `pcm train` writes it beside history.json (`CURVES_FILE`) each time it writes history.json; the dashboard
 * shows the served model's.
 */

/** The SVG's file name in a model directory, beside history.json. */
export const CURVES_FILE = 'training-curves.svg';
export const HISTORY_FILE = 'history.json';

/** What history.json holds (the trainer writes it; older models may lack `untrained` and `shrink`). */
export interface TrainingHistory {
  history: EpochRecord[];
  untrained?: UntrainedRecord;
  best_beats_untrained?: boolean | null;
  shrink?: ShrinkReport;
}

/** Write history.json and, beside it, its training curves (each atomically; the SVG second). */
export function writeTrainingHistory(dir: string, t: TrainingHistory): void {
  writeFileAtomicSync(join(dir, HISTORY_FILE), `${JSON.stringify(t, null, 1)}\n`);
  writeFileAtomicSync(join(dir, CURVES_FILE), trainingCurvesSvg(t));
}

/** The curves of the model in `dir`, drawn from its history.json (InputError naming the file when it is missing or bad). */
export function readTrainingCurves(dir: string): string {
  const path = join(dir, HISTORY_FILE);
  if (!existsSync(path))
    throw new InputError(`${path}: not found (a model directory written by pcm train has it)`);
  return trainingCurvesSvg(parseTrainingHistory(readFileSync(path, 'utf8'), path));
}

const FIELDS = ['epoch', 'lr', 'train_loss', 'val_loss', 'val_mae', 'val_mae_persistence'] as const;

/** Parse history.json text; `where` names it in errors. */
export function parseTrainingHistory(text: string, where: string): TrainingHistory {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${where}: not JSON (${(e as Error).message})`);
  }
  const h = (j as { history?: unknown })?.history;
  if (!Array.isArray(h)) throw new InputError(`${where}: expected {"history": [epoch records]}`);
  h.forEach((r, i) => {
    for (const k of FIELDS)
      if (typeof (r as Record<string, unknown>)?.[k] !== 'number')
        throw new InputError(`${where}: history[${i}].${k}: expected a number`);
  });
  return j as TrainingHistory;
}

const PANEL_H = 250;
const WIDTH = 900;

/** The three panels stacked in one SVG document. */
export function trainingCurvesSvg(t: TrainingHistory): string {
  const h = t.history;
  // epochs are 1-based on the axis (as `pcm train` prints them); 0 is the untrained model
  const x = h.map((r) => r.epoch + 1);
  const u = t.untrained;
  const x0 = u ? [0, ...x] : x;
  const withUntrained = (v: number | undefined, ys: number[]) => (u ? [v ?? Number.NaN, ...ys] : ys);
  const best = bestIndex(h);
  const persistence = h.length ? h[0].val_mae_persistence : (u?.val_mae_persistence ?? Number.NaN);
  const common = {
    width: WIDTH,
    height: PANEL_H,
    xLabel: 'epoch',
    legend: 'above' as const,
    xMin: x0.length ? x0[0] : 0,
    xMax: Math.max(1, x0.length ? x0[x0.length - 1] : 1),
    xWhole: true,
  };
  const panels = [
    lineChart({
      ...common,
      clipId: 'loss',
      title: 'Loss',
      yLabel: 'loss',
      series: [
        { name: 'training', x, y: h.map((r) => r.train_loss), color: PALETTE[0], markers: true },
        {
          name: 'validation',
          x: x0,
          y: withUntrained(
            u?.val_loss,
            h.map((r) => r.val_loss),
          ),
          color: PALETTE[1],
          markers: true,
        },
      ],
    }),
    lineChart({
      ...common,
      clipId: 'mae',
      title: `Validation P50 MAE (nodes, mean over horizons)${best >= 0 ? `: best epoch ${best + 1}` : ''}${alphaNote(t.shrink)}`,
      yLabel: 'MAE (nodes)',
      series: [
        {
          name: 'model',
          x: x0,
          y: withUntrained(
            u?.val_mae,
            h.map((r) => r.val_mae),
          ),
          color: PALETTE[1],
          markers: true,
        },
        {
          name: 'persistence',
          x: [x0[0] ?? 0, x0[x0.length - 1] ?? 1],
          y: [persistence, persistence],
          color: '#555555',
          dash: '6 4',
        },
        ...(t.shrink && best >= 0
          ? [
              {
                name: 'best, shrunk toward persistence',
                x: [best + 1],
                y: [t.shrink.val_mae_after],
                color: PALETTE[2],
                markers: true,
              },
            ]
          : []),
      ],
    }),
    lineChart({
      ...common,
      clipId: 'lr',
      title: 'Learning rate',
      yLabel: 'learning rate',
      logY: true,
      series: [{ name: 'learning rate', x, y: h.map((r) => r.lr), color: PALETTE[4], markers: true }],
    }),
  ];
  const H = PANEL_H * panels.length;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${H}" viewBox="0 0 ${WIDTH} ${H}">`,
    `<rect width="${WIDTH}" height="${H}" fill="#ffffff"/>`,
  ];
  panels.forEach((p, k) => {
    out.push(`<g transform="translate(0 ${k * PANEL_H})">`, p.trimEnd(), '</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The shrinkage at the last horizon, in words (α = 0: the served P50 there is persistence). */
function alphaNote(s: ShrinkReport | undefined): string {
  if (!s?.alpha.length) return '';
  const a = s.alpha[s.alpha.length - 1];
  return `; α at h=${s.alpha.length}: ${a}${a === 0 ? ' (= persistence)' : ''}`;
}

/** Index of the last epoch that improved (the best checkpoint). */
function bestIndex(h: EpochRecord[]): number {
  for (let i = h.length - 1; i >= 0; i--) if (h[i].improved) return i;
  return -1;
}
