import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JobRecord, JobState } from '../../src/jobs/record.js';
import { buildTimeline, TimelineBuilder } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../../src/timeline/columns.js';
import { P90_BINS, p90Bin } from '../../src/timeline/limit-histogram.js';
import { ageBin, cellIndex, EndingTable, remBin, sizeBin } from '../../src/timeline/survival.js';
import { mulberry32 } from '../../src/util/rng.js';

const T = 1_704_067_200; // 2024-01-01T00:00:00Z

function job(p: Partial<JobRecord>): JobRecord {
  return {
    id: p.id ?? '1',
    submit: null,
    eligible: null,
    start: null,
    end: null,
    nodes: 1,
    cpus: 1,
    timeLimit: null,
    partition: null,
    state: 'COMPLETED',
    user: null,
    nodeList: null,
    ...p,
  };
}

function col(tl: Timeline, c: TimelineColumn): number[] {
  return Array.from(tl.columns[c]);
}

describe('buildTimeline: hand-computed cases', () => {
  // job 1 runs [T+120, T+300) on 2 nodes / 8 CPUs with a 10-minute limit;
  // job 2 waits from its eligible time T+90 and is cancelled while pending at T+250.
  const jobs = [
    job({ id: '1', submit: T, start: T + 120, end: T + 300, nodes: 2, cpus: 8, timeLimit: 600 }),
    job({ id: '2', submit: T + 30, eligible: T + 90, end: T + 250, nodes: 4, cpus: 16, state: 'CANCELLED' }),
  ];
  const tl = buildTimeline(jobs, { capacity: 4, cpusPerNode: 4 });

  it('spans floor(first event) .. ceil(last event), one row per minute', () => {
    assert.equal(tl.start, T);
    assert.equal(tl.minutes, 6);
    assert.equal(tl.capacity, 4);
    assert.equal(tl.totalCpus, 16);
    for (const c of TIMELINE_COLUMNS) assert.equal(tl.columns[c].length, 6, c);
  });

  it('running, busy, utilisation and running means', () => {
    assert.deepEqual(col(tl, 'running_jobs'), [0, 0, 1, 1, 1, 0]);
    assert.deepEqual(col(tl, 'busy_nodes'), [0, 0, 2, 2, 2, 0]);
    assert.deepEqual(col(tl, 'overshoot_nodes'), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(col(tl, 'cpu_util'), [0, 0, 0.5, 0.5, 0.5, 0]);
    assert.deepEqual(col(tl, 'mean_nodes_running'), [0, 0, 2, 2, 2, 0]);
    assert.deepEqual(col(tl, 'mean_cpus_running'), [0, 0, 8, 8, 8, 0]);
    assert.deepEqual(col(tl, 'mean_elapsed_running_s'), [0, 0, 0, 60, 120, 0]);
  });

  it('queue: from eligible (else submit) to start, or to the end of a job cancelled while pending', () => {
    assert.deepEqual(col(tl, 'queued_jobs'), [1, 1, 1, 1, 1, 0]);
    assert.deepEqual(col(tl, 'queued_nodes'), [2, 2, 4, 4, 4, 0]);
    assert.deepEqual(col(tl, 'mean_nodes_queued'), [2, 2, 4, 4, 4, 0]);
    assert.deepEqual(col(tl, 'mean_cpus_queued'), [8, 8, 16, 16, 16, 0]);
  });

  it('limits and the scheduler-aware known future', () => {
    assert.deepEqual(col(tl, 'mean_limit_running_s'), [0, 0, 600, 600, 600, 0]);
    assert.deepEqual(col(tl, 'p90_limit_running_s'), [0, 0, 600, 600, 600, 0]);
    // limit ends at T+720: within 5 min from T+420 (after it ended), within 10 min from T+120
    assert.deepEqual(col(tl, 'ending_5m_nodes'), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(col(tl, 'ending_10m_nodes'), [0, 0, 2, 2, 2, 0]);
    assert.deepEqual(col(tl, 'ending_30m_nodes'), [0, 0, 2, 2, 2, 0]);
  });

  it('flow counts over (t-60, t]', () => {
    assert.deepEqual(col(tl, 'submitted_last_min'), [1, 1, 0, 0, 0, 0]);
    assert.deepEqual(col(tl, 'started_last_min'), [0, 0, 1, 0, 0, 0]);
    assert.deepEqual(col(tl, 'ended_last_min'), [0, 0, 0, 0, 0, 1]);
  });
});

describe('buildTimeline: edge cases', () => {
  it('a job shorter than a minute between two rows holds no row but counts as started and ended', () => {
    const tl = buildTimeline(
      [job({ submit: T, start: T + 10, end: T + 50 }), job({ submit: T, start: T + 60, end: T + 120 })],
      { capacity: 10 },
    );
    assert.deepEqual(col(tl, 'running_jobs'), [0, 1, 0]);
    assert.deepEqual(col(tl, 'started_last_min'), [0, 2, 0]);
    assert.deepEqual(col(tl, 'ended_last_min'), [0, 1, 1]);
  });

  it('overshoot: nodes beyond capacity are clipped and counted', () => {
    const tl = buildTimeline(
      [
        job({ start: T, end: T + 120, nodes: 3, cpus: 30 }),
        job({ start: T + 60, end: T + 180, nodes: 3, cpus: 30 }),
      ],
      { capacity: 4, cpusPerNode: 10 },
    );
    assert.deepEqual(col(tl, 'busy_nodes'), [3, 4, 3, 0]);
    assert.deepEqual(col(tl, 'overshoot_nodes'), [0, 2, 0, 0]);
    assert.deepEqual(col(tl, 'cpu_util'), [0.75, 1, 0.75, 0]);
    assert.deepEqual(col(tl, 'mean_nodes_running'), [3, 3, 3, 0]);
  });

  it('a job spanning the whole clipped range is running on every row', () => {
    const tl = buildTimeline([job({ submit: T - 86400, start: T - 3600, end: T + 86400, nodes: 5 })], {
      capacity: 8,
      start: T,
      end: T + 600,
    });
    assert.equal(tl.start, T);
    assert.equal(tl.minutes, 10);
    assert.deepEqual(col(tl, 'busy_nodes'), Array(10).fill(5));
    assert.deepEqual(
      col(tl, 'mean_elapsed_running_s'),
      [...Array(10).keys()].map((i) => 3600 + 60 * i),
    );
    assert.deepEqual(col(tl, 'queued_jobs'), Array(10).fill(0));
    assert.deepEqual(col(tl, 'started_last_min'), Array(10).fill(0));
  });

  it('clipping rounds start up and treats end as exclusive', () => {
    const tl = buildTimeline([job({ start: T, end: T + 3600 })], { capacity: 1, start: T + 1, end: T + 301 });
    assert.equal(tl.start, T + 60);
    assert.equal(tl.minutes, 5); // T+60 .. T+300
  });

  it('end null: running until the span end; still-pending jobs queue until the span end', () => {
    const b = new TimelineBuilder({ capacity: 10 });
    b.add(job({ submit: T, start: T + 60, end: null, nodes: 2, state: 'RUNNING' }));
    b.add(job({ submit: T + 60, nodes: 3, state: 'PENDING' }));
    b.add(job({ submit: T, start: T + 30, end: T + 240 }));
    const tl = b.finish();
    assert.equal(tl.minutes, 5);
    assert.deepEqual(col(tl, 'busy_nodes'), [0, 3, 3, 3, 2]);
    assert.deepEqual(col(tl, 'queued_jobs'), [2, 1, 1, 1, 1]);
    assert.deepEqual(col(tl, 'queued_nodes'), [3, 3, 3, 3, 3]);
    assert.deepEqual(col(tl, 'ended_last_min'), [0, 0, 0, 0, 1]);
    assert.equal(b.stats.openEnded, 1);
    assert.equal(b.stats.neverStarted, 1);
  });

  it('finished jobs with neither start nor end are never queued (no known exit time)', () => {
    const b = new TimelineBuilder({ capacity: 10 });
    b.add(job({ submit: T, state: 'CANCELLED' }));
    b.add(job({ submit: T, start: T + 120, end: T + 180 }));
    const tl = b.finish();
    assert.deepEqual(col(tl, 'queued_jobs'), [1, 1, 0, 0]);
    assert.deepEqual(col(tl, 'submitted_last_min'), [2, 0, 0, 0]);
    assert.equal(b.stats.noExitTime, 1);
  });

  it('zero-node jobs and jobs with end <= start hold no nodes', () => {
    const b = new TimelineBuilder({ capacity: 10 });
    b.add(job({ submit: T, start: T, end: T + 600, nodes: 0 }));
    b.add(job({ submit: T, start: T + 60, end: T + 60, nodes: 4 }));
    b.add(job({ submit: T, start: T + 120, end: T + 60, nodes: 4 }));
    const tl = b.finish();
    assert.deepEqual(col(tl, 'running_jobs'), Array(tl.minutes).fill(0));
    assert.deepEqual(col(tl, 'started_last_min'), Array(tl.minutes).fill(0));
    assert.equal(b.stats.zeroNodes, 1);
    assert.equal(b.stats.nonPositiveRun, 2);
    assert.equal(b.stats.holdingNodes, 0);
  });

  it('p90 of limits is the nearest-rank 90th percentile, overdue jobs count as ending', () => {
    const limits = [3600, 3600, 3600, 3600, 3600, 3600, 3600, 3600, 86400, 86400];
    const tl = buildTimeline(
      limits.map((l, k) => job({ id: String(k), start: T - 7200, end: T + 60, timeLimit: l })),
      { capacity: 100, start: T, end: T + 60 },
    );
    assert.equal(tl.columns.p90_limit_running_s[0], 86400);
    assert.equal(tl.columns.mean_limit_running_s[0], (8 * 3600 + 2 * 86400) / 10);
    // the 8 one-hour jobs started 2 h ago are overdue: they count in every ending_* column
    assert.equal(tl.columns.ending_5m_nodes[0], 8);
    assert.equal(tl.columns.ending_30m_nodes[0], 8);
  });

  it('no jobs: an empty timeline; bad capacity: a clear error', () => {
    assert.equal(buildTimeline([], { capacity: 4 }).minutes, 0);
    assert.equal(buildTimeline([], { capacity: 4, end: T }).minutes, 0);
    assert.throws(() => buildTimeline([], { capacity: 0 }), /capacity: expected a positive number/);
  });

  it('an absurd span (a bogus epoch-0 record) is refused with a hint, not gigabytes', () => {
    const jobs = [job({ submit: 0, start: 0, end: 60 }), job({ submit: T, start: T, end: T + 60 })];
    assert.throws(
      () => buildTimeline(jobs, { capacity: 4 }),
      /would span \d+ minutes \(1970-01-01T00:00:00Z .*clip it/,
    );
    assert.equal(buildTimeline(jobs, { capacity: 4, start: T - 600 }).minutes, 12);
  });

  it('garbage records (NaN, infinities, negatives) never crash and never give non-finite values', () => {
    const time = fc.oneof(
      fc.constant(null),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0),
      fc.double({ min: T - 7200, max: T + 7200, noNaN: true }),
    );
    const count = fc.oneof(
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -5, 0),
      fc.integer({ min: 1, max: 64 }),
    );
    const rec = fc.record({
      submit: time,
      eligible: time,
      start: time,
      end: time,
      nodes: count,
      cpus: count,
      timeLimit: fc.oneof(time, fc.constant(1e300)),
      state: fc.constantFrom<JobState>('COMPLETED', 'PENDING', 'RUNNING', 'CANCELLED', 'UNKNOWN'),
    });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 40 }), (recs) => {
        const tl = buildTimeline(
          recs.map((r) => job(r)),
          { capacity: 16, start: T - 3600, end: T + 3600 },
        );
        assert.equal(tl.minutes, 120);
        for (const c of TIMELINE_COLUMNS)
          for (const v of tl.columns[c]) assert.ok(Number.isFinite(v), `${c}: ${v}`);
        for (const v of tl.columns.busy_nodes) assert.ok(v <= 16);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('accepts an async iterable', async () => {
    async function* gen() {
      yield job({ start: T, end: T + 120, nodes: 2 });
    }
    const tl = await buildTimeline(gen(), { capacity: 4 });
    assert.deepEqual(col(tl, 'busy_nodes'), [2, 2, 0]);
  });
});

// ---- brute force: every minute, every job, straight from the definitions ----

const FINISHED = new Set<JobState>(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL']);

/** The online ending table's P on day k of a timeline from T0: the jobs that held nodes and ended by its start. */
function dailyP(jobs: JobRecord[], T0: number, fixed?: EndingTable): (i: number) => Float64Array {
  const cache = new Map<number, Float64Array>();
  return (i) => {
    const k = Math.floor(i / 1440);
    let P = cache.get(k);
    if (!P) {
      const tab = fixed ?? new EndingTable();
      if (!fixed) {
        for (const j of jobs) {
          if (j.start === null || j.end === null || !(j.nodes > 0) || !(j.end > j.start)) continue;
          if (j.end <= T0 + 86400 * k)
            tab.addRun((j.end - j.start) / 60, (j.timeLimit ?? Number.NaN) / 60, j.nodes);
        }
      }
      P = tab.probabilities();
      cache.set(k, P);
    }
    return P;
  };
}

function reference(
  jobs: JobRecord[],
  T0: number,
  M: number,
  cap: number,
  totalCpus: number,
  fixed?: EndingTable,
) {
  const pOfDay = dailyP(jobs, T0, fixed);
  const out = Object.fromEntries(TIMELINE_COLUMNS.map((c) => [c, new Float64Array(M)])) as Record<
    TimelineColumn,
    Float64Array
  >;
  const exactP90 = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    const t = T0 + 60 * i;
    let run = 0;
    let raw = 0;
    let cpus = 0;
    let elapsed = 0;
    let q = 0;
    let qn = 0;
    let qc = 0;
    const limits: number[] = [];
    const elapsedAll: number[] = [];
    const endedRuns: number[] = [];
    const ending = [0, 0, 0, 0, 0];
    const ages = [0, 0, 0, 0];
    let expected = 0;
    const P = pOfDay(i);
    for (const j of jobs) {
      const holds = j.start !== null && j.nodes > 0 && (j.end === null || j.end > j.start);
      if (holds && j.start! <= t && (j.end === null || t < j.end)) {
        run++;
        raw += j.nodes;
        cpus += j.cpus;
        elapsed += t - j.start!;
        elapsedAll.push(t - j.start!);
        const age = (t - j.start!) / 60;
        ages[age < 5 ? 0 : age < 30 ? 1 : age < 120 ? 2 : 3] += j.nodes;
        const rem = j.timeLimit !== null && j.timeLimit > 0 ? j.timeLimit / 60 - age : Number.NaN;
        expected += j.nodes * P[cellIndex(ageBin(age), remBin(rem), sizeBin(j.nodes))];
        if (j.timeLimit !== null && j.timeLimit > 0) {
          limits.push(j.timeLimit);
          [5, 10, 30, 60, 240].forEach((k, x) => {
            if (j.start! + j.timeLimit! <= t + 60 * k) ending[x] += j.nodes;
          });
        }
      }
      const qs = j.eligible ?? j.submit;
      const qe =
        j.start ?? j.end ?? (FINISHED.has(j.state) ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
      if (qs !== null && qs <= t && t < qe) {
        q++;
        qn += j.nodes;
        qc += j.cpus;
      }
      if (j.submit !== null && t - 60 < j.submit && j.submit <= t) out.submitted_last_min[i]++;
      if (holds && t - 60 < j.start! && j.start! <= t) out.started_last_min[i]++;
      if (holds && j.end !== null && t - 60 < j.end && j.end <= t) out.ended_last_min[i]++;
      if (holds && j.end !== null && t - 3600 < j.end && j.end <= t) endedRuns.push(j.end - j.start!);
    }
    out.running_jobs[i] = run;
    out.busy_nodes[i] = Math.min(raw, cap);
    out.overshoot_nodes[i] = Math.max(0, raw - cap);
    out.cpu_util[i] = Math.min(1, cpus / totalCpus);
    out.mean_nodes_running[i] = run ? raw / run : 0;
    out.mean_cpus_running[i] = run ? cpus / run : 0;
    out.mean_elapsed_running_s[i] = run ? elapsed / run : 0;
    out.queued_jobs[i] = q;
    out.queued_nodes[i] = qn;
    out.mean_nodes_queued[i] = q ? qn / q : 0;
    out.mean_cpus_queued[i] = q ? qc / q : 0;
    out.mean_limit_running_s[i] = limits.length ? limits.reduce((a, b) => a + b, 0) / limits.length : 0;
    limits.sort((a, b) => a - b);
    exactP90[i] = limits.length ? limits[Math.ceil((limits.length * 9) / 10) - 1] : 0;
    out.ending_5m_nodes[i] = ending[0];
    out.ending_10m_nodes[i] = ending[1];
    out.ending_30m_nodes[i] = ending[2];
    out.ending_60m_nodes[i] = ending[3];
    out.ending_240m_nodes[i] = ending[4];
    out.age_lt5m_nodes[i] = ages[0];
    out.age_5_30m_nodes[i] = ages[1];
    out.age_30_120m_nodes[i] = ages[2];
    out.age_ge120m_nodes[i] = ages[3];
    out.expected_end_30m_nodes[i] = expected;
    // nearest rank: the ceil(n p)-th smallest
    const rank = (v: number[], pct: number) =>
      v.length ? v.sort((a, b) => a - b)[Math.ceil((v.length * pct) / 100) - 1] : 0;
    out.p50_elapsed_running_s[i] = rank(elapsedAll, 50);
    out.p90_elapsed_running_s[i] = rank(elapsedAll, 90);
    out.p50_runtime_ended_1h_s[i] = rank(endedRuns, 50);
    out.p90_runtime_ended_1h_s[i] = rank(endedRuns, 90);
  }
  return { out, exactP90 };
}

function randomJobs(seed: number, n: number): JobRecord[] {
  const r = mulberry32(seed);
  const pick = <X>(xs: X[]): X => xs[Math.floor(r() * xs.length)];
  const jobs: JobRecord[] = [];
  for (let k = 0; k < n; k++) {
    // times on whole seconds and on fractions, some exactly on minute boundaries
    const tm = (x: number) => (r() < 0.3 ? Math.round(x / 60) * 60 : r() < 0.5 ? Math.round(x) : x);
    const submit = tm(T + r() * 6 * 3600);
    const eligible = r() < 0.2 ? tm(submit + r() * 1800) : null;
    const wait = r() < 0.3 ? 0 : r() * 3600;
    const kind = r();
    let start: number | null = tm((eligible ?? submit) + wait);
    let end: number | null = tm(start + pick([0, 5, 45, 60, 61, 600, 3600, 5 * 3600]) * r() * 2);
    let state: JobState = 'COMPLETED';
    if (kind < 0.08) {
      start = null; // cancelled while pending
      state = 'CANCELLED';
    } else if (kind < 0.12) {
      start = null; // still pending
      end = null;
      state = 'PENDING';
    } else if (kind < 0.16) {
      end = null; // still running
      state = 'RUNNING';
    } else if (kind < 0.18) {
      start = null; // finished with no times at all
      end = null;
      state = 'CANCELLED';
    } else if (kind < 0.2) end = start - 30; // inconsistent record
    jobs.push({
      id: String(k),
      submit: r() < 0.03 ? null : submit,
      eligible,
      start,
      end,
      nodes: pick([0, 1, 1, 2, 4, 8, 16, 33]),
      cpus: pick([1, 4, 16, 64]),
      timeLimit:
        r() < 0.2
          ? null
          : pick([60, 300, 600, 1800, 3600, 7200, 43200, 86400 * 2, 86400 * 400, 37 + r() * 9000]),
      partition: null,
      state,
      user: null,
      nodeList: null,
    });
  }
  return jobs;
}

describe('buildTimeline: the sweep equals a brute-force per-minute computation', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`random jobs, seed ${seed}`, () => {
      const jobs = randomJobs(seed, 150 + seed * 40);
      const cap = 40;
      const clip = seed % 2 === 0 ? { start: T + 3600 + 17, end: T + 5 * 3600 - 5 } : {};
      const b = new TimelineBuilder({ capacity: cap, cpusPerNode: 8, ...clip });
      for (const j of jobs) b.add(j);
      const tl = b.finish();
      // the default span from the definition
      const times = jobs.flatMap((j) => [j.submit, j.eligible, j.start, j.end]).filter((x) => x !== null);
      const T0 =
        clip.start !== undefined ? Math.ceil(clip.start / 60) * 60 : Math.floor(Math.min(...times) / 60) * 60;
      const last =
        clip.end !== undefined ? Math.ceil(clip.end / 60) * 60 - 60 : Math.ceil(Math.max(...times) / 60) * 60;
      assert.equal(tl.start, T0);
      assert.equal(tl.minutes, (last - T0) / 60 + 1);
      const { out, exactP90 } = reference(jobs, tl.start, tl.minutes, cap, cap * 8);
      for (const c of TIMELINE_COLUMNS) {
        if (c === 'p90_limit_running_s') continue;
        const got = tl.columns[c];
        const want = out[c];
        for (let i = 0; i < tl.minutes; i++) {
          const tol = 1e-9 * Math.max(1, Math.abs(want[i]));
          assert.ok(Math.abs(got[i] - want[i]) <= tol, `${c}[${i}]: got ${got[i]}, want ${want[i]}`);
        }
      }
      let exactRows = 0;
      for (let i = 0; i < tl.minutes; i++) {
        const got = tl.columns.p90_limit_running_s[i];
        const want = exactP90[i];
        if (want === 0) {
          assert.equal(got, 0, `p90[${i}]`);
          continue;
        }
        assert.equal(p90Bin(got), p90Bin(want), `p90[${i}]: got ${got}, want ${want}: not in the same bin`);
        if (got === want) exactRows++;
      }
      assert.ok(exactRows > 0);
    });
  }

  it('expected_end_30m_nodes over several days: online daily table, or a fixed one', () => {
    const r = mulberry32(99);
    const jobs: JobRecord[] = [];
    for (let k = 0; k < 400; k++) {
      const submit = T + r() * 4 * 86400;
      const start = submit + (r() < 0.5 ? 0 : r() * 7200);
      const run = 60 * Math.floor(1 + r() * r() * 900) + (r() < 0.3 ? 17.5 : 0);
      jobs.push(
        job({
          id: String(k),
          submit,
          start,
          end: r() < 0.02 ? null : start + run,
          nodes: [1, 2, 3, 8, 20, 70][Math.floor(r() * 6)],
          timeLimit: r() < 0.15 ? null : Math.ceil((run * (1 + r())) / 3600) * 3600,
          state: 'COMPLETED',
        }),
      );
    }
    const cap = 200;
    const fixed = new EndingTable();
    for (const j of jobs.slice(0, 150))
      if (j.end !== null) fixed.addRun((j.end - j.start!) / 60, (j.timeLimit ?? Number.NaN) / 60, j.nodes);
    for (const table of [undefined, fixed]) {
      const tl = buildTimeline(jobs, { capacity: cap, endingTable: table });
      assert.ok(tl.minutes > 3 * 1440);
      const { out } = reference(jobs, tl.start, tl.minutes, cap, cap, table);
      let nonZero = 0;
      for (let i = 0; i < tl.minutes; i++) {
        const got = tl.columns.expected_end_30m_nodes[i];
        const want = out.expected_end_30m_nodes[i];
        assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, want), `row ${i}: got ${got}, want ${want}`);
        if (want > 0) nonZero++;
        for (const c of ['age_lt5m_nodes', 'age_ge120m_nodes', 'ending_240m_nodes'] as const)
          assert.equal(tl.columns[c][i], out[c][i], `${c}[${i}]`);
      }
      assert.ok(nonZero > 1000);
    }
  });

  it('the p90 bins are log-spaced over 60 s .. 365 d', () => {
    assert.equal(p90Bin(1), 0);
    assert.equal(p90Bin(60), 0);
    assert.equal(p90Bin(365 * 86400), P90_BINS - 1);
    assert.equal(p90Bin(1e12), P90_BINS - 1);
    assert.ok(p90Bin(3600) < p90Bin(3600 * 1.11));
  });
});
