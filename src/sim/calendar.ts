import Holidays from 'date-holidays';
import { UserError } from '../util/errors.js';

/**
 * Local calendar facts per hour of a simulated period: local hour of day, weekday (0 = Monday) and
 * whether the local date is a holiday. Computed once per hour with Intl (time zones, DST).
 */
export interface HourCalendar {
  /** Epoch s of hour 0. */
  start: number;
  hours: number;
  localHour: Uint8Array;
  weekday: Uint8Array;
  holiday: Uint8Array;
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function formatter(timeZone: string, key: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      weekday: 'short',
    });
  } catch {
    throw new UserError(
      `${key}: unknown time zone '${timeZone}' (expected an IANA name such as Europe/Berlin)`,
    );
  }
}

interface LocalParts {
  date: string;
  hour: number;
  weekday: number;
}

function localParts(fmt: Intl.DateTimeFormat, epochS: number): LocalParts {
  const p: Record<string, string> = {};
  for (const x of fmt.formatToParts(new Date(epochS * 1000))) p[x.type] = x.value;
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    hour: Number(p.hour) % 24,
    weekday: WEEKDAYS[p.weekday] ?? 0,
  };
}

/** Epoch seconds of local midnight of `date` (YYYY-MM-DD) in `timeZone`. */
export function localMidnight(date: string, timeZone: string, key = 'Simulator.TimeZone'): number {
  const fmt = formatter(timeZone, key);
  const utc = Date.parse(`${date}T00:00:00Z`) / 1000;
  if (!Number.isFinite(utc))
    throw new UserError(`Simulator.Start: invalid date '${date}' (expected YYYY-MM-DD)`);
  // the local clock at utc midnight tells the offset; step back by it (twice, for DST edges)
  let t = utc;
  for (let k = 0; k < 2; k++) {
    const p = localParts(fmt, t);
    const localAsUtc = Date.parse(`${p.date}T${String(p.hour).padStart(2, '0')}:00:00Z`) / 1000 + (t % 3600);
    t += utc - localAsUtc;
  }
  return t;
}

/** Holiday dates (local YYYY-MM-DD) of a country spec `DE` / `DE-BY` for the given years. */
export function holidayDates(
  country: string,
  years: number[],
  key = 'Simulator.Arrivals.HolidayCountry',
): Set<string> {
  const out = new Set<string>();
  if (!country) return out;
  const [c, region] = country.split('-');
  const hd = region ? new Holidays(c, region) : new Holidays(c);
  if (!hd.getCountries()[c])
    throw new UserError(`${key}: unknown country '${country}' (expected e.g. DE or DE-BY)`);
  for (const y of years) {
    for (const h of hd.getHolidays(y) || []) if (h.type === 'public') out.add(h.date.slice(0, 10));
  }
  return out;
}

export function hourCalendar(
  start: number,
  hours: number,
  timeZone: string,
  holidays: Set<string>,
): HourCalendar {
  const fmt = formatter(timeZone, 'Simulator.TimeZone');
  const cal: HourCalendar = {
    start,
    hours,
    localHour: new Uint8Array(hours),
    weekday: new Uint8Array(hours),
    holiday: new Uint8Array(hours),
  };
  for (let i = 0; i < hours; i++) {
    const p = localParts(fmt, start + 3600 * i);
    cal.localHour[i] = p.hour;
    cal.weekday[i] = p.weekday;
    cal.holiday[i] = holidays.has(p.date) ? 1 : 0;
  }
  return cal;
}

/** Local hour and weekday (0 = Monday) of an instant. */
export function localHourWeekday(fmt: Intl.DateTimeFormat, epochS: number): [number, number] {
  const p = localParts(fmt, epochS);
  return [p.hour, p.weekday];
}

export function zoneFormatter(timeZone: string, key: string): Intl.DateTimeFormat {
  return formatter(timeZone, key);
}
