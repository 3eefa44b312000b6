import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildFeatures,
  civilMonth,
  FEATURE_NAMES,
  featureIndex,
  localEpochMinutes,
} from '../../src/model/features.js';
import { UserError } from '../../src/util/errors.js';
import { syntheticTimeline } from '../helpers/model-synthetic.js';

const utc = (iso: string) => Date.parse(iso) / 1000;
const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** Local minute of day a row's hour_sin/hour_cos encode. */
function minuteOfDay(sin: number, cos: number): number {
  const a = Math.atan2(sin, cos);
  return Math.round((((a < 0 ? a + 2 * Math.PI : a) / (2 * Math.PI)) * 1440) % 1440);
}

describe('features: calendar in the site time zone', () => {
  it('follows the spring and autumn DST switches (Europe/Stockholm)', () => {
    const spring = localEpochMinutes(utc('2024-03-31T00:58:00Z'), 4, 'Europe/Stockholm');
    // 00:58Z, 00:59Z = 01:58, 01:59 CET; 01:00Z = 03:00 CEST
    assert.deepEqual(
      Array.from(spring, (m) => ((m % 1440) + 1440) % 1440),
      [118, 119, 180, 181],
    );
    const autumn = localEpochMinutes(utc('2024-10-27T00:59:00Z'), 2, 'Europe/Stockholm');
    // 00:59Z = 02:59 CEST; 01:00Z = 02:00 CET
    assert.deepEqual(
      Array.from(autumn, (m) => m % 1440),
      [179, 120],
    );
  });

  it('handles a DST switch in the middle of a UTC hour (Australia/Lord_Howe, +10:30 -> +11)', () => {
    const m = localEpochMinutes(utc('2024-10-05T15:29:00Z'), 2, 'Australia/Lord_Howe');
    assert.deepEqual(
      Array.from(m, (x) => x % 1440),
      [119, 150],
    );
  });

  it('encodes hour, weekday and month of local time', () => {
    // 2024-01-01T18:30Z is Tuesday 2024-01-02 00:00 in Asia/Kolkata (+05:30)
    const tl = syntheticTimeline({ start: utc('2024-01-01T18:29:00Z'), minutes: 2, busy: () => 0 });
    const fm = buildFeatures(tl, { timeZone: 'Asia/Kolkata' });
    const at = (t: number, name: string) => fm.data[t * fm.F + featureIndex(fm.spec, name)];
    assert.equal(minuteOfDay(at(0, 'hour_sin'), at(0, 'hour_cos')), 1439);
    assert.equal(minuteOfDay(at(1, 'hour_sin'), at(1, 'hour_cos')), 0);
    // weekday: Monday (1) then Tuesday (2)
    close(at(0, 'weekday_sin'), Math.sin((2 * Math.PI * 1) / 7));
    close(at(1, 'weekday_sin'), Math.sin((2 * Math.PI * 2) / 7));
    close(at(1, 'weekday_cos'), Math.cos((2 * Math.PI * 2) / 7));
    // month: January (0) for both
    close(at(1, 'month_sin'), 0);
    close(at(1, 'month_cos'), 1);
    // in UTC the same instants are Monday 18:29 / 18:30
    const u = buildFeatures(tl, {});
    assert.equal(
      minuteOfDay(u.data[featureIndex(u.spec, 'hour_sin')], u.data[featureIndex(u.spec, 'hour_cos')]),
      18 * 60 + 29,
    );
  });

  it('computes months from day numbers across leap years', () => {
    assert.equal(civilMonth(0), 0); // 1970-01-01
    assert.equal(civilMonth(Date.UTC(2024, 1, 29) / 86_400_000), 1);
    assert.equal(civilMonth(Date.UTC(2024, 2, 1) / 86_400_000), 2);
    assert.equal(civilMonth(Date.UTC(1996, 11, 31) / 86_400_000), 11);
    assert.equal(civilMonth(Date.UTC(1969, 11, 31) / 86_400_000), 11);
  });

  it('rejects an unknown time zone with a UserError naming the key', () => {
    const tl = syntheticTimeline({ minutes: 2, busy: () => 0 });
    assert.throws(
      () => buildFeatures(tl, { timeZone: 'Mars/Olympus' }),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /Cluster\.TimeZone: unknown time zone 'Mars\/Olympus'/);
        return true;
      },
    );
  });
});

describe('features: holidays', () => {
  const tl = syntheticTimeline({ start: utc('2024-07-04T03:58:00Z'), minutes: 3, busy: () => 0 });

  it('flags public holidays in local time (US, America/New_York)', () => {
    const fm = buildFeatures(tl, { timeZone: 'America/New_York', holidayCountry: 'US' });
    const h = featureIndex(fm.spec, 'holiday');
    // 03:58Z, 03:59Z are 23:58, 23:59 on July 3 (EDT); 04:00Z is 00:00 on July 4
    assert.deepEqual(
      [0, 1, 2].map((t) => fm.data[t * fm.F + h]),
      [0, 0, 1],
    );
  });

  it('is all zero without a country, and accepts a state', () => {
    const none = buildFeatures(tl, { timeZone: 'America/New_York' });
    const h = featureIndex(none.spec, 'holiday');
    assert.deepEqual(
      [0, 1, 2].map((t) => none.data[t * none.F + h]),
      [0, 0, 0],
    );
    // Epiphany (Jan 6) is a public holiday in Bavaria only
    const jan6 = syntheticTimeline({ start: utc('2024-01-06T12:00:00Z'), minutes: 1, busy: () => 0 });
    const by = buildFeatures(jan6, { timeZone: 'Europe/Berlin', holidayCountry: 'DE-BY' });
    const de = buildFeatures(jan6, { timeZone: 'Europe/Berlin', holidayCountry: 'DE-BE' });
    assert.equal(by.data[featureIndex(by.spec, 'holiday')], 1);
    assert.equal(de.data[featureIndex(de.spec, 'holiday')], 0);
  });

  it('rejects an unknown country', () => {
    assert.throws(
      () => buildFeatures(tl, { holidayCountry: 'XX' }),
      /Cluster\.HolidayCountry: unknown country 'XX'/,
    );
    assert.throws(() => buildFeatures(tl, { holidayCountry: 'DE-ZZ' }), /unknown state 'ZZ'/);
  });
});

describe('features: cluster columns and history', () => {
  it('normalises node columns by capacity, CPUs by total CPUs, counts by log1p, seconds to hours', () => {
    const tl = syntheticTimeline({
      minutes: 3,
      capacity: 200,
      totalCpus: 800,
      busy: (t) => 50 * t,
      columns: {
        queued_nodes: () => 300,
        ending_30m_nodes: () => 20,
        mean_cpus_running: () => 40,
        queued_jobs: () => Math.E - 1,
        mean_limit_running_s: () => 7200,
        cpu_util: () => 0.25,
      },
    });
    const fm = buildFeatures(tl);
    assert.equal(fm.F, FEATURE_NAMES.length);
    assert.deepEqual(fm.spec.names, [...FEATURE_NAMES]);
    const at = (t: number, name: string) => fm.data[t * fm.F + featureIndex(fm.spec, name)];
    close(at(2, 'busy_nodes'), 0.5);
    close(at(0, 'queued_nodes'), 1.5);
    close(at(0, 'ending_30m_nodes'), 0.1);
    close(at(0, 'mean_cpus_running'), 0.05);
    close(at(0, 'queued_jobs'), 1);
    close(at(0, 'mean_limit_running_h'), 2);
    close(at(0, 'cpu_util'), 0.25);
  });

  it('gives busy a day and a week before t + lead, with persistence fill and a flag where unavailable', () => {
    const n = 10080 + 200;
    const busy = (t: number) => (t * 7) % 101;
    const tl = syntheticTimeline({ minutes: n, capacity: 100, busy });
    const lead = 30;
    const fm = buildFeatures(tl, { historyLead: lead });
    assert.equal(fm.spec.historyLead, lead);
    const at = (t: number, name: string) => fm.data[t * fm.F + featureIndex(fm.spec, name)];
    for (const t of [0, 1409, 1410, 1411, 5000, 10049, 10050, n - 1]) {
      const d = t + lead - 1440;
      const w = t + lead - 10080;
      close(at(t, 'busy_1d_ago'), (d >= 0 ? busy(d) : busy(t)) / 100);
      assert.equal(at(t, 'busy_1d_avail'), d >= 0 ? 1 : 0);
      close(at(t, 'busy_1w_ago'), (w >= 0 ? busy(w) : busy(t)) / 100);
      assert.equal(at(t, 'busy_1w_avail'), w >= 0 ? 1 : 0);
    }
  });

  it('never reads a value after the row (lead 0: exactly 1 day / 1 week ago)', () => {
    const n = 3000;
    const tl = syntheticTimeline({ minutes: n, busy: (t) => t % 100 });
    const fm = buildFeatures(tl, { historyLead: 0 });
    const i = featureIndex(fm.spec, 'busy_1d_ago');
    for (const t of [1440, 2000, 2999]) close(fm.data[t * fm.F + i], ((t - 1440) % 100) / 100);
    assert.throws(() => buildFeatures(tl, { historyLead: 1440 }), /historyLead/);
  });
});
