import { InputError } from '../util/errors.js';
import { NAME_RE } from './schema.js';

/**
 * InfluxQL text building. InfluxDB 1.6 has no bind parameters, so every identifier and literal that goes
 * into a query is first validated against a strict pattern (NAME_RE) and then quoted/escaped anyway:
 * belt and braces, so a name can never end a literal early or add a clause.
 */

/** Refuse a name that is not letters, digits and `_ . - :` (1..128 chars): it goes into a query. */
export function checkName(what: string, s: string): string {
  if (!NAME_RE.test(s)) {
    throw new InputError(
      `${what}: expected letters, digits, '_', '.', '-' or ':' (1 to 128 characters), got ${JSON.stringify(s)}`,
    );
  }
  return s;
}

/** A double-quoted identifier (measurement, field, tag key, database, retention policy). */
export function quoteIdent(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new InputError(`InfluxQL identifier must not contain control characters`);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A single-quoted string literal (tag values in WHERE). */
export function quoteString(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new InputError(`InfluxQL string must not contain control characters`);
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** A positive whole number of minutes for `now() - Xm`. */
function checkMinutes(minutes: number): number {
  if (!(Number.isInteger(minutes) && minutes > 0 && minutes <= 10 * 366 * 1440)) {
    throw new InputError(`minutes: expected a whole number from 1 to ${10 * 366 * 1440}, got ${minutes}`);
  }
  return minutes;
}

export interface SelectRecent {
  database?: string;
  retentionPolicy?: string;
  measurement: string;
  fields: readonly string[];
  tags: Record<string, string>;
  minutes: number;
}

/**
 * `SELECT "f1","f2",... FROM ["rp".]"m" WHERE "tag" = 'v' AND ... AND time > now() - Xm ORDER BY time ASC`.
 * Tag values are checked with checkName before quoting; field and measurement names are ours.
 */
export function selectRecent(q: SelectRecent): string {
  const from = q.retentionPolicy
    ? `${quoteIdent(q.retentionPolicy)}.${quoteIdent(q.measurement)}`
    : quoteIdent(q.measurement);
  const where = Object.entries(q.tags).map(([k, v]) => `${quoteIdent(k)} = ${quoteString(checkName(k, v))}`);
  where.push(`time > now() - ${checkMinutes(q.minutes)}m`);
  return `SELECT ${q.fields.map(quoteIdent).join(',')} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY time ASC`;
}
