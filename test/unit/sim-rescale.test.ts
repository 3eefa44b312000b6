/**
 * A fitted Simulator section moved to another cluster size (src/sim/rescale.ts), on the demo's workload (the
 * KTH SP2 twin of config/demo-workload.yaml): arrivals in proportion keep the load; on a smaller cluster the
 * jobs larger than it fold into its largest size band.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SimulatorSchema } from '../../src/sim/config.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { rescaleSimulator } from '../../src/sim/rescale.js';
import { simulateCluster } from '../../src/sim/scheduler.js';

const twin = parse(
  readFileSync(new URL('../../config/demo-workload.yaml', import.meta.url), 'utf8'),
).Simulator;

/** Utilisation and largest job of 120 simulated days of `section`. */
function run(section: Record<string, unknown>) {
  const sim = SimulatorSchema.parse(section);
  const setup = resolveSimulator(sim, { Nodes: 1, CpusPerNode: 1, TimeZone: 'Europe/Berlin' }, { days: 120 });
  const w = generateWorkload(setup);
  const s = simulateCluster(w.jobs, { nodes: setup.nodes, overrun: sim.Overrun });
  return {
    util: s.stats().utilisation,
    largest: Math.max(...w.jobs.map((j) => j.nodes)),
    jobs: w.jobs.length,
  };
}

describe('rescaling a fitted workload to another cluster size', () => {
  it('scales the arrivals with the nodes and keeps the load', () => {
    assert.equal(twin.Nodes, 100);
    const big = rescaleSimulator(twin, 200);
    assert.equal(big.Nodes, 200);
    assert.equal((big.Arrivals as { JobsPerDay: number }).JobsPerDay, 169.5);
    assert.equal((big.Bursts as { PerDay: number }).PerDay, 0.1322);
    assert.deepEqual(big.Sizes, twin.Sizes, 'job sizes unchanged on a larger cluster');
    assert.equal(twin.Arrivals.JobsPerDay, 84.76, 'the input is not changed');
    const a = run(twin);
    const b = run(big);
    assert.ok(b.jobs > 1.8 * a.jobs && b.jobs < 2.2 * a.jobs, `${a.jobs} -> ${b.jobs} jobs`);
    assert.ok(Math.abs(a.util - b.util) < 0.05, `utilisation ${a.util} on 100 nodes, ${b.util} on 200`);
  });

  it('folds the jobs larger than a smaller cluster into its largest band', () => {
    const small = rescaleSimulator(twin, 40);
    const sizes = small.Sizes as { MaxNodes: number; Log2Shares: number[] };
    assert.equal(sizes.MaxNodes, 40);
    // bands 1, 2-3, ..., 16-31, then 32-63 holds what 32-63 and 64-127 had
    assert.equal(sizes.Log2Shares.length, 6);
    const t = twin.Sizes.Log2Shares as number[];
    assert.ok(Math.abs(sizes.Log2Shares[5] - (t[5] + t[6])) < 1e-12);
    assert.equal((small.Classes as { SharesBySize: unknown[] }).SharesBySize.length, 6);
    const r = run(small);
    assert.ok(r.largest <= 40, `largest job ${r.largest}`);
    assert.ok(r.util > 0.4 && r.util < 0.9, `utilisation ${r.util}`);
  });
});
