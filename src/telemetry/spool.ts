import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { TelemetryRow } from './schema.js';

/**
 * Rows a sink has not taken yet, oldest first, bounded: when full, the oldest are dropped (and said so).
 * `PendingRows` keeps them in memory; `Spool` also keeps them in a file (one JSON row a line, each append
 * fsynced) and reads them back on start, so a restart or a crash of `pcm collect` during an outage loses
 * no row. Like slurmctld's state save of messages for slurmdbd (MaxDBDMsgs) or Telegraf's metric buffer.
 * Rows carry a sequence number so that a write in flight can be acknowledged while new rows arrive.
 */
export class PendingRows {
  protected rows: TelemetryRow[] = [];
  /** Sequence number of rows[0]; rows[i] has first + i. */
  protected first = 0;

  constructor(
    /** Most rows kept; the oldest beyond it are dropped. */
    readonly maxRows: number,
    /** One line when rows are dropped. */
    protected readonly onDrop: (message: string) => void = () => {},
  ) {
    if (!(Number.isInteger(maxRows) && maxRows >= 1))
      throw new UserError(`pending rows: expected a bound of at least 1 row, got ${maxRows}`);
  }

  get length(): number {
    return this.rows.length;
  }

  /** Up to `max` oldest rows and the sequence number to acknowledge when they are stored. */
  peek(max = Number.POSITIVE_INFINITY): { rows: TelemetryRow[]; upTo: number } {
    const rows = this.rows.slice(0, max);
    return { rows, upTo: this.first + rows.length };
  }

  /** Add a row; drops (and reports) the oldest beyond maxRows. Returns how many were dropped. */
  push(row: TelemetryRow): number {
    this.rows.push(row);
    const drop = this.rows.length - this.maxRows;
    if (drop <= 0) return 0;
    const gone = this.rows.splice(0, drop);
    this.first += drop;
    this.onDrop(
      `${drop} oldest row(s) dropped (${minute(gone[0].time)} to ${minute(gone[drop - 1].time)}): more than ${this.maxRows} rows waiting`,
    );
    return drop;
  }

  /** Rows before sequence `upTo` were stored: forget them (those already dropped are skipped). */
  ack(upTo: number): void {
    const n = Math.min(this.rows.length, upTo - this.first);
    if (n <= 0) return;
    this.rows.splice(0, n);
    this.first += n;
  }
}

/** Rows a spool keeps at most: a week of minutes (about 6 MB). */
export const SPOOL_MAX_ROWS = 10_080;

/** PendingRows kept in a file too; `open` reads back what a previous run left. */
export class Spool extends PendingRows {
  private constructor(
    readonly path: string,
    maxRows: number,
    onDrop: (message: string) => void,
  ) {
    super(maxRows, onDrop);
  }

  /**
   * Open (or create) the spool at `path` and read back its rows. A line that does not parse (a torn last
   * line after a power cut) is skipped and reported; beyond maxRows the oldest are dropped (reported).
   */
  static open(path: string, maxRows: number, note: (message: string) => void = () => {}): Spool {
    const s = new Spool(path, maxRows, (m) => note(`spool ${path}: ${m}`));
    if (!existsSync(path)) {
      writeFileAtomicSync(path, '');
      return s;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new UserError(`spool ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    const lines = text.split('\n');
    let bad = 0;
    let dropped = 0;
    lines.forEach((l, i) => {
      if (l === '') return;
      const row = parseRow(l);
      if (row) dropped += s.pushQuiet(row);
      else if (bad++ === 0) note(`spool ${path}: line ${i + 1}: not a row, skipped`);
    });
    if (bad > 1) note(`spool ${path}: ${bad} lines that are not rows skipped`);
    if (dropped) note(`spool ${path}: ${dropped} oldest row(s) dropped on reading: more than ${maxRows}`);
    if (bad || dropped) s.rewrite();
    if (s.length) note(`spool ${path}: ${s.length} row(s) from an earlier run to write`);
    return s;
  }

  /** Add a row: appended to the file and fsynced before this returns. */
  override push(row: TelemetryRow): number {
    const dropped = super.push(row);
    if (dropped) this.rewrite();
    else this.append(`${JSON.stringify(row)}\n`);
    return dropped;
  }

  override ack(upTo: number): void {
    const before = this.length;
    super.ack(upTo);
    if (this.length !== before) this.rewrite();
  }

  private pushQuiet(row: TelemetryRow): number {
    this.rows.push(row);
    const drop = Math.max(0, this.rows.length - this.maxRows);
    this.rows.splice(0, drop);
    this.first += drop;
    return drop;
  }

  private append(text: string): void {
    const fd = openSync(this.path, 'a', 0o640);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The file holds exactly the rows kept (atomic replace). */
  private rewrite(): void {
    writeFileAtomicSync(this.path, this.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

function minute(t: number): string {
  return `${new Date(t * 1000).toISOString().slice(0, 16)}Z`;
}

/** A spooled row back (JSON writes NaN as null), or null when the line is not one. */
function parseRow(line: string): TelemetryRow | null {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Record<string, unknown>;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!Number.isSafeInteger(o.time) || typeof o.cluster !== 'string' || typeof o.partition !== 'string')
    return null;
  if (!num(o.capacity) || !num(o.totalCpus) || typeof o.values !== 'object' || o.values === null) return null;
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(o.values)) {
    if (v !== null && !num(v)) return null;
    values[k] = v === null ? Number.NaN : (v as number);
  }
  return { ...(o as unknown as TelemetryRow), values: values as TelemetryRow['values'] };
}
