import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { formatSwf } from '../../src/jobs/swf.js';
import { localHourWeekday, zoneFormatter } from '../../src/sim/calendar.js';
import { generateWorkload, resolveSimulator, type Workload } from '../../src/sim/generate.js';
import { simulateCluster } from '../../src/sim/scheduler.js';

/** A workload from a YAML Simulator section (indented under `Simulator:`). */
function gen(section: string, overrides = {}): Workload {
  const c = parseConfig(`Simulator:\n${section}`);
  return generateWorkload(resolveSimulator(c.Simulator, c.Cluster, overrides));
}

const NO_BURSTS = '  Bursts:\n    PerDay: 0\n';

describe('sim workload generator', () => {
  it('shows the configured day/night ratio and weekend factor in arrival counts', () => {
    const w = gen(
      `  Nodes: 128\n  Days: 56\n  TimeZone: Europe/Berlin\n${NO_BURSTS}  Arrivals:\n    JobsPerDay: 1000\n    WorkStart: 9\n    WorkEnd: 17\n    DayNightRatio: 4\n    WeekendFactor: 0.25\n`,
    );
    const fmt = zoneFormatter('Europe/Berlin', 'tz');
    const byHour = new Float64Array(24);
    let weekday = 0;
    let weekend = 0;
    for (const j of w.jobs) {
      const [h, d] = localHourWeekday(fmt, j.submit);
      byHour[h]++;
      if (d >= 5) weekend++;
      else weekday++;
    }
    let work = 0;
    let night = 0;
    for (let h = 0; h < 24; h++) {
      if (h >= 9 && h < 17) work += byHour[h] / 8;
      else night += byHour[h] / 16;
    }
    assert.ok(Math.abs(work / night / 4 - 1) < 0.05, `day/night ratio ${work / night}`);
    const perDay = weekend / 16 / (weekday / 40);
    assert.ok(Math.abs(perDay / 0.25 - 1) < 0.08, `weekend factor ${perDay}`);
    // mean rate over whole weeks is JobsPerDay
    assert.ok(Math.abs(w.jobs.length / 56 / 1000 - 1) < 0.02, `jobs/day ${w.jobs.length / 56}`);
  });

  it('follows explicit hour weights and lowers the rate on holidays', () => {
    const weights = Array.from({ length: 24 }, (_, h) => (h === 3 ? 10 : 0));
    const w = gen(
      `  Days: 14\n${NO_BURSTS}  Arrivals:\n    JobsPerDay: 500\n    WeekendFactor: 1\n    HourWeights: [${weights.join(', ')}]\n    HolidayDates: ['2026-01-07']\n    HolidayFactor: 0\n`,
    );
    for (const j of w.jobs) {
      const d = new Date(j.submit * 1000);
      assert.equal(d.getUTCHours(), 3);
      assert.notEqual(d.toISOString().slice(0, 10), '2026-01-07');
    }
    assert.ok(Math.abs(w.jobs.length / (13 * 500) - 1) < 0.05);
  });

  it('matches the configured sizes, class shares and runtimes over a long run', () => {
    const w = gen(
      `  Nodes: 256\n  Days: 200\n${NO_BURSTS}  Arrivals:\n    JobsPerDay: 300\n  Limits:\n    HitLimitShare: 0.1\n`,
    );
    const jobs = w.jobs;
    const n = jobs.length;
    assert.ok(n > 50_000);
    const serial = jobs.filter((j) => j.nodes === 1).length / n;
    assert.ok(Math.abs(serial - 0.244) < 0.01, `serial ${serial}`);
    const par = jobs.filter((j) => j.nodes > 1);
    const pow2 = par.filter((j) => (j.nodes & (j.nodes - 1)) === 0).length / par.length;
    // non-rounded sizes are sometimes powers of two too, so pow2 is a little above Pow2Share
    assert.ok(pow2 >= 0.576 - 0.01 && pow2 < 0.576 + 0.15, `pow2 ${pow2}`);
    assert.ok(jobs.every((j) => j.nodes >= 1 && j.nodes <= 256));
    // LowShare of parallel jobs below 2^Log2Med (Log2Med = 0.5 * 8 = 4)
    const low = par.filter((j) => Math.log2(j.nodes) <= 4).length / par.length;
    assert.ok(Math.abs(low - 0.86) < 0.04, `low share ${low}`);
    const s = w.stats;
    assert.ok(Math.abs(s.byClass.Short / n - 0.57) < 0.01);
    assert.ok(Math.abs(s.byClass.Regular / n - 0.37) < 0.01);
    assert.ok(Math.abs(s.byClass.Long / n - 0.06) < 0.005);
    assert.ok(Math.abs(s.hitLimit / n - 0.1) < 0.01, `hit limit ${s.hitLimit / n}`);
    // serial regular jobs: median runtime near MedianRuntime (1800 s; the cut at 900 s pushes it up a little)
    const reg = jobs
      .filter((j) => j.nodes === 1 && j.runtime >= 900 && j.runtime <= 14_400 && j.runtime <= j.limit)
      .map((j) => j.runtime)
      .sort((a, b) => a - b);
    const med = reg[reg.length >> 1];
    assert.ok(med > 1700 && med < 2600, `regular median ${med}`);
    // runtime grows with size (SizeExponent 0.1)
    const meanLog = (f: (n: number) => boolean) => {
      const xs = jobs
        .filter((j) => f(j.nodes) && j.runtime >= 900 && j.runtime < 14_400)
        .map((j) => Math.log(j.runtime));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    assert.ok(meanLog((k) => k >= 32) > meanLog((k) => k === 1) + 0.1);
    // limits over-estimate: most jobs end well before their limit
    const ratio = jobs.filter((j) => j.runtime <= j.limit).map((j) => j.limit / j.runtime);
    ratio.sort((a, b) => a - b);
    assert.ok(ratio[ratio.length >> 1] > 2, `median limit/runtime ${ratio[ratio.length >> 1]}`);
  });

  it('makes bursts at the configured rate and size', () => {
    const w = gen(
      '  Days: 300\n  Arrivals:\n    JobsPerDay: 50\n  Bursts:\n    PerDay: 2\n    MeanJobs: 20\n    MaxJobs: 100\n',
    );
    const s = w.stats;
    // Poisson(600): 3 sigma is about 73
    assert.ok(Math.abs(s.bursts - 600) < 75, `bursts ${s.bursts}`);
    const meanSize = s.burstJobs / s.bursts;
    assert.ok(meanSize > 17 && meanSize < 22, `burst size ${meanSize}`);
  });

  it('gives byte-identical SWF for the same seed, and a different one for another seed', () => {
    const swf = (seed: number) => {
      const w = gen('  Nodes: 32\n  Days: 10\n  Arrivals:\n    JobsPerDay: 100\n', { seed });
      const sim = simulateCluster(w.jobs, { nodes: 32, overrun: 'kill' });
      return formatSwf([...sim.records()], { maxNodes: 32, header: { UnixStartTime: String(w.start) } });
    };
    const a = swf(11);
    assert.equal(a, swf(11));
    assert.notEqual(a, swf(12));
    assert.ok(a.split('\n').length > 900);
  });
});
