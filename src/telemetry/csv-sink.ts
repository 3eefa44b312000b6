import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { TIMELINE_COLUMNS } from '../timeline/columns.js';
import { CSV_HEADER, formatValue, isoMinute } from '../timeline/csv.js';
import { UserError } from '../util/errors.js';
import type { TelemetryRow } from './schema.js';
import type { TelemetryWriter } from './types.js';

/** The collected CSV: the timeline CSV's columns (readTimelineCsv reads it), then `cluster,partition`. */
export const COLLECT_CSV_HEADER = `${CSV_HEADER},cluster,partition`;

/**
 * Appends rows to a CSV file as they are collected (`pcm collect --out FILE`). A growing log cannot be
 * rewritten atomically every minute, so each row is one write(2) of a whole line on an O_APPEND descriptor,
 * then fsync: a crash can at worst leave a torn last line, and the rows before it are never touched.
 * Opening an existing file checks its header (a different file is refused, not appended to) and starts
 * on a fresh line if the last one was torn.
 */
export class CsvSink implements TelemetryWriter {
  readonly path: string;
  private fd: number;

  constructor(path: string) {
    this.path = path;
    let fd: number;
    try {
      fd = openSync(path, 'a+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(
        `cannot open ${path} for appending: ${code === 'ENOENT' ? 'no such directory' : code}`,
      );
    }
    this.fd = fd;
    try {
      const size = fstatSync(fd).size;
      if (size === 0) this.append(`${COLLECT_CSV_HEADER}\n`);
      else {
        const head = Buffer.alloc(Math.min(size, COLLECT_CSV_HEADER.length + 2));
        readSync(fd, head, 0, head.length, 0);
        const first = head.toString('utf8').split(/\r?\n/)[0];
        if (first !== COLLECT_CSV_HEADER) {
          throw new UserError(
            `${path}: exists and is not a pcm collect CSV (first line differs from the expected header); ` +
              'choose another --out file',
          );
        }
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) this.append('\n'); // torn last line: keep it, start afresh
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private append(text: string): void {
    const b = Buffer.from(text);
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    fsyncSync(this.fd);
  }

  async write(rows: readonly TelemetryRow[]): Promise<void> {
    let text = '';
    for (const r of rows) text += `${csvLine(r)}\n`;
    if (text) this.append(text);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {}
  }
}

/** One row in the collected CSV layout (NaN written as an empty cell). */
function csvLine(r: TelemetryRow): string {
  const cell = (v: number) => (Number.isFinite(v) ? formatValue(v) : '');
  const vals = TIMELINE_COLUMNS.map((c) => cell(r.values[c]));
  return `${isoMinute(r.time)},${vals.join(',')},${cell(r.capacity)},${cell(r.totalCpus)},${r.cluster},${r.partition}`;
}
