/**
 * Date/time text → epoch seconds: sacct's local `YYYY-MM-DDTHH:MM:SS` read in an IANA time zone,
 * ISO 8601 with `Z`/offset, and the CLI's `--since/--until` values. No dependency: the zone offset
 * comes from `Intl.DateTimeFormat`, cached per local hour.
 */
import { UserError } from '../util/errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A formatter for `tz`; throws UserError naming the zone when it is not a known IANA zone. */
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new UserError(`unknown time zone '${tz}': expected an IANA name such as UTC or Europe/Berlin`);
    }
    formatters.set(tz, f);
  }
  return f;
}

/** Throws UserError when `tz` is not a time zone this Node knows. */
export function checkTimeZone(tz: string): void {
  formatter(tz);
}

/** Offset of `tz` from UTC at instant `ms`, in milliseconds (local = UTC + offset). */
function offsetAt(tz: string, ms: number): number {
  const p: Record<string, number> = {};
  for (const { type, value } of formatter(tz).formatToParts(ms)) p[type] = Number(value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const offsetCache = new Map<string, number>();

/**
 * Epoch seconds of a wall-clock time in `tz`. In a DST gap the time is read with the offset before
 * the change; in the repeated hour, the first (earlier) instant is taken.
 */
function zonedEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, tz: string): number {
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  if (tz === 'UTC' || tz === 'Etc/UTC') return local / 1000;
  const key = `${tz}|${Math.floor(local / 3_600_000)}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    // candidate offsets: the zone's offset a day before and a day after (at most one change between)
    const before = offsetAt(tz, local - 86_400_000);
    const after = offsetAt(tz, local + 86_400_000);
    const valid = [before, after].filter((o) => offsetAt(tz, local - o) === o);
    if (valid.length === 0)
      off = before; // in a gap: read with the offset before the change
    else off = Math.max(...valid); // repeated hour: the earlier instant
    if (offsetCache.size > 100_000) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return (local - off) / 1000;
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Epoch seconds of `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH[:MM]]`; without an offset the time is read
 * in `tz`. Returns undefined when the text is not such a time or names an impossible date.
 */
export function parseDateTime(text: string, tz = 'UTC'): number | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined; // day beyond the month's end
  const zone = m[7];
  if (zone === undefined) return zonedEpoch(y, mo, d, h, mi, s, tz);
  const local = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
  if (zone === 'Z' || zone === 'z') return local;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offH = Number(digits.slice(0, 2));
  const offM = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (offH > 23 || offM > 59) return undefined;
  return local - sign * (offH * 3600 + offM * 60);
}

/**
 * A CLI date: `YYYY-MM-DD` (midnight), an ISO date-time (with or without offset) or epoch seconds.
 * Dates without an offset are read in `tz`. Throws UserError naming `what` otherwise.
 */
export function parseDateArg(text: string, what: string, tz = 'UTC'): number {
  const t = text.trim();
  if (/^\d{1,12}$/.test(t)) return Number(t);
  const v = parseDateTime(t, tz);
  if (v === undefined) {
    throw new UserError(
      `${what}: '${text}' is not a date; expected YYYY-MM-DD, an ISO date-time like 2024-01-02T03:04:05Z, or epoch seconds`,
    );
  }
  return v;
}

/** ISO text (UTC, seconds) of epoch seconds, for summaries. */
export function isoUtc(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}
