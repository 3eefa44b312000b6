import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../util/atomic.js';
import { errorMessage, InputError, UserError } from '../util/errors.js';

/**
 * How likely a running job is to end within the next HORIZON_MIN minutes, given only what a snapshot of the
 * queue shows: how long it has run (age), how much of its time limit is left, and its size.
 *
 * An empirical table over cells (age bin, remaining-limit bin, size bin). Each finished job adds, to every
 * cell it passed through, the minutes it spent there ("at risk") and how many of those minutes were within
 * HORIZON_MIN of its end ("ended"): ended / risk is then the fraction of running-job minutes in that cell
 * after which the job ended within the horizon — exactly the probability a per-minute snapshot needs.
 * Sparse cells are shrunk towards the cell pooled over sizes, and that towards the prior (below), with a
 * pseudo-count of SHRINK_MINUTES job-minutes at each level.
 *
 * The prior (no history): the time-limit rule — P = 1 when 0 < remaining <= HORIZON_MIN, else 0, so with
 * an empty table expected_end_30m_nodes equals ending_30m_nodes.
 *
 * A run passes through a few cells, each for a stretch of ages (`segmentsInto`); the row builder
 * (./rows.ts) reads a running job's current cell from its age and remaining limit.
 */

export const HORIZON_MIN = 30;
/** Age bins: [0, 5), [5, 15), ..., [1920, inf) minutes since start. */
export const AGE_EDGES_MIN = [0, 5, 15, 30, 60, 120, 240, 480, 960, 1920] as const;
/** Remaining-limit bins by upper edge (minutes): <= 0 (overrun), (0, 15], ..., (120, 240], > 240, no limit. */
export const REM_EDGES_MIN = [0, 15, 30, 60, 120, 240] as const;
/** Size bins by upper edge (nodes): 1, 2-4, 5-16, 17-64, > 64. */
const SIZE_EDGES = [1, 4, 16, 64] as const;
const NA = AGE_EDGES_MIN.length;
const NR = REM_EDGES_MIN.length + 2;
const NS = SIZE_EDGES.length + 1;
/** The remaining-limit bin of jobs without a limit. */
export const REM_NONE = NR - 1;
export const CELLS = NA * NR * NS;
/** Pseudo-count (job-minutes) of each shrinkage level. */
const SHRINK_MINUTES = 120;
/** Rows per refit of the daily ending table (one day of minute rows). */
export const ENDING_BLOCK_ROWS = 1440;

export function ageBin(ageMin: number): number {
  let k = 0;
  while (k + 1 < NA && ageMin >= AGE_EDGES_MIN[k + 1]) k++;
  return k;
}

/** Remaining-limit bin; NaN remaining (no limit) -> REM_NONE. */
export function remBin(remMin: number): number {
  if (Number.isNaN(remMin)) return REM_NONE;
  let k = 0;
  while (k < REM_EDGES_MIN.length && remMin > REM_EDGES_MIN[k]) k++;
  return k;
}

export function sizeBin(nodes: number): number {
  let k = 0;
  while (k < SIZE_EDGES.length && nodes > SIZE_EDGES[k]) k++;
  return k;
}

/** Cell index of (age bin, remaining bin, size bin). */
export function cellIndex(a: number, r: number, s: number): number {
  return (a * NR + r) * NS + s;
}

/** The prior P of a remaining-limit bin: 1 when the limit ends the job within the horizon. */
function priorP(r: number): number {
  return r === 1 || r === 2 ? 1 : 0; // (0, 15] and (15, 30]: HORIZON_MIN = 30
}

/** Most pieces a job can be split into (NA - 1 age edges + |REM_EDGES_MIN| limit edges + 1). */
const MAX_PIECES = NA + REM_EDGES_MIN.length + 1;
const brScratch = new Float64Array(MAX_PIECES + 1);

/**
 * Split ages [x0, x1) (minutes) of a job with limit `limitMin` (NaN = none) and `nodes` into pieces of
 * constant cell, in increasing order: piece k is ages [from[k], to[k]) in cell[k]; returns the count.
 * (Arrays of MAX_PIECES; no allocation: addRun calls it once per run.)
 */
function segmentsInto(
  x0: number,
  x1: number,
  limitMin: number,
  nodes: number,
  from: Float64Array,
  to: Float64Array,
  cell: Int32Array,
): number {
  if (!(x1 > x0)) return 0;
  const s = sizeBin(nodes);
  const noLimit = Number.isNaN(limitMin);
  // breakpoints: age edges and limit - remaining edges (rem <= e  <=>  age >= limit - e), insertion-sorted
  const br = brScratch;
  let n = 0;
  br[n++] = x0;
  for (let k = 1; k < NA; k++) {
    const x = AGE_EDGES_MIN[k];
    if (x > x0 && x < x1) br[n++] = x; // ascending already
  }
  if (!noLimit) {
    for (let r = 0; r < REM_EDGES_MIN.length; r++) {
      const x = limitMin - REM_EDGES_MIN[r];
      if (!(x > x0 && x < x1)) continue;
      let k = n++;
      for (; br[k - 1] > x; k--) br[k] = br[k - 1];
      br[k] = x;
    }
  }
  br[n++] = x1;
  let m = 0;
  for (let k = 0; k + 1 < n; k++) {
    const p = br[k];
    const q = br[k + 1];
    if (!(q > p)) continue;
    // the cell of ages [p, q), taken at p (age bins close below; rem <= e holds from age limit - e on)
    from[m] = p;
    to[m] = q;
    cell[m] = cellIndex(ageBin(p), noLimit ? REM_NONE : remBin(limitMin - p), s);
    m++;
  }
  return m;
}

const segFrom = new Float64Array(MAX_PIECES);
const segTo = new Float64Array(MAX_PIECES);
const segCell = new Int32Array(MAX_PIECES);

export interface EndingTableJson {
  format: 'pcm-ending-table';
  version: 1;
  horizon_min: number;
  age_edges_min: number[];
  rem_edges_min: number[];
  size_edges: number[];
  /** Job-minutes observed per cell and how many of them ended within the horizon, (age, rem, size) order. */
  risk: number[];
  ended: number[];
  jobs: number;
}

export class EndingTable {
  readonly risk = new Float64Array(CELLS);
  readonly ended = new Float64Array(CELLS);
  jobs = 0;

  /** Learn from one finished run of `runMin` minutes (limit NaN = none). */
  addRun(runMin: number, limitMin: number, nodes: number): void {
    if (!(runMin > 0) || !(nodes > 0)) return;
    this.jobs++;
    const cut = runMin - HORIZON_MIN; // ages >= cut ended within the horizon
    const m = segmentsInto(0, runMin, limitMin, nodes, segFrom, segTo, segCell);
    for (let k = 0; k < m; k++) {
      const p = segFrom[k];
      const q = segTo[k];
      const c = segCell[k];
      this.risk[c] += q - p;
      if (q > cut) this.ended[c] += q - Math.max(p, cut);
    }
  }

  /** Shrunk P(end within the horizon) per cell. */
  probabilities(): Float64Array {
    const P = new Float64Array(CELLS);
    const m = SHRINK_MINUTES;
    for (let a = 0; a < NA; a++) {
      for (let r = 0; r < NR; r++) {
        let riskAR = 0;
        let endAR = 0;
        for (let s = 0; s < NS; s++) {
          riskAR += this.risk[cellIndex(a, r, s)];
          endAR += this.ended[cellIndex(a, r, s)];
        }
        const pAR = (endAR + m * priorP(r)) / (riskAR + m);
        for (let s = 0; s < NS; s++) {
          const c = cellIndex(a, r, s);
          P[c] = (this.ended[c] + m * pAR) / (this.risk[c] + m);
        }
      }
    }
    return P;
  }

  copy(): EndingTable {
    const t = new EndingTable();
    t.risk.set(this.risk);
    t.ended.set(this.ended);
    t.jobs = this.jobs;
    return t;
  }

  toJSON(): EndingTableJson {
    return {
      format: 'pcm-ending-table',
      version: 1,
      horizon_min: HORIZON_MIN,
      age_edges_min: [...AGE_EDGES_MIN],
      rem_edges_min: [...REM_EDGES_MIN],
      size_edges: [...SIZE_EDGES],
      risk: Array.from(this.risk, (v) => Math.round(v * 1000) / 1000),
      ended: Array.from(this.ended, (v) => Math.round(v * 1000) / 1000),
      jobs: this.jobs,
    };
  }

  /** Parse a saved table; `where` names the file in errors. */
  static fromJSON(j: unknown, where: string): EndingTable {
    const o = (j ?? {}) as Partial<EndingTableJson>;
    if (o.format !== 'pcm-ending-table')
      throw new InputError(`${where}: not an ending table (expected "format": "pcm-ending-table")`);
    if (o.version !== 1) throw new InputError(`${where}: ending table version ${o.version}; upgrade pcm`);
    const same = (a: unknown, b: readonly number[]) =>
      Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
    if (
      o.horizon_min !== HORIZON_MIN ||
      !same(o.age_edges_min, AGE_EDGES_MIN) ||
      !same(o.rem_edges_min, REM_EDGES_MIN) ||
      !same(o.size_edges, SIZE_EDGES)
    )
      throw new InputError(
        `${where}: ending table bins differ from this pcm's; rebuild it with pcm timeline`,
      );
    const t = new EndingTable();
    for (const [name, dst] of [
      ['risk', t.risk],
      ['ended', t.ended],
    ] as const) {
      const src = o[name];
      if (!Array.isArray(src) || src.length !== CELLS || !src.every((v) => Number.isFinite(v) && v >= 0))
        throw new InputError(`${where}: ${name}: expected ${CELLS} non-negative numbers`);
      dst.set(src);
    }
    t.jobs = Number.isFinite(o.jobs) ? Number(o.jobs) : 0;
    return t;
  }
}

/**
 * P(ends within 30 min) per cell for the rows of each day, refitted once a day: day k (rows [1440k, 1440(k+1))
 * from row 0) uses the runs added before its first row is written. The state's owner adds each node-holding
 * run once it has ended (for a table identical to a batch timeline's: day by day, in job order), so day k
 * sees exactly the jobs that ended by its start.
 */
export class DailyEndingTable {
  readonly table = new EndingTable();
  private P: Float64Array = new Float64Array(CELLS);
  private day = -1;

  /** A run that has ended: held `need` nodes from alloc to end; limit in s (NaN or <= 0 = none). */
  addRun(alloc: number, end: number, limit: number, need: number): void {
    if (!(end > alloc) || !(need > 0)) return;
    this.table.addRun((end - alloc) / 60, limit > 0 ? limit / 60 : Number.NaN, need);
  }

  /** P for row m (refitted when m is in a new day). */
  at(m: number): Float64Array {
    const k = Math.floor(m / ENDING_BLOCK_ROWS);
    if (k !== this.day) {
      this.P = this.table.probabilities();
      this.day = k;
    }
    return this.P;
  }
}

/** Write a table as JSON, atomically. */
export function writeEndingTable(path: string, t: EndingTable): void {
  try {
    writeFileAtomicSync(path, `${JSON.stringify(t.toJSON())}\n`);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
}

/** Read a table written by writeEndingTable (`pcm timeline --ending-table`). */
export function readEndingTable(path: string): EndingTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? errorMessage(e))}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not JSON (${errorMessage(e)})`);
  }
  return EndingTable.fromJSON(json, path);
}
