import { TIMELINE_COLUMNS } from '../timeline/columns.js';
import { InputError } from '../util/errors.js';
import { MEASUREMENT, NODE_STATE_FIELDS, NODES_MEASUREMENT, type TelemetryRow } from './schema.js';

/**
 * InfluxDB line protocol (v1 spec, also accepted by 2.x/3.x):
 *   measurement[,tag=value...] field=value[,field=value...] timestamp
 * Escaping: measurement `,` and space; tag keys, tag values and field keys `,` `=` and space; string field
 * values `"` and `\`. A newline cannot be escaped anywhere, an empty tag value or a key ending in `\` is
 * invalid: these are refused with InputError rather than written as a broken line. So is a backslash right
 * before another backslash or a character we escape (`\\`, `\,`, `\=`, `\ `): the spec has no escape for
 * a backslash, and parsers read these pairs differently (influxd 1.6 stores the measurement `a\ b`, written
 * `a\\ b`, as `a b`, and refuses the field key `a\ b`). A measurement starting with `#` would be read as a
 * comment line and is refused too.
 * Numbers are written as floats (no `i` suffix) so each field keeps one type whatever the value;
 * non-finite values are left out of the point (InfluxDB has no NaN).
 */

function checkText(what: string, s: string): void {
  if (s.length === 0) throw new InputError(`line protocol: ${what} must not be empty`);
  if (/[\n\r]/.test(s))
    throw new InputError(`line protocol: ${what} must not contain a newline: ${JSON.stringify(s)}`);
  if (s.endsWith('\\'))
    throw new InputError(`line protocol: ${what} must not end with a backslash: ${JSON.stringify(s)}`);
  if (/\\[\\,= ]/.test(s)) {
    throw new InputError(
      `line protocol: ${what} must not have a backslash before a backslash, ',', '=' or space: ${JSON.stringify(s)}`,
    );
  }
}

export function escapeMeasurement(s: string): string {
  checkText('measurement', s);
  if (s.startsWith('#'))
    throw new InputError(`line protocol: measurement must not start with '#': ${JSON.stringify(s)}`);
  return s.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys. */
export function escapeKey(s: string, what = 'tag/field key'): string {
  checkText(what, s);
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

export function escapeStringField(s: string): string {
  if (/[\n\r]/.test(s)) throw new InputError('line protocol: string field value must not contain a newline');
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A float field value, or null when it cannot be written (NaN, infinite). */
function formatFloat(v: number): string | null {
  if (!Number.isFinite(v)) return null;
  // String() gives the shortest round-trip text; exponents (1e+21) are accepted by the parser
  return String(v);
}

export type FieldValue = number | string | boolean;

/**
 * One point. `time` in the unit the write is sent with (precision); fields with non-finite numbers are
 * dropped; a point left with no field returns null (nothing to write).
 */
export function formatPoint(
  measurement: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue>,
  time: number,
): string | null {
  let line = escapeMeasurement(measurement);
  // tags sorted by key: what InfluxDB recommends for write performance
  for (const k of Object.keys(tags).sort())
    line += `,${escapeKey(k, 'tag key')}=${escapeKey(tags[k], `tag ${k}`)}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    let text: string | null;
    if (typeof v === 'number') text = formatFloat(v);
    else if (typeof v === 'boolean') text = v ? 'true' : 'false';
    else text = escapeStringField(v);
    if (text !== null) parts.push(`${escapeKey(k, 'field key')}=${text}`);
  }
  if (parts.length === 0) return null;
  if (!Number.isSafeInteger(time))
    throw new InputError(`line protocol: timestamp must be an integer, got ${time}`);
  return `${line} ${parts.join(',')} ${time}`;
}

/** Field keys of a row, escaped once: the timeline columns, then the size fields. */
const ROW_KEYS = [...TIMELINE_COLUMNS, 'capacity', 'total_cpus'].map((k) => escapeKey(k, 'field key'));
const MAIN = escapeMeasurement(MEASUREMENT);

/**
 * The lines of one row (seconds precision): its MEASUREMENT point and, if it has node states, a NODES point.
 * Same output as formatPoint, without its per-field generality (this runs for every row of a backfill).
 */
export function rowLines(row: TelemetryRow): string[] {
  const tags = `,cluster=${escapeKey(row.cluster, 'tag cluster')},partition=${escapeKey(row.partition, 'tag partition')}`;
  const t = Math.round(row.time);
  if (!Number.isSafeInteger(t))
    throw new InputError(`line protocol: timestamp must be an integer, got ${row.time}`);
  let fields = '';
  const put = (k: number, v: number) => {
    if (Number.isFinite(v)) fields += `${fields ? ',' : ''}${ROW_KEYS[k]}=${v}`;
  };
  for (let k = 0; k < TIMELINE_COLUMNS.length; k++) put(k, row.values[TIMELINE_COLUMNS[k]]);
  put(TIMELINE_COLUMNS.length, row.capacity);
  put(TIMELINE_COLUMNS.length + 1, row.totalCpus);
  const out: string[] = [];
  if (fields) out.push(`${MAIN}${tags} ${fields} ${t}`);
  if (row.nodeStates) {
    const ns: Record<string, number> = {};
    for (const f of NODE_STATE_FIELDS) {
      const v = row.nodeStates[f];
      if (v !== undefined) ns[f] = v;
    }
    const p = formatPoint(NODES_MEASUREMENT, { cluster: row.cluster, partition: row.partition }, ns, t);
    if (p) out.push(p);
  }
  return out;
}
