/**
 * Signal study: which information, known at t, predicts busy(t + h) - busy(t) on the exact-node traces?
 *
 *   node --import tsx bench/studies/signal-study.ts TRACE_DIR [--only NAME] [--h 30]
 *
 * TRACE_DIR holds the four Parallel Workloads Archive logs of ACCURACY_LOGS (bench/lib/traces.ts).
 *
 * Per trace: the timeline (busy_nodes = target), then a minute sweep over the jobs that computes candidate
 * features causally (only jobs started/queued by t; the survival table only learns from jobs that ended by
 * t), then quick linear models (least squares and least absolute deviations) on
 * [busy, timeline columns, candidates] fitted on the first 70 % of the minutes, scored on every minute of
 * the last 20 % (the evaluate() split). Prints MAE / RMSE at h next to persistence. Deterministic.
 * Also prints look-ahead oracles (not features): busy(t) minus the nodes really freed by t+h, plus the
 * queued / newly arriving nodes really started by t+h, or plus the queue fitted into idle + really freed
 * nodes — bounds on what each part of the future would be worth to any forecaster.
 */
import { join } from 'node:path';
import type { JobRecord } from '../../src/jobs/record.js';
import { openSwf } from '../../src/jobs/swf.js';
import { buildTimeline } from '../../src/timeline/build.js';
import type { Timeline } from '../../src/timeline/columns.js';
import { ageBin, cellIndex, EndingTable, REM_NONE, remBin, sizeBin } from '../../src/timeline/survival.js';
import { choleskySolve } from '../../src/util/linalg.js';
import { numArg, positionals, strArg } from '../lib/args.js';
import { ACCURACY_LOGS, type ArchiveLog, checkTraceDir } from '../lib/traces.js';

// ---------------------------------------------------------------------------------------------------------
// survival: src/timeline/survival.ts (EndingTable), refitted once a day from the jobs ended by then

const DAY_ROWS = 1440;

// ---------------------------------------------------------------------------------------------------------
// candidate features by a minute sweep

/** Running-job composition: nodes by age and by remaining limit. */
const COMP = [
  'el_lt5',
  'el_lt30',
  'el_lt2h',
  'el_ge2h',
  'rem_le30',
  'rem_le1h',
  'rem_le4h',
  'rem_gt4h',
] as const;
/** Queue what-if. */
const QUEUE = [
  'q_fit_fcfs',
  'q_fit_bf',
  'q_head_nodes',
  'q_head_wait_h',
  'q_fits_after_free',
  'estarts',
] as const;
const CANDIDATES = [
  ...COMP,
  'efreed',
  'estart_q',
  ...QUEUE,
  'proj',
  'proj2',
  'ufreed',
  'ufreed_p',
  'pfreed_med',
  'chain_nodes',
  'oracle_fit_ends',
] as const;
type Cand = (typeof CANDIDATES)[number];

interface Jobs {
  n: number;
  q0: Float64Array;
  start: Float64Array;
  end: Float64Array;
  nodes: Float64Array;
  limit: Float64Array; // seconds, NaN = none
  user: Int32Array; // -1 = unknown
}

function toArrays(jobs: JobRecord[]): Jobs {
  const n = jobs.length;
  const J: Jobs = {
    n,
    q0: new Float64Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    nodes: new Float64Array(n),
    limit: new Float64Array(n),
    user: new Int32Array(n),
  };
  const users = new Map<string, number>();
  jobs.forEach((j, i) => {
    if (j.user == null) J.user[i] = -1;
    else {
      if (!users.has(j.user)) users.set(j.user, users.size);
      J.user[i] = users.get(j.user) ?? -1;
    }
    J.q0[i] = j.eligible ?? j.submit ?? Number.NaN;
    J.start[i] = j.start ?? Number.NaN;
    J.end[i] = j.end ?? Number.NaN;
    J.nodes[i] = Number.isFinite(j.nodes) && j.nodes > 0 ? j.nodes : 0; // NaN -> 0, like the builder
    J.limit[i] = j.timeLimit != null && j.timeLimit > 0 ? j.timeLimit : Number.NaN;
  });
  return J;
}

/** Row of the first minute instant >= x, or -1 when NaN. */
function rowAt(x: number, T0: number): number {
  return Number.isNaN(x) ? -1 : Math.ceil((x - T0) / 60);
}

/** CSR buckets: for each row, the jobs whose event falls there. */
function buckets(rows: Int32Array, M: number): { off: Int32Array; idx: Int32Array } {
  const off = new Int32Array(M + 1);
  for (const r of rows) if (r >= 0 && r < M) off[r + 1]++;
  for (let i = 0; i < M; i++) off[i + 1] += off[i];
  const fill = off.slice(0, M);
  const idx = new Int32Array(off[M]);
  rows.forEach((r, j) => {
    if (r >= 0 && r < M) idx[fill[r]++] = j;
  });
  return { off, idx };
}

const diag = { freed: new Float64Array(0), started: new Float64Array(0), arrived: new Float64Array(0) };

function sweepCandidates(J: Jobs, tl: Timeline, h: number): Record<Cand, Float64Array> {
  const M = tl.minutes;
  const T0 = tl.start;
  const cap = tl.capacity;
  const out = {} as Record<Cand, Float64Array>;
  for (const c of CANDIDATES) out[c] = new Float64Array(M);
  const holds = (j: number) => J.nodes[j] > 0 && !Number.isNaN(J.start[j]) && !(J.end[j] <= J.start[j]);
  // running interval rows [a, b); queue rows [qa, qb)
  const a = new Int32Array(J.n).fill(-1);
  const b = new Int32Array(J.n).fill(-1);
  const qa = new Int32Array(J.n).fill(-1);
  const qb = new Int32Array(J.n).fill(-1);
  const endRow = new Int32Array(J.n).fill(-1); // row at which the job's end is known (end <= t)
  for (let j = 0; j < J.n; j++) {
    if (holds(j)) {
      a[j] = Math.max(0, rowAt(J.start[j], T0));
      b[j] = Number.isNaN(J.end[j]) ? M : Math.min(M, rowAt(J.end[j], T0));
      if (a[j] >= b[j]) a[j] = b[j] = -1;
      else endRow[j] = b[j];
    }
    const q1 = Number.isNaN(J.start[j]) ? J.end[j] : J.start[j];
    if (!Number.isNaN(J.q0[j]) && !Number.isNaN(q1)) {
      qa[j] = Math.max(0, rowAt(J.q0[j], T0));
      qb[j] = Math.min(M, rowAt(q1, T0));
      if (qa[j] >= qb[j]) qa[j] = qb[j] = -1;
    }
  }
  // diagnostics (not features: they look ahead): nodes of jobs running at t that end by t+h, and of
  // jobs queued at t that start by t+h
  diag.freed = new Float64Array(M);
  diag.started = new Float64Array(M);
  diag.arrived = new Float64Array(M);
  for (let j = 0; j < J.n; j++) {
    if (a[j] >= 0) {
      // running at rows [a, b): ends by t+h when b <= i + h, i.e. rows i in [max(a, b-h), b)
      for (let i = Math.max(a[j], b[j] - h); i < b[j] && b[j] < M; i++) diag.freed[i] += J.nodes[j];
    }
    if (qa[j] >= 0 && holds(j)) {
      const sr = rowAt(J.start[j], T0);
      for (let i = Math.max(qa[j], sr - h); i < qb[j]; i++) diag.started[i] += J.nodes[j];
    }
    if (a[j] >= 0) {
      // arrived after t (not queued or running at t) and running by t+h: rows i in [a - h, min(qa, a))
      const first = qa[j] >= 0 ? qa[j] : a[j];
      for (let i = Math.max(0, a[j] - h); i < first; i++) diag.arrived[i] += J.nodes[j];
    }
  }
  const startB = buckets(a, M);
  const qB = buckets(qa, M);
  const endB = buckets(endRow, M);
  if (h !== 30) throw new Error('the ending table is for h = 30');
  const surv = new EndingTable();
  const qsurv = new EndingTable(); // queue waits: "ended" = started within h
  let P = surv.probabilities();
  let PQ = qsurv.probabilities();
  let running: number[] = [];
  let queue: number[] = [];
  const busy = tl.columns.busy_nodes;
  const ends: Array<[number, number]> = [];
  // user history (Tsafrir et al.: mean of the user's last two runtimes), learned from jobs ended by t
  const nUsers = Math.max(0, ...J.user) + 1;
  const last1 = new Float64Array(nUsers).fill(Number.NaN);
  const last2 = new Float64Array(nUsers).fill(Number.NaN);
  const lastEnd = new Float64Array(nUsers).fill(Number.NaN); // time of the user's latest known end
  const lastNodes = new Float64Array(nUsers);
  const active = new Int32Array(nUsers); // running + queued jobs of the user at t
  const predRun = new Float64Array(J.n).fill(Number.NaN); // seconds, fixed when the job starts
  for (let i = 0; i < M; i++) {
    const t = T0 + 60 * i;
    // learn from jobs that ended by t
    for (let e = endB.off[i]; e < endB.off[i + 1]; e++) {
      const j = endB.idx[e];
      surv.addRun((J.end[j] - J.start[j]) / 60, J.limit[j] / 60, J.nodes[j]);
      const u = J.user[j];
      if (u >= 0) {
        last2[u] = last1[u];
        last1[u] = J.end[j] - J.start[j];
        lastEnd[u] = J.end[j];
        lastNodes[u] = J.nodes[j];
      }
    }
    // queue waits of jobs that started by t
    for (let e = startB.off[i]; e < startB.off[i + 1]; e++) {
      const j = startB.idx[e];
      if (qa[j] >= 0) qsurv.addRun((J.start[j] - J.q0[j]) / 60, Number.NaN, J.nodes[j]);
    }
    if (i % DAY_ROWS === 0) {
      P = surv.probabilities();
      PQ = qsurv.probabilities();
    }
    // update the sets
    for (let e = startB.off[i]; e < startB.off[i + 1]; e++) {
      const j = startB.idx[e];
      running.push(j);
      const u = J.user[j];
      if (u >= 0 && !Number.isNaN(last1[u])) {
        const m = Number.isNaN(last2[u]) ? last1[u] : (last1[u] + last2[u]) / 2;
        predRun[j] = Number.isNaN(J.limit[j]) ? m : Math.min(m, J.limit[j]);
      }
    }
    for (let e = qB.off[i]; e < qB.off[i + 1]; e++) queue.push(qB.idx[e]);
    if (running.some((j) => b[j] <= i)) running = running.filter((j) => b[j] > i);
    if (queue.some((j) => qb[j] <= i)) queue = queue.filter((j) => qb[j] > i);
    // running composition and expected frees
    let el5 = 0;
    let el30 = 0;
    let el2h = 0;
    let elMore = 0;
    let r30 = 0;
    let r1h = 0;
    let r4h = 0;
    let rMore = 0;
    let freed = 0;
    let raw = 0;
    let uf = 0;
    let ufp = 0;
    // Poisson-binomial median of the nodes freed within h: mean/var -> normal approx for small jobs,
    // big jobs (>= 5 % of capacity) count when p > 0.5
    let pm = 0;
    active.fill(0);
    for (const j of queue) if (J.user[j] >= 0) active[J.user[j]]++;
    for (const j of running) {
      const u = J.user[j];
      if (u >= 0) active[u]++;
    }
    for (const j of running) {
      const nd = J.nodes[j];
      raw += nd;
      const el = (t - J.start[j]) / 60;
      if (el < 5) el5 += nd;
      else if (el < 30) el30 += nd;
      else if (el < 120) el2h += nd;
      else elMore += nd;
      const lim = J.limit[j] / 60;
      const rem = lim - el;
      if (rem <= 30) r30 += nd;
      else if (rem <= 60) r1h += nd;
      else if (rem <= 240) r4h += nd;
      else rMore += nd; // includes no limit (NaN)
      const p = P[cellIndex(ageBin(el), remBin(lim - el), sizeBin(nd))];
      freed += nd * p;
      pm += nd >= 0.05 * cap ? (p > 0.5 ? nd : 0) : nd * p;
      const pr = predRun[j];
      if (!Number.isNaN(pr) && t - J.start[j] < pr) {
        const endsIn = J.start[j] + pr - t;
        if (endsIn <= h * 60) {
          uf += nd;
          ufp += nd;
        }
      } else ufp += nd * p;
    }
    out.ufreed[i] = uf;
    out.ufreed_p[i] = ufp;
    out.pfreed_med[i] = pm;
    // users whose job ended within the last hour and who have nothing queued or running now: their last
    // job's nodes (a chain that may come back)
    let chain = 0;
    for (let u = 0; u < nUsers; u++) if (active[u] === 0 && t - lastEnd[u] <= 3600) chain += lastNodes[u];
    out.chain_nodes[i] = chain;
    out.el_lt5[i] = el5;
    out.el_lt30[i] = el30;
    out.el_lt2h[i] = el2h;
    out.el_ge2h[i] = elMore;
    out.rem_le30[i] = r30;
    out.rem_le1h[i] = r1h;
    out.rem_le4h[i] = r4h;
    out.rem_gt4h[i] = rMore;
    out.efreed[i] = freed;
    // queue what-if (queue in arrival order)
    const idle = Math.max(0, cap - raw);
    let free = idle;
    let k = 0;
    let fcfs = 0;
    for (; k < queue.length; k++) {
      const nd = J.nodes[queue[k]];
      if (nd > free) break;
      free -= nd;
      fcfs += nd;
    }
    let bf = 0;
    if (k < queue.length) {
      const head = queue[k];
      const need = J.nodes[head];
      out.q_head_nodes[i] = need;
      out.q_head_wait_h[i] = (t - J.q0[head]) / 3600;
      // shadow time: running jobs by expected end (start + limit; no limit = never)
      ends.length = 0;
      for (const j of running) ends.push([J.start[j] + (J.limit[j] || 1e12), J.nodes[j]]);
      ends.sort((x, y) => x[0] - y[0]);
      let avail = free;
      let shadow = Number.POSITIVE_INFINITY;
      for (const [te, nd] of ends) {
        avail += nd;
        if (avail >= need) {
          shadow = te;
          break;
        }
      }
      let extra = Number.isFinite(shadow) ? avail - need : 0;
      for (let q = k + 1; q < queue.length && free > 0 && q < k + 500; q++) {
        const j = queue[q];
        const nd = J.nodes[j];
        if (nd > free) continue;
        const endsBy = t + (J.limit[j] || 1e12);
        if (endsBy <= shadow) {
          free -= nd;
          bf += nd;
        } else if (nd <= extra) {
          free -= nd;
          extra -= nd;
          bf += nd;
        }
      }
    }
    out.q_fit_fcfs[i] = fcfs;
    out.q_fit_bf[i] = bf;
    // expected starts: queue greedily (arrival order, first fit) into idle + expected frees
    let eq = 0;
    for (const j of queue) {
      const nd = J.nodes[j];
      eq += nd * PQ[cellIndex(ageBin((t - J.q0[j]) / 60), REM_NONE, sizeBin(nd))];
    }
    out.estart_q[i] = eq;
    let pool = idle + freed;
    let qd = 0;
    let fits = 0;
    for (let q = 0; q < queue.length && q < 500; q++) {
      const nd = J.nodes[queue[q]];
      qd += nd;
      if (nd <= pool) {
        pool -= nd;
        fits += nd;
      }
    }
    out.q_fits_after_free[i] = fits;
    // oracle (looks ahead, not a feature): the queue fitted in arrival order into idle + the nodes that
    // really are freed by t+h
    let poolO = idle + diag.freed[i];
    let fitsO = 0;
    for (let q = 0; q < queue.length && q < 500; q++) {
      const nd = J.nodes[queue[q]];
      if (nd <= poolO) {
        poolO -= nd;
        fitsO += nd;
      }
    }
    out.oracle_fit_ends[i] = fitsO;
    const est = Math.min(qd, idle + freed);
    out.estarts[i] = est;
    out.proj[i] = Math.min(cap, Math.max(0, busy[i] - freed + fits));
    out.proj2[i] = Math.min(cap, Math.max(0, busy[i] - freed + Math.min(eq, idle + freed)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// quick linear models on [columns] -> y = busy(t+h) - busy(t)

/** Least squares on standardised columns with a small ridge; returns predict(row) weights. */
function fitLinear(X: Float64Array, y: Float64Array, N: number, D: number, l1: boolean): Float64Array {
  // weights per sample (IRLS for L1), solve on [1 | X]
  const w = new Float64Array(N).fill(1);
  const P = D + 1;
  let beta: Float64Array = new Float64Array(P);
  const mu = new Float64Array(D);
  const sd = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let s = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++) {
      const v = X[n * D + d];
      s += v;
      s2 += v * v;
    }
    mu[d] = s / N;
    sd[d] = Math.sqrt(Math.max(s2 / N - mu[d] * mu[d], 0)) || 1;
  }
  const z = new Float64Array(P);
  const iters = l1 ? 25 : 1;
  for (let it = 0; it < iters; it++) {
    const A = new Float64Array(P * P);
    const r = new Float64Array(P);
    let W = 0;
    for (let n = 0; n < N; n++) {
      z[0] = 1;
      for (let d = 0; d < D; d++) z[d + 1] = (X[n * D + d] - mu[d]) / sd[d];
      const wn = w[n];
      W += wn;
      for (let p = 0; p < P; p++) {
        const zp = z[p] * wn;
        r[p] += zp * y[n];
        for (let q = p; q < P; q++) A[p * P + q] += zp * z[q];
      }
    }
    for (let p = 0; p < P; p++) for (let q = 0; q < p; q++) A[p * P + q] = A[q * P + p];
    for (let p = 1; p < P; p++) A[p * P + p] += 1e-3 * W;
    beta = choleskySolve(A, r, P);
    if (l1) {
      for (let n = 0; n < N; n++) {
        let s = beta[0];
        for (let d = 0; d < D; d++) s += beta[d + 1] * ((X[n * D + d] - mu[d]) / sd[d]);
        w[n] = 1 / Math.max(Math.abs(y[n] - s), 0.05);
      }
    }
  }
  // back to raw scale: [b, w...]
  const out = new Float64Array(P);
  out[0] = beta[0];
  for (let d = 0; d < D; d++) {
    out[d + 1] = beta[d + 1] / sd[d];
    out[0] -= out[d + 1] * mu[d];
  }
  return out;
}

function plus(x: Float64Array, y: Float64Array): Float64Array {
  return x.map((v, i) => v + y[i]);
}

interface Scores {
  mae: number;
  rmse: number;
}

function score(pred: (t: number) => number, busy: Float64Array, from: number, to: number, h: number): Scores {
  let ae = 0;
  let se = 0;
  let n = 0;
  for (let t = from; t + h < to; t++) {
    const e = busy[t + h] - pred(t);
    ae += Math.abs(e);
    se += e * e;
    n++;
  }
  return { mae: ae / n, rmse: Math.sqrt(se / n) };
}

async function study(dir: string, tr: ArchiveLog, h: number): Promise<string[][]> {
  const t0 = performance.now();
  const src = await openSwf(join(dir, tr.file), { ppn: tr.ppn });
  const jobs: JobRecord[] = [];
  for await (const j of src.jobs) jobs.push(j);
  const tl = buildTimeline(jobs, { capacity: tr.capacity, cpusPerNode: tr.ppn });
  const cand = sweepCandidates(toArrays(jobs), tl, h);
  const t1 = performance.now();
  const M = tl.minutes;
  const busy = tl.columns.busy_nodes;
  const cap = tl.capacity;
  const trainEnd = M - Math.round(0.3 * M);
  const testStart = M - Math.round(0.2 * M);

  // named column getters at row t
  const lag = (k: number) => (t: number) => busy[Math.max(0, t - k)];
  const col = (c: keyof Timeline['columns']) => (t: number) => tl.columns[c][t];
  const cd = (c: Cand) => (t: number) => cand[c][t];
  const BASE: Record<string, (t: number) => number> = {
    busy: lag(0),
    busy_lag5: lag(5),
    busy_lag15: lag(15),
    busy_lag30: lag(30),
    busy_lag60: lag(60),
    queued_nodes: col('queued_nodes'),
    queued_jobs: col('queued_jobs'),
    running_jobs: col('running_jobs'),
    ending_5m: col('ending_5m_nodes'),
    ending_10m: col('ending_10m_nodes'),
    ending_30m: col('ending_30m_nodes'),
    mean_elapsed: col('mean_elapsed_running_s'),
    mean_limit: col('mean_limit_running_s'),
    started_last_min: col('started_last_min'),
    ended_last_min: col('ended_last_min'),
  };
  const sets: Array<[string, string[]]> = [
    ['base (timeline today)', Object.keys(BASE)],
    ['base + composition', [...Object.keys(BASE), ...COMP]],
    ['base + efreed', [...Object.keys(BASE), 'efreed']],
    ['base + composition + efreed (built)', [...Object.keys(BASE), ...COMP, 'efreed']],
    ['base + estart_q', [...Object.keys(BASE), 'estart_q']],
    ['base + efreed + estart_q', [...Object.keys(BASE), 'efreed', 'estart_q']],
    ['base + queue what-if', [...Object.keys(BASE), ...QUEUE]],
    ['base + proj', [...Object.keys(BASE), 'proj']],
    ['base + proj2', [...Object.keys(BASE), 'proj2']],
    ['base + efreed + ufreed', [...Object.keys(BASE), 'efreed', 'ufreed', 'ufreed_p']],
    ['base + efreed + pfreed_med', [...Object.keys(BASE), 'efreed', 'pfreed_med']],
    ['base + efreed + chain', [...Object.keys(BASE), 'efreed', 'chain_nodes']],
    [
      'base + efreed + user (ufreed, chain)',
      [...Object.keys(BASE), 'efreed', 'ufreed', 'ufreed_p', 'chain_nodes'],
    ],
    ['base + all', [...Object.keys(BASE), ...COMP, 'efreed', 'estart_q', ...QUEUE, 'proj', 'proj2']],
  ];
  const getter = (name: string) => BASE[name] ?? cd(name as Cand);

  const rows: string[][] = [];
  const pers = score((t) => busy[t], busy, testStart, M, h);
  const push = (model: string, s: Scores) =>
    rows.push([
      tr.name,
      model,
      s.mae.toFixed(2),
      s.rmse.toFixed(2),
      (s.mae / pers.mae).toFixed(3),
      (s.rmse / pers.rmse).toFixed(3),
    ]);
  push('persistence', pers);
  push(
    'proj alone',
    score((t) => cand.proj[t], busy, testStart, M, h),
  );
  push(
    'proj2 alone',
    score((t) => cand.proj2[t], busy, testStart, M, h),
  );
  // estimates vs what happened (test rows): frees and starts within h
  const diagRow = (label: string, est: Float64Array, act: Float64Array) => {
    let ae = 0;
    let se = 0;
    let me = 0;
    let ma = 0;
    let n = 0;
    for (let t = testStart; t + h < M; t++) {
      const e = act[t] - est[t];
      ae += Math.abs(e);
      se += e * e;
      me += est[t];
      ma += act[t];
      n++;
    }
    rows.push([
      tr.name,
      `${label} (mean est ${(me / n).toFixed(1)} / actual ${(ma / n).toFixed(1)})`,
      (ae / n).toFixed(2),
      Math.sqrt(se / n).toFixed(2),
      '',
      '',
    ]);
  };
  diagRow('diag efreed vs freed', cand.efreed, diag.freed);
  diagRow('diag ufreed vs freed', cand.ufreed, diag.freed);
  diagRow('diag ufreed_p vs freed', cand.ufreed_p, diag.freed);
  diagRow('diag pfreed_med vs freed', cand.pfreed_med, diag.freed);
  diagRow('diag chain_nodes vs arrived', cand.chain_nodes, diag.arrived);
  // oracles (look ahead; bounds on what each part of the future is worth)
  const clampCap = (v: number) => Math.min(cap, Math.max(0, v));
  push(
    'oracle: ends known',
    score((t) => clampCap(busy[t] - diag.freed[t]), busy, testStart, M, h),
  );
  push(
    'oracle: ends + queued starts known',
    score((t) => clampCap(busy[t] - diag.freed[t] + diag.started[t]), busy, testStart, M, h),
  );
  push(
    'oracle: ends known, queue fitted into idle + freed',
    score((t) => clampCap(busy[t] - diag.freed[t] + cand.oracle_fit_ends[t]), busy, testStart, M, h),
  );
  push(
    'oracle: queued starts + arrivals known',
    score((t) => clampCap(busy[t] + diag.started[t] + diag.arrived[t]), busy, testStart, M, h),
  );
  diagRow('diag ending_30m vs freed', tl.columns.ending_30m_nodes, diag.freed);
  diagRow('diag estart_q vs started', cand.estart_q, diag.started);
  diagRow('diag fits_after_free vs started', cand.q_fits_after_free, diag.started);
  diagRow('diag q_fit_fcfs+bf vs started', plus(cand.q_fit_fcfs, cand.q_fit_bf), diag.started);
  const maxRows = 40_000;
  const step = Math.max(1, Math.floor((trainEnd - h) / maxRows));
  for (const [label, names] of sets) {
    const D = names.length;
    const g = names.map(getter);
    const N = Math.floor((trainEnd - h - 60) / step);
    const X = new Float64Array(N * D);
    const y = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      const t = 60 + n * step;
      for (let d = 0; d < D; d++) X[n * D + d] = g[d](t) / (d === names.indexOf('q_head_wait_h') ? 1 : cap);
      y[n] = (busy[t + h] - busy[t]) / cap;
    }
    for (const l1 of [false, true]) {
      const beta = fitLinear(X, y, N, D, l1);
      const pred = (t: number) => {
        let s = beta[0];
        for (let d = 0; d < D; d++)
          s += beta[d + 1] * (g[d](t) / (d === names.indexOf('q_head_wait_h') ? 1 : cap));
        return Math.min(cap, Math.max(0, busy[t] + s * cap));
      };
      push(`${l1 ? 'L1' : 'LS'} ${label}`, score(pred, busy, testStart, M, h));
    }
  }
  process.stderr.write(
    `${tr.name}: ${jobs.length} jobs, ${M} minutes; sweep ${((t1 - t0) / 1000).toFixed(1)} s, models ${((performance.now() - t1) / 1000).toFixed(1)} s\n`,
  );
  return rows;
}

async function main(): Promise<void> {
  const only = strArg('only');
  const h = numArg('h', 30);
  const logs = ACCURACY_LOGS.filter((l) => !only || l.name.toLowerCase().includes(only.toLowerCase()));
  const synopsis = 'TRACE_DIR [--only NAME] [--h 30]';
  const dir = checkTraceDir(positionals(['only', 'h'])[0], logs, import.meta.url, synopsis);
  const rows: string[][] = [['trace', 'model', `MAE@${h}`, `RMSE@${h}`, 'MAE/pers', 'RMSE/pers']];
  for (const tr of logs) {
    rows.push(...(await study(dir, tr, h)));
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((v, c) => (c < 2 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ')}\n`);
}

await main();
