import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newColumns } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from '../../src/timeline/columns.js';
import { p90Bin } from '../../src/timeline/limit-histogram.js';
import { RowBuilder } from '../../src/timeline/rows.js';
import { EndedWindow, SortedValues } from '../../src/timeline/runtime-quantiles.js';
import type { ClusterState } from '../../src/timeline/state.js';
import {
  ageBin,
  cellIndex,
  type DailyEndingTable,
  EndingTable,
  remBin,
  sizeBin,
} from '../../src/timeline/survival.js';

const T0 = 1_704_067_200; // 2024-01-01T00:00:00Z

type TimelineColumns = Timeline['columns'];

/** A hand-made scheduler state over `n` jobs: set the per-job arrays, then move jobs in and out of the lists. */
class HandState implements ClusterState {
  running: number[] = [];
  queue: Int32Array;
  qLen = 0;
  need: Float64Array;
  cpus: Float64Array;
  limit: Float64Array;
  alloc: Float64Array;
  run: Float64Array;
  end: Float64Array;
  submittedSince = 0;
  startedSince = 0;
  endedSince = 0;
  ended: number[] = [];

  constructor(n: number) {
    this.queue = new Int32Array(n);
    this.need = new Float64Array(n).fill(1);
    this.cpus = new Float64Array(n).fill(1);
    this.limit = new Float64Array(n).fill(Number.NaN);
    this.alloc = new Float64Array(n).fill(Number.NaN);
    this.run = new Float64Array(n).fill(Number.NaN);
    this.end = new Float64Array(n).fill(Number.NaN);
  }

  enqueue(j: number): void {
    this.queue[this.qLen++] = j;
  }

  /** Job j leaves the queue and gets its nodes at t (runs at t + boot), ending at `end`. */
  start(j: number, t: number, end: number, boot = 0): void {
    const k = this.queue.subarray(0, this.qLen).indexOf(j);
    if (k >= 0) this.queue[k] = this.queue[--this.qLen];
    this.alloc[j] = t;
    this.run[j] = t + boot;
    this.end[j] = end;
    this.running.push(j);
  }

  finish(j: number): void {
    this.running.splice(this.running.indexOf(j), 1);
  }
}

/** Rows [0, n) written one by one; `step(m, t)` changes the state before row m. */
function rows(
  s: HandState,
  n: number,
  step: (m: number, t: number) => void,
  endingTable?: EndingTable,
  capacity = 16,
): TimelineColumns {
  const out = newColumns(n);
  const b = new RowBuilder(T0, capacity, 4 * capacity, endingTable);
  for (let m = 0; m < n; m++) {
    step(m, T0 + 60 * m);
    b.write(s, m, out);
  }
  return out;
}

const col = (c: TimelineColumns, name: TimelineColumn) => Array.from(c[name]);

describe('row builder: a row from a scheduler state', () => {
  it('running: nodes from allocation to end; jobs past their end or without nodes count nowhere', () => {
    const s = new HandState(3);
    s.need.set([2, 3, 0]);
    s.cpus.set([8, 4, 4]);
    const c = rows(s, 5, (m, t) => {
      if (m === 1) {
        s.start(0, t, t + 180); // rows 1..3
        s.start(2, t, t + 600); // no nodes
      }
      if (m === 2) s.start(1, t - 30, t + 30); // row 2 only; still listed at row 3 after its end
    });
    assert.deepEqual(col(c, 'running_jobs'), [0, 1, 2, 1, 0]);
    assert.deepEqual(col(c, 'busy_nodes'), [0, 2, 5, 2, 0]);
    assert.deepEqual(col(c, 'cpu_util'), [0, 8 / 64, 12 / 64, 8 / 64, 0]);
    assert.deepEqual(col(c, 'mean_cpus_running'), [0, 8, 6, 8, 0]);
    assert.deepEqual(col(c, 'mean_elapsed_running_s'), [0, 0, (60 + 30) / 2, 120, 0]);
  });

  it('overshoot: nodes beyond capacity', () => {
    const s = new HandState(2);
    s.need.set([10, 10]);
    const c = rows(
      s,
      2,
      (m, t) => {
        if (m === 0) {
          s.start(0, t, t + 600);
          s.start(1, t, t + 600);
        }
      },
      undefined,
      16,
    );
    assert.deepEqual(col(c, 'busy_nodes'), [16, 16]);
    assert.deepEqual(col(c, 'overshoot_nodes'), [4, 4]);
    assert.deepEqual(col(c, 'mean_nodes_running'), [10, 10]);
  });

  it('queue: the listed jobs, their nodes and CPUs', () => {
    const s = new HandState(3);
    s.need.set([4, 2, 6]);
    s.cpus.set([16, 2, 6]);
    const c = rows(s, 4, (m, t) => {
      if (m === 0) s.enqueue(0);
      if (m === 1) s.enqueue(1);
      if (m === 2) {
        s.start(0, t, t + 600);
        s.enqueue(2);
      }
      if (m === 3) s.qLen = 0; // cancelled while pending
    });
    assert.deepEqual(col(c, 'queued_jobs'), [1, 2, 2, 0]);
    assert.deepEqual(col(c, 'queued_nodes'), [4, 6, 8, 0]);
    assert.deepEqual(col(c, 'mean_nodes_queued'), [4, 3, 4, 0]);
    assert.deepEqual(col(c, 'mean_cpus_queued'), [16, 9, 4, 0]);
  });

  it('flow counts: the state counters since the last row, reset by each row', () => {
    const s = new HandState(1);
    const c = rows(s, 3, (m) => {
      if (m === 1) {
        s.submittedSince += 3;
        s.startedSince += 2;
        s.endedSince += 1;
      }
    });
    assert.deepEqual(col(c, 'submitted_last_min'), [0, 3, 0]);
    assert.deepEqual(col(c, 'started_last_min'), [0, 2, 0]);
    assert.deepEqual(col(c, 'ended_last_min'), [0, 1, 0]);
    assert.equal(s.submittedSince, 0);
  });

  it('run-time quantiles: elapsed of the running jobs, run times of the jobs ended in the last hour', () => {
    const s = new HandState(5);
    // before row 0: job 0 ended more than an hour before it, job 1 within the hour (900 s run)
    s.start(0, T0 - 7200, T0 - 3700);
    s.start(1, T0 - 1000, T0 - 100);
    s.ended.push(0, 1);
    s.finish(0);
    s.finish(1);
    s.start(2, T0 - 600, T0 + 86400);
    s.start(3, T0 - 60, T0 + 30);
    s.start(4, T0 - 3000, T0 + 86400);
    const c = rows(s, 61, (m) => {
      if (m === 1) {
        s.ended.push(3); // ran 90 s
        s.finish(3);
      }
    });
    const at = (name: TimelineColumn) => [0, 1, 60].map((m) => c[name][m]);
    // elapsed at row 0: 60, 600, 3000 -> P50 the 2nd, P90 the 3rd; at row 1: 660, 3060
    assert.deepEqual(at('p50_elapsed_running_s'), [600, 660, 660 + 59 * 60]);
    assert.deepEqual(at('p90_elapsed_running_s'), [3000, 3060, 3060 + 59 * 60]);
    // ended within the hour: [900] at row 0, [90, 900] at row 1; job 1 (end T0 - 100) is out by row 60
    assert.deepEqual(at('p50_runtime_ended_1h_s'), [900, 90, 90]);
    assert.deepEqual(at('p90_runtime_ended_1h_s'), [900, 900, 90]);
    assert.equal(s.ended.length, 0, 'each row empties the list');
    // nothing running, nothing ended: 0
    const e = rows(new HandState(1), 1, () => {});
    for (const name of [
      'p50_elapsed_running_s',
      'p90_elapsed_running_s',
      'p50_runtime_ended_1h_s',
      'p90_runtime_ended_1h_s',
    ] as const)
      assert.equal(e[name][0], 0, name);
  });

  it('limits: mean and nearest-rank p90 over the jobs that have one', () => {
    const limits = [3600, 3600, 3600, 3600, 3600, 3600, 3600, 3600, 86400, 86400, Number.NaN];
    const s = new HandState(limits.length);
    s.limit.set(limits);
    const c = rows(s, 2, (m, t) => {
      if (m === 0) for (let j = 0; j < limits.length; j++) s.start(j, t, t + 86400);
      if (m === 1) s.finish(9); // 9 limits left: rank 9 is the first 86400
    });
    assert.deepEqual(col(c, 'mean_limit_running_s'), [(8 * 3600 + 2 * 86400) / 10, (8 * 3600 + 86400) / 9]);
    assert.deepEqual(col(c, 'p90_limit_running_s'), [86400, 86400]);
    assert.equal(c.running_jobs[0], 11);
    s.finish(8);
    const d = rows(s, 1, () => {});
    assert.equal(d.p90_limit_running_s[0], 3600); // 8 limits: rank 8 is 3600
  });

  it('ages count from allocation, ending times from the run (a job that waited for its nodes to boot)', () => {
    const s = new HandState(1);
    s.need[0] = 4;
    s.limit[0] = 3600;
    // allocated at row 0, boots for 10 min, so its limit ends at T0 + 600 + 3600
    const c = rows(s, 130, (m, t) => {
      if (m === 0) s.start(0, t, t + 86400, 600);
    });
    const at = (name: TimelineColumn, ...ms: number[]) => ms.map((m) => c[name][m]);
    assert.deepEqual(at('age_lt5m_nodes', 0, 4, 5), [4, 4, 0]);
    assert.deepEqual(at('age_5_30m_nodes', 4, 5, 29, 30), [0, 4, 4, 0]);
    assert.deepEqual(at('age_30_120m_nodes', 29, 30, 119, 120), [0, 4, 4, 0]);
    assert.deepEqual(at('age_ge120m_nodes', 119, 120), [0, 4]);
    // due at row 70: within 240 min from row 0 on, 60 min from row 10, 30 from 40, 10 from 60, 5 from 65
    assert.deepEqual(at('ending_240m_nodes', 0), [4]);
    assert.deepEqual(at('ending_60m_nodes', 9, 10), [0, 4]);
    assert.deepEqual(at('ending_30m_nodes', 39, 40), [0, 4]);
    assert.deepEqual(at('ending_10m_nodes', 59, 60), [0, 4]);
    assert.deepEqual(at('ending_5m_nodes', 64, 65, 129), [0, 4, 4]); // overdue jobs stay ending
    // prior table: expected ends = the limit rule while the remaining limit is in (0, 30] min
    assert.deepEqual(at('expected_end_30m_nodes', 39, 40, 69, 70), [0, 4, 4, 0]);
  });

  it('expected ends: nodes x P(cell) of a fixed table', () => {
    const table = new EndingTable();
    for (let k = 0; k < 50; k++) table.addRun(20 + k, Number.NaN, 2);
    const P = table.probabilities();
    const s = new HandState(2);
    s.need.set([2, 7]);
    s.limit[1] = 7200;
    const c = rows(
      s,
      100,
      (m, t) => {
        if (m === 0) s.start(0, t, t + 86400);
        if (m === 10) s.start(1, t - 17, t + 86400);
      },
      table,
    );
    for (const m of [0, 9, 10, 37, 99]) {
      const t = T0 + 60 * m;
      let want = 2 * P[cellIndex(ageBin((t - T0) / 60), remBin(Number.NaN), sizeBin(2))];
      if (m >= 10) {
        const a = t - (T0 + 600 - 17);
        want += 7 * P[cellIndex(ageBin(a / 60), remBin((7200 - a) / 60), sizeBin(7))];
      }
      assert.ok(
        Math.abs(c.expected_end_30m_nodes[m] - want) < 1e-12,
        `row ${m}: ${c.expected_end_30m_nodes[m]} vs ${want}`,
      );
    }
  });

  it('the daily refit: rows of day k use the runs added before its first row', () => {
    const s = new HandState(1);
    s.need[0] = 3;
    const b = new RowBuilder(T0, 16, 64);
    const daily = b.daily as DailyEndingTable;
    const out = newColumns(3000);
    const seen = new EndingTable();
    for (let m = 0; m < 3000; m++) {
      const t = T0 + 60 * m;
      if (m === 1430) s.start(0, t, t + 86400 * 10);
      // runs end now and then; they count from the next day's first row on
      if (m % 100 === 50) {
        daily.addRun(t - 600, t, Number.NaN, 2);
        seen.addRun(10, Number.NaN, 2);
      }
      if (m === 1440) {
        const P = seen.probabilities();
        b.write(s, m, out);
        const age = (t - s.alloc[0]) / 60;
        assert.ok(
          Math.abs(
            out.expected_end_30m_nodes[m] - 3 * P[cellIndex(ageBin(age), remBin(Number.NaN), sizeBin(3))],
          ) < 1e-12,
        );
        continue;
      }
      b.write(s, m, out);
    }
    // day 0 had the prior (no limit: P = 0); day 1 learned that short runs end
    assert.equal(out.running_jobs[1439], 1);
    assert.equal(out.expected_end_30m_nodes[1439], 0);
    assert.ok(out.expected_end_30m_nodes[1440] > 0);
    assert.equal(out.expected_end_30m_nodes[1441], out.expected_end_30m_nodes[1440]);
  });

  it('rows are written in order, none skipped', () => {
    const b = new RowBuilder(T0, 4, 4);
    const s = new HandState(1);
    const out = newColumns(3);
    b.write(s, 0, out);
    assert.throws(() => b.write(s, 2, out), /row 2 written after row 0/);
  });
});

describe('run-time windows', () => {
  it('the ended-jobs window equals a recount, with ends out of order and thousands held', () => {
    let x = 7;
    const r = () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return x / 2_147_483_648;
    };
    const w = new EndedWindow(3600);
    const all: Array<[number, number]> = [];
    for (let t = 0; t < 20_000; t += 60) {
      // a burst now and then (the window grows past its first arrays), ends up to 5 minutes late
      const n = r() < 0.05 ? 400 : Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const end = t - r() * 300;
        const run = Math.round(r() * 5000);
        w.add(end, run);
        all.push([end, run]);
      }
      w.evict(t);
      const want = all
        .filter(([e]) => e > t - 3600)
        .map(([, v]) => v)
        .sort((a, b) => a - b);
      assert.equal(w.runtimes.size, want.length, `size at ${t}`);
      for (const k of [0, want.length >> 1, want.length - 1])
        if (want.length) assert.equal(w.runtimes.at(k), want[k], `value ${k} at ${t}`);
    }
  });

  it('a sorted multiset refuses to remove what it does not hold', () => {
    const v = new SortedValues();
    v.add(3);
    v.add(1);
    v.add(3);
    v.remove(3);
    assert.deepEqual([v.at(0), v.at(1)], [1, 3]);
    assert.throws(() => v.remove(2), /2 is not held/);
  });
});

describe('row builder: running sums equal a per-row recount', () => {
  /** A random schedule over n jobs with fractional times, boots, limits or none, and jobs listed past their end. */
  function randomRun(seed: number, reported: boolean) {
    let x = seed;
    const r = () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return x / 2_147_483_648;
    };
    const n = 120;
    const M = 3 * 1440 + 200;
    const s = new HandState(n);
    const state = { queued: new Set<number>(), started: new Set<number>(), held: new Set<number>() };
    const out = newColumns(M);
    const want = newColumns(M);
    const b = new RowBuilder(T0, 40, 160, undefined, { scan: !reported });
    for (let j = 0; j < n; j++) {
      s.need[j] = [0, 1, 2, 5, 17, 70][Math.floor(r() * 6)];
      s.cpus[j] = 1 + Math.floor(r() * 32);
      s.limit[j] =
        r() < 0.3 ? Number.NaN : [60, 600, 1800, 3600, 7200, 86400, 37 + r() * 9000][Math.floor(r() * 7)];
    }
    let next = 0;
    const endedAll: number[] = [];
    const reportedEnd = new Set<number>();
    for (let m = 0; m < M; m++) {
      const t = T0 + 60 * m;
      // arrivals, starts, ends (a job may stay listed after its end)
      if (next < n && r() < 0.06) {
        s.enqueue(next);
        state.queued.add(next);
        if (reported) b.enqueue(next);
        next++;
      }
      for (const j of [...state.queued]) {
        if (r() < 0.05) {
          const at = t - r() * 59;
          s.start(j, at, at + r() * r() * 3 * 86400, r() < 0.3 ? r() * 900 : 0);
          state.queued.delete(j);
          if (reported) b.dequeue(j);
          state.started.add(j);
          if (s.end[j] > t && s.need[j] > 0) {
            state.held.add(j);
            if (reported) b.enter(j);
          }
        }
      }
      for (const j of [...state.started]) {
        // a node-holding job's end is reported once it has passed (also one shorter than a minute)
        if (s.need[j] > 0 && s.end[j] > s.alloc[j] && s.end[j] <= t && !reportedEnd.has(j)) {
          reportedEnd.add(j);
          s.ended.push(j);
          endedAll.push(j);
        }
        if (state.held.has(j) && !(s.end[j] > t)) {
          state.held.delete(j);
          if (reported) b.leave(j);
        }
        if (s.end[j] <= t && r() < 0.5) {
          s.finish(j);
          state.started.delete(j);
          b.daily?.addRun(s.alloc[j], s.end[j], s.limit[j], s.need[j]);
        }
      }
      b.write(s, m, out);
      recount(s, t, want, m, b, endedAll);
    }
    return { out, want, M };
  }

  /** The row from its definition, every job afresh (P from the builder's own daily table, already tested above). */
  function recount(
    s: HandState,
    t: number,
    c: TimelineColumns,
    m: number,
    b: RowBuilder,
    endedAll: number[],
  ): void {
    const P = (b.daily as DailyEndingTable).at(m);
    const limits: number[] = [];
    const elapsed: number[] = [];
    let raw = 0;
    for (const j of s.running) {
      const nd = s.need[j];
      if (!(s.end[j] > t) || !(nd > 0)) continue;
      c.running_jobs[m]++;
      raw += nd;
      c.mean_cpus_running[m] += s.cpus[j];
      c.mean_elapsed_running_s[m] += t - s.alloc[j];
      elapsed.push(t - s.alloc[j]);
      const age = (t - s.alloc[j]) / 60;
      const ages: TimelineColumn[] = [
        'age_lt5m_nodes',
        'age_5_30m_nodes',
        'age_30_120m_nodes',
        'age_ge120m_nodes',
      ];
      c[ages[age < 5 ? 0 : age < 30 ? 1 : age < 120 ? 2 : 3]][m] += nd;
      const l = s.limit[j];
      const rem = l > 0 ? (s.run[j] + l - t) / 60 : Number.NaN;
      c.expected_end_30m_nodes[m] += nd * P[cellIndex(ageBin(age), remBin(rem), sizeBin(nd))];
      if (!(l > 0)) continue;
      limits.push(l);
      const ending: TimelineColumn[] = [
        'ending_5m_nodes',
        'ending_10m_nodes',
        'ending_30m_nodes',
        'ending_60m_nodes',
        'ending_240m_nodes',
      ];
      [5, 10, 30, 60, 240].forEach((k, i) => {
        if (s.run[j] + l <= t + 60 * k) c[ending[i]][m] += nd;
      });
    }
    const run = c.running_jobs[m];
    c.busy_nodes[m] = Math.min(raw, b.capacity);
    c.overshoot_nodes[m] = Math.max(0, raw - b.capacity);
    c.mean_nodes_running[m] = run ? raw / run : 0;
    c.mean_cpus_running[m] = run ? c.mean_cpus_running[m] / run : 0;
    c.mean_elapsed_running_s[m] = run ? c.mean_elapsed_running_s[m] / run : 0;
    c.mean_limit_running_s[m] = limits.length ? limits.reduce((a, v) => a + v, 0) / limits.length : 0;
    limits.sort((a, v) => a - v);
    c.p90_limit_running_s[m] = limits.length ? limits[Math.ceil((limits.length * 9) / 10) - 1] : 0;
    for (let k = 0; k < s.qLen; k++) {
      c.queued_jobs[m]++;
      c.queued_nodes[m] += s.need[s.queue[k]];
    }
    // nearest rank: the ceil(n p)-th smallest
    const q = (v: number[], p: number) =>
      v.length ? v.sort((x, y) => x - y)[Math.ceil(v.length * p) - 1] : 0;
    c.p50_elapsed_running_s[m] = q(elapsed, 0.5);
    c.p90_elapsed_running_s[m] = q(elapsed, 0.9);
    const runs = endedAll
      .filter((j) => s.end[j] > t - 3600 && s.end[j] <= t)
      .map((j) => s.end[j] - s.alloc[j]);
    c.p50_runtime_ended_1h_s[m] = q(runs, 0.5);
    c.p90_runtime_ended_1h_s[m] = q(runs.slice(), 0.9);
  }

  for (const [seed, reported] of [
    [1, false],
    [2, false],
    [3, true],
  ] as const) {
    it(`random schedule, seed ${seed}, changes ${reported ? 'reported by the state' : 'found by comparing lists'}`, () => {
      const { out, want, M } = randomRun(seed, reported);
      const checked: TimelineColumn[] = TIMELINE_COLUMNS.filter(
        (c) => (want[c] as Float64Array).some((v) => v !== 0) && c !== 'p90_limit_running_s',
      );
      assert.ok(checked.length >= 15, `only ${checked.length} columns ever non-zero`);
      for (const name of checked) {
        for (let m = 0; m < M; m++) {
          const w = want[name][m];
          assert.ok(
            Math.abs(out[name][m] - w) <= 1e-6 * Math.max(1, Math.abs(w)),
            `${name}[${m}]: ${out[name][m]} vs ${w}`,
          );
        }
      }
      for (let m = 0; m < M; m++) {
        const w = want.p90_limit_running_s[m];
        if (w === 0) assert.equal(out.p90_limit_running_s[m], 0);
        else assert.equal(p90Bin(out.p90_limit_running_s[m]), p90Bin(w), `p90[${m}]`);
      }
    });
  }
});
