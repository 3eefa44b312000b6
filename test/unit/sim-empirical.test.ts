import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { calibrate, sizeFreeQuantiles } from '../../src/sim/calibrate.js';
import { SimulatorSchema } from '../../src/sim/config.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { simulateCluster } from '../../src/sim/scheduler.js';

/** The generator's empirical distributions (what --calibrate writes): sizes, class by size, run-time quantiles. */

function gen(yaml: string) {
  const c = parseConfig(yaml);
  return generateWorkload(resolveSimulator(c.Simulator, c.Cluster));
}

const band = (n: number) => Math.floor(Math.log2(n));
const quantile = (x: number[], p: number) => {
  const s = [...x].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

describe('sim empirical distributions', () => {
  it('Sizes.Log2Shares: band shares, and 2^b within a band by Pow2Share', () => {
    const w = gen(
      'Simulator:\n  Nodes: 12\n  Days: 60\n  Bursts:\n    PerDay: 0\n  Sizes:\n    Pow2Share: 0.5\n    Log2Shares: [0.4, 0.1, 0.2, 0.3]\n',
    );
    const n = w.jobs.length;
    assert.ok(n > 10_000, `${n} jobs`);
    const cnt = [0, 0, 0, 0];
    let pow2In3 = 0;
    for (const j of w.jobs) {
      assert.ok(j.nodes >= 1 && j.nodes <= 12, `size ${j.nodes}`);
      cnt[band(j.nodes)]++;
      if (band(j.nodes) === 3 && j.nodes === 8) pow2In3++;
    }
    [0.4, 0.1, 0.2, 0.3].forEach((p, b) => {
      assert.ok(Math.abs(cnt[b] / n - p) < 0.015, `band ${b}: ${cnt[b] / n}`);
    });
    // band 3 holds 8..12 here (the cluster has 12 nodes): half of them exactly 8
    assert.ok(
      Math.abs(pow2In3 / cnt[3] - 0.5 - 0.5 / 5) < 0.05,
      `8-node share in band 3: ${pow2In3 / cnt[3]}`,
    );
  });

  it('Classes.SharesBySize: the class follows the size', () => {
    const w = gen(
      'Simulator:\n  Nodes: 8\n  Days: 20\n  Bursts:\n    PerDay: 0\n  Sizes:\n    Log2Shares: [0.3, 0.3, 0.2, 0.2]\n  Classes:\n    SharesBySize: [[1, 0, 0], [0, 0, 1], [0, 1, 0]]\n',
    );
    let checked = 0;
    for (const j of w.jobs) {
      // the drawn run time stays in its class's range (a job killed at its limit ends earlier)
      const b = band(j.nodes);
      if (b === 0) assert.ok(j.runtime <= 900, `serial job ran ${j.runtime} s`);
      if (b === 1) assert.ok(j.runtime >= 14_400, `2-3 node job ran ${j.runtime} s`);
      if (b === 2) assert.ok(j.runtime >= 900 && j.runtime <= 14_400, `4-7 node job ran ${j.runtime} s`);
      checked++;
    }
    assert.ok(checked > 1000);
  });

  it('RuntimeQuantiles: piecewise linear in log run time, scaled by nodes^SizeExponent; BySize overrides', () => {
    const w = gen(
      'Simulator:\n  Nodes: 16\n  Days: 120\n  Bursts:\n    PerDay: 0\n  Limits:\n    HitLimitShare: 0\n' +
        '  Sizes:\n    Log2Shares: [0.5, 0, 0, 0, 0.5]\n' +
        '  Classes:\n    Short: { Share: 0 }\n    Long: { Share: 0 }\n' +
        '    Regular: { Share: 1, MinRuntime: 900, MaxRuntime: 14400, SizeExponent: 0.5, RuntimeQuantiles: [1000, 2000, 8000],' +
        ' RuntimeQuantilesBySize: [~, ~, ~, ~, [3000, 3000.1]] }\n',
    );
    const serial = w.jobs.filter((j) => j.nodes === 1).map((j) => j.runtime);
    const big = w.jobs.filter((j) => j.nodes === 16).map((j) => j.runtime);
    assert.ok(serial.length > 5000 && big.length > 5000);
    // 1-node jobs: median 2000 s, quartiles at the log midpoints exp((ln 1000 + ln 2000) / 2) = 1414, and 4000
    assert.ok(Math.abs(quantile(serial, 0.5) / 2000 - 1) < 0.03, `median ${quantile(serial, 0.5)}`);
    assert.ok(Math.abs(quantile(serial, 0.25) / 1414 - 1) < 0.03, `q25 ${quantile(serial, 0.25)}`);
    assert.ok(Math.abs(quantile(serial, 0.75) / 4000 - 1) < 0.03, `q75 ${quantile(serial, 0.75)}`);
    assert.ok(Math.min(...serial) >= 1000 && Math.max(...serial) <= 8000);
    // 16-node jobs use their own band's quantiles, unscaled (16^0.5 = 4 would give 12000 s)
    for (const r of big) assert.ok(r === 3000, `16-node run time ${r}`);
  });

  it('sizeFreeQuantiles: order statistics with the size effect removed, 3 significant digits', () => {
    const rows = [1, 2, 3, 4, 5].map((k) => ({ nodes: 4, runtime: 1000 * k }));
    assert.deepEqual(sizeFreeQuantiles(rows, 0, 5), [1000, 2000, 3000, 4000, 5000]);
    assert.deepEqual(sizeFreeQuantiles(rows, 0.5, 3), [500, 1500, 2500]);
    assert.deepEqual(sizeFreeQuantiles([{ nodes: 1, runtime: 12_345 }], 0, 2), [12_300, 12_300]);
  });

  it('--calibrate recovers an empirical workload and its load', async () => {
    const truth =
      'Simulator:\n  Nodes: 64\n  Days: 90\n  Seed: 3\n  Arrivals:\n    JobsPerDay: 120\n  Bursts:\n    PerDay: 0\n' +
      '  Limits:\n    HitLimitShare: 0\n' +
      '  Sizes:\n    Pow2Share: 1\n    Log2Shares: [0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05]\n' +
      '  Classes:\n    SharesBySize: [[0.8, 0.2, 0], [0.6, 0.3, 0.1], [0.4, 0.4, 0.2], [0.2, 0.5, 0.3], [0.2, 0.5, 0.3], [0.1, 0.5, 0.4], [0.1, 0.3, 0.6]]\n' +
      '    Regular: { SizeExponent: 0, RuntimeQuantiles: [900, 5000, 9000, 12000, 14400] }\n';
    const w = gen(truth);
    const sim = simulateCluster(w.jobs, { nodes: 64, overrun: 'kill' });
    const cal = await calibrate([...sim.records()], { maxNodes: 64, timeZone: 'UTC' });
    const s = SimulatorSchema.parse(cal.simulator);
    const shares = s.Sizes.Log2Shares as number[];
    [0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05].forEach((p, b) => {
      assert.ok(Math.abs(shares[b] - p) < 0.02, `Log2Shares[${b}] ${shares[b]}`);
    });
    const bySize = s.Classes.SharesBySize as number[][];
    assert.ok(Math.abs(bySize[6][2] - 0.6) < 0.1, `long share of 64-node jobs ${bySize[6][2]}`);
    const q = s.Classes.Regular.RuntimeQuantiles as number[];
    assert.equal(q.length, 21);
    // p = 0.5 knot: the true quantile function is 9000 s there
    assert.ok(Math.abs(q[10] / 9000 - 1) < 0.08, `regular median ${q[10]}`);
    // the twin from the fit carries about the same work
    const twin = generateWorkload(
      resolveSimulator(s, { Nodes: 64, CpusPerNode: 1, TimeZone: 'UTC' }, { seed: 9 }),
    );
    const work = (jobs: typeof w.jobs) =>
      jobs.reduce((a, j) => a + j.nodes * Math.min(j.runtime, j.limit), 0);
    const ratio = work(twin.jobs) / work(w.jobs);
    assert.ok(ratio > 0.85 && ratio < 1.15, `twin work ratio ${ratio}`);
  });
});
