import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { openJobSource } from '../../src/jobs/open.js';
import type { JobRecord } from '../../src/jobs/record.js';
import { calibrate } from '../../src/sim/calibrate.js';
import { SimulatorSchema } from '../../src/sim/config.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { newReplayReport, replayJob, replayJobs } from '../../src/sim/replay.js';
import { simulateCluster } from '../../src/sim/scheduler.js';

const KTH = fileURLToPath(
  new URL('../fixtures/traces/KTH-SP2-1996-2.1-cln.head2000.swf.gz', import.meta.url),
);

function rec(p: Partial<JobRecord>): JobRecord {
  return {
    id: '1',
    submit: 0,
    eligible: null,
    start: 10,
    end: 110,
    nodes: 2,
    cpus: 2,
    timeLimit: 200,
    partition: null,
    state: 'COMPLETED',
    user: 'a',
    nodeList: null,
    ...p,
  };
}

describe('sim calibrate and replay', () => {
  it('recovers the generator parameters from a synthetic trace', async () => {
    const c = parseConfig(
      'Simulator:\n  Nodes: 128\n  Days: 120\n  Arrivals:\n    JobsPerDay: 400\n    DayNightRatio: 3\n    WeekendFactor: 0.4\n  Bursts:\n    PerDay: 1.5\n    MeanJobs: 30\n    GapSeconds: 3\n',
    );
    const w = generateWorkload(resolveSimulator(c.Simulator, c.Cluster));
    const sim = simulateCluster(w.jobs, { nodes: 128, overrun: 'kill' });
    const cal = await calibrate([...sim.records()], { maxNodes: 128, timeZone: 'UTC' });
    const s = cal.simulator as ReturnType<typeof SimulatorSchema.parse>;
    // the fitted section is itself a valid Simulator section
    const parsed = SimulatorSchema.parse(s);
    assert.equal(parsed.Nodes, 128);
    const a = s.Arrivals;
    assert.ok(Math.abs((a.JobsPerDay as number) / 400 - 1) < 0.05, `JobsPerDay ${a.JobsPerDay}`);
    const hw = a.HourWeights as number[];
    const day = hw.slice(8, 18).reduce((x, y) => x + y, 0) / 10;
    const night = (hw.slice(0, 8).reduce((x, y) => x + y, 0) + hw.slice(18).reduce((x, y) => x + y, 0)) / 14;
    assert.ok(Math.abs(day / night / 3 - 1) < 0.1, `day/night ${day / night}`);
    const dw = a.WeekdayWeights as number[];
    const weekend = (dw[5] + dw[6]) / 2 / (dw.slice(0, 5).reduce((x, y) => x + y, 0) / 5);
    assert.ok(Math.abs(weekend / 0.4 - 1) < 0.12, `weekend ${weekend}`);
    assert.ok(Math.abs(s.Bursts.PerDay / 1.5 - 1) < 0.2, `bursts/day ${s.Bursts.PerDay}`);
    assert.ok(Math.abs(s.Bursts.MeanJobs / 30 - 1) < 0.2, `burst size ${s.Bursts.MeanJobs}`);
    assert.ok(Math.abs(s.Sizes.SerialShare - 0.244) < 0.02, `serial ${s.Sizes.SerialShare}`);
    assert.ok(Math.abs(s.Classes.Short.Share - 0.57) < 0.03, `short ${s.Classes.Short.Share}`);
    assert.ok(Math.abs(s.Classes.Long.Share - 0.06) < 0.02, `long ${s.Classes.Long.Share}`);
    assert.ok(Math.abs(s.Limits.HitLimitShare - 0.08) < 0.02, `hit ${s.Limits.HitLimitShare}`);
    assert.ok(s.Limits.OverestimateMedian > 2 && s.Limits.OverestimateMedian < 5);
    // the twin generated from the fit has about the trace's load
    const twin = generateWorkload(resolveSimulator(parsed, c.Cluster));
    const load = (jobs: typeof w.jobs) =>
      jobs.reduce((x, j) => x + j.nodes * Math.min(j.runtime, j.limit), 0);
    const ratio = load(twin.jobs) / load(w.jobs);
    assert.ok(ratio > 0.7 && ratio < 1.3, `twin load ratio ${ratio}`);
  });

  it('counts jobs it cannot replay', () => {
    const rep = newReplayReport();
    assert.equal(replayJob(rec({ nodes: 200 }), 100, rep), null);
    assert.equal(replayJob(rec({ start: null, end: null }), 100, rep), null);
    assert.equal(replayJob(rec({ submit: null, start: null }), 100, rep), null);
    assert.equal(replayJob(rec({ nodes: 0 }), 100, rep), null);
    const noLimit = replayJob(rec({ timeLimit: null }), 100, rep);
    assert.equal(noLimit?.limit, 100);
    const over = replayJob(rec({ timeLimit: 50 }), 100, rep);
    assert.equal(over?.runtime, 100);
    assert.deepEqual(rep, {
      read: 6,
      kept: 2,
      tooLarge: 1,
      unknownRuntime: 1,
      noSubmit: 1,
      noNodes: 1,
      limitFromRuntime: 1,
      overLimit: 1,
    });
  });

  it('replays a real trace slice (KTH SP2, 2000 jobs) on 100 nodes', async () => {
    const src = await openJobSource(KTH, { ppn: 1 });
    const recorded: JobRecord[] = [];
    for await (const j of src.jobs) recorded.push(j);
    const { jobs, report } = await replayJobs(recorded, 100);
    assert.equal(report.read, 2000);
    assert.equal(
      report.kept + report.tooLarge + report.unknownRuntime + report.noNodes + report.noSubmit,
      2000,
    );
    const sim = simulateCluster(jobs, { nodes: 100, overrun: 'honour' });
    const st = sim.stats();
    assert.equal(st.ran, report.kept);
    // recorded run times are kept; the schedule is the simulator's own
    for (let i = 0; i < sim.n; i++) {
      assert.equal(sim.end[i] - sim.start[i], jobs[i].runtime);
      assert.ok(sim.start[i] >= jobs[i].submit);
    }
    assert.ok(st.utilisation > 0.3 && st.utilisation <= 1);
  });
});
