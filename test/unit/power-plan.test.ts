import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openJobSource } from '../../src/jobs/open.js';
import { bootWaitAtSaving, paretoFrontier, recommend, savingAtBootWait } from '../../src/power/frontier.js';
import { type PlanSpec, powerPlan } from '../../src/power/plan.js';
import { powerReplay } from '../../src/power/replay.js';
import { slurmConfSnippet } from '../../src/power/slurm-conf.js';
import { DEFAULT_POWER_MODEL } from '../../src/power/watts.js';
import { replayJobs } from '../../src/sim/replay.js';
import { Rng } from '../../src/util/rng.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pcm-power-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// a slice of KTH-SP2 (Parallel Workloads Archive; log provided by Lars Malinowsky, KTH)
const TRACE = 'test/fixtures/traces/KTH-SP2-1996-2.1-cln.head2000.swf.gz';

const pt = (saved_pct: number, mean_boot_wait_s: number, id = '') => ({ saved_pct, mean_boot_wait_s, id });

describe('static frontier (src/power/frontier.ts)', () => {
  it('keeps exactly the points no other point beats on both saving and wait', () => {
    const pts = [
      pt(10, 50, 'a'),
      pt(12, 80, 'b'),
      pt(11, 90, 'c'),
      pt(12, 70, 'd'),
      pt(9, 50, 'e'),
      pt(14, 160, 'f'),
    ];
    assert.deepEqual(
      paretoFrontier(pts).map((p) => p.id),
      ['a', 'd', 'f'],
    );
    // brute force: a point is on the frontier iff no other is at least as good on both and better on one
    const rng = new Rng(7);
    const many = Array.from({ length: 200 }, (_, i) => pt(rng.int(30), rng.int(40), String(i)));
    const front = new Set(paretoFrontier(many).map((p) => p.id));
    for (const p of many) {
      const beaten = many.some(
        (q) =>
          q !== p &&
          q.saved_pct >= p.saved_pct &&
          q.mean_boot_wait_s <= p.mean_boot_wait_s &&
          (q.saved_pct > p.saved_pct || q.mean_boot_wait_s < p.mean_boot_wait_s),
      );
      const tie = many.some(
        (q) =>
          q !== p &&
          q.saved_pct === p.saved_pct &&
          q.mean_boot_wait_s === p.mean_boot_wait_s &&
          front.has(q.id),
      );
      if (beaten) assert.ok(!front.has(p.id), `point ${p.id} is beaten but on the frontier`);
      else assert.ok(front.has(p.id) || tie, `point ${p.id} is beaten by none but left out`);
    }
  });

  it('reads a curve at a saving or a wait by linear interpolation, NaN outside it', () => {
    const curve = [pt(10, 40), pt(12, 60), pt(14, 100)];
    assert.equal(bootWaitAtSaving(curve, 11), 50);
    assert.equal(bootWaitAtSaving(curve, 13), 80);
    assert.ok(Number.isNaN(bootWaitAtSaving(curve, 15)));
    assert.ok(Number.isNaN(bootWaitAtSaving(curve, 9.99)));
    assert.equal(savingAtBootWait(curve, 80), 13);
    assert.ok(Number.isNaN(savingAtBootWait(curve, 30)));
  });

  it('recommends the most saving within a wait, or the least wait for a saving; says when none meets it', () => {
    const front = [pt(10, 40, 'a'), pt(12, 60, 'b'), pt(14, 100, 'c')];
    assert.deepEqual(recommend(front, { maxBootWaitS: 60 }), { point: front[1], met: true });
    assert.deepEqual(recommend(front, { maxBootWaitS: 30 }), { point: front[0], met: false });
    assert.deepEqual(recommend(front, { minSavingPct: 11 }), { point: front[1], met: true });
    assert.deepEqual(recommend(front, { minSavingPct: 20 }), { point: front[2], met: false });
    assert.equal(recommend([], { maxBootWaitS: 60 }), null);
  });
});

describe('slurm.conf lines (src/power/slurm-conf.ts)', () => {
  const rates = { suspendRate: 60, resumeRate: 300 };
  it('one cluster: SuspendTime, the warm pool as <hostlist>:N, the rates', () => {
    const s = slurmConfSnippet(
      [{ partition: null, nodeNames: 'node[01-16]', suspendTime: 600, excNodes: 4 }],
      rates,
      ['why'],
    );
    assert.equal(
      s,
      '# why\nSuspendTime=600\nSuspendExcNodes=node[01-16]:4\nSuspendRate=60\nResumeRate=300\n',
    );
  });
  it('a count of 0 writes no set (Slurm ignores every exclusion on :0); unknown nodes are a commented line', () => {
    const none = slurmConfSnippet(
      [{ partition: null, nodeNames: 'n[1-4]', suspendTime: 60, excNodes: 0 }],
      rates,
      [],
    );
    assert.doesNotMatch(none, /^SuspendExcNodes=/m);
    assert.match(none, /^# no SuspendExcNodes warm pool/m);
    const unnamed = slurmConfSnippet(
      [{ partition: null, nodeNames: null, suspendTime: 60, excNodes: 3 }],
      rates,
      [],
    );
    assert.doesNotMatch(unnamed, /^SuspendExcNodes=/m);
    assert.match(unnamed, /^# SuspendExcNodes=<hostlist of the cluster's nodes>:3 .*--node-names/m);
  });
  it('partitions: one SuspendExcNodes list of counted sets, each partition its own SuspendTime', () => {
    const s = slurmConfSnippet(
      [
        { partition: 'batch', nodeNames: 'cn[001-008]', suspendTime: 300, excNodes: 2 },
        { partition: 'gpu', nodeNames: 'gn[01-04]', suspendTime: 1200, excNodes: 1 },
      ],
      rates,
      [],
    );
    assert.match(s, /^SuspendTime=1200$/m);
    assert.match(s, /^SuspendExcNodes=cn\[001-008\]:2,gn\[01-04\]:1$/m);
    assert.match(s, /^# {3}PartitionName=batch \.\.\. SuspendTime=300$/m);
    assert.match(s, /^# {3}PartitionName=gpu \.\.\. SuspendTime=1200$/m);
  });
});

async function fixtureJobs() {
  const src = await openJobSource(join(root, TRACE), { ppn: 1 });
  return (await replayJobs(src.jobs, 100)).jobs;
}

const chains = { windowS: 600, maxNodes: 4, onEnd: true };

describe('powerPlan (src/power/plan.ts)', () => {
  it('is the replay: its grid points and margins equal `pcm power replay` curves; same figures on 1 or 2 workers', async () => {
    const jobs = await fixtureJobs();
    const reactive = {
      SuspendTime: 600,
      SuspendRate: 60,
      ResumeRate: 300,
      SuspendExcNodes: 0,
      IntervalSeconds: 10,
    };
    const predictive = { margin: 2, peakQuantile: 0.9, intervalS: 60, minIdleS: 0, chains };
    const spec: PlanSpec = {
      jobs,
      nodes: 100,
      totalCpus: 100,
      model: DEFAULT_POWER_MODEL,
      reactive,
      predictive,
      forecaster: { baseline: 'ridge' },
    };
    const grid = { suspendTimes: [60, 600], excNodes: [0, 4], margins: [0, 2] };
    const one = await powerPlan(spec, grid, { maxBootWaitS: 60 }, { workers: 1 });
    const two = await powerPlan(spec, grid, { maxBootWaitS: 60 }, { workers: 2 });
    assert.equal(two.workers, 2);
    assert.deepEqual({ ...one, workers: 0 }, { ...two, workers: 0 });
    assert.equal(one.grid.length, 4);
    assert.equal(one.predictive.length, 2);

    const ref = await powerReplay({
      jobs,
      nodes: 100,
      totalCpus: 100,
      model: DEFAULT_POWER_MODEL,
      reactive,
      predictive,
      policies: ['always_on', 'oracle'],
      forecaster: {
        make: async () => new (await import('../../src/model/baselines/ridge.js')).Ridge(),
        fit: true,
      },
      jitterSeeds: 0,
      sweep: { reactive: [60, 600], predictive: [0, 2] },
    });
    for (const c of ref.curves.reactive) {
      const p = one.grid.find((g) => g.suspend_time_s === c.knob && g.exc_nodes === 0)!;
      assert.deepEqual([p.saved_pct, p.mean_boot_wait_s], [c.saved_pct, c.mean_boot_wait_s]);
    }
    for (const c of ref.curves.predictive) {
      const p = one.predictive.find((g) => g.margin === c.knob)!;
      assert.deepEqual([p.saved_pct, p.mean_boot_wait_s], [c.saved_pct, c.mean_boot_wait_s]);
    }
    assert.equal(one.oracle.saved_pct, ref.policies.oracle!.saved_pct);
    // a warm pool of 4 waits less than none at the same timeout, and saves less
    const at = (st: number, n: number) => one.grid.find((g) => g.suspend_time_s === st && g.exc_nodes === n)!;
    assert.ok(at(600, 4).mean_boot_wait_s < at(600, 0).mean_boot_wait_s);
    assert.ok(at(600, 4).saved_pct < at(600, 0).saved_pct);
    // every frontier point is a grid point; the recommendation is on the frontier and meets the constraint
    for (const f of one.frontier) assert.ok(one.grid.includes(f));
    const rec = one.recommendation!;
    assert.ok(one.frontier.includes(rec.point));
    if (rec.met) assert.ok(rec.point.mean_boot_wait_s <= 60);
    for (const p of one.predictive)
      if (Number.isFinite(p.boot_wait_ratio))
        assert.equal(
          p.boot_wait_ratio,
          Math.round((p.mean_boot_wait_s / p.frontier_boot_wait_s) * 1e4) / 1e4,
        );
  });

  it('refuses a SuspendExcNodes count the cluster cannot hold, naming the option', async () => {
    const jobs = (await fixtureJobs()).slice(0, 200);
    await assert.rejects(
      powerPlan(
        {
          jobs,
          nodes: 100,
          totalCpus: 100,
          model: DEFAULT_POWER_MODEL,
          reactive: {
            SuspendTime: 600,
            SuspendRate: 60,
            ResumeRate: 300,
            SuspendExcNodes: 0,
            IntervalSeconds: 10,
          },
          predictive: { margin: 2, peakQuantile: 0.9, intervalS: 60 },
          forecaster: null,
        },
        { suspendTimes: [600], excNodes: [100], margins: [] },
        { maxBootWaitS: 60 },
      ),
      /--exc-nodes: 100 is not below the cluster's 100 nodes/,
    );
  });
});

/** A sacct export of two partitions on disjoint nodes: `batch` on cn[001-008], `gpu` on gn[01-04]. */
function sacctTwoPartitions(): string {
  const rng = new Rng(3);
  const head =
    'JobID|JobIDRaw|JobName|Partition|User|Submit|Eligible|Start|End|Elapsed|Timelimit|NNodes|AllocCPUS|ReqCPUS|State|NodeList';
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 19);
  const hms = (s: number) =>
    `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  const lines = [head];
  const t0 = Date.UTC(2024, 2, 4) / 1000;
  let id = 1000;
  for (const [part, prefix, width, count] of [
    ['batch', 'cn', 3, 8],
    ['gpu', 'gn', 2, 4],
  ] as const) {
    // one job at a time per partition, with idle gaps: runs of 10-90 min, gaps of 5-120 min, over 5 days
    let t = t0;
    while (t < t0 + 5 * 86400) {
      const nodes = 1 + rng.int(count);
      const first = 1 + rng.int(count - nodes + 1);
      const run = 600 + rng.int(4800);
      const name = (i: number) => `${prefix}${String(i).padStart(width, '0')}`;
      const list =
        nodes === 1
          ? name(first)
          : `${prefix}[${name(first).slice(prefix.length)}-${name(first + nodes - 1).slice(prefix.length)}]`;
      lines.push(
        `${id}|${id}|job|${part}|u${rng.int(5)}|${iso(t)}|${iso(t)}|${iso(t)}|${iso(t + run)}|${hms(run)}|04:00:00|${nodes}|${nodes}|${nodes}|COMPLETED|${list}`,
      );
      id++;
      t += run + 300 + rng.int(6900);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('pcm power plan (CLI)', () => {
  const pcm = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'power', 'plan', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PCM_NO_PROGRESS: '1' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('SWF: prints the grid, the frontier, the recommendation and slurm.conf lines; writes plan.json, the snippet and the SVG', () => {
    const out = join(dir, 'swf');
    const r = pcm(
      '--jobs',
      TRACE,
      '--nodes',
      '100',
      '--ppn',
      '1',
      '--suspend-times',
      '60,600',
      '--exc-nodes',
      '0,4',
      '--margins',
      '2',
      '--min-idle',
      '0,600',
      '--node-names',
      'n[001-100]',
      '--workers',
      '2',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /static settings: saved % \/ mean boot wait s/);
    assert.match(r.out, /^frontier: /m);
    assert.match(r.out, /^recommended for mean boot wait <= 60 s/m);
    assert.match(
      r.out,
      /^the predictive policy's own best setting for mean boot wait <= 60 s.*Power\.WarmPoolMargin 2, Power\.Predictive\.MinIdleSeconds (0|600)/m,
    );
    assert.match(r.out, /^ {2}margin 2, MinIdleSeconds 0: /m);
    assert.match(r.out, /^ {2}margin 2, MinIdleSeconds 600: /m);
    assert.match(r.out, /^SuspendTime=(60|600)$/m);
    const doc = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8'));
    assert.equal(doc.plans.length, 1);
    const res = doc.plans[0].result;
    assert.deepEqual(
      res.predictive.map((p: { margin: number; min_idle_s: number }) => [p.margin, p.min_idle_s]),
      [
        [2, 0],
        [2, 600],
      ],
    );
    for (const f of res.predictive_frontier)
      assert.ok(res.predictive.some((p: unknown) => JSON.stringify(p) === JSON.stringify(f)));
    assert.ok(
      res.predictive_frontier.some(
        (p: unknown) => JSON.stringify(p) === JSON.stringify(res.recommendation.predictive.point),
      ),
    );
    const rec = res.recommendation.point;
    const snippet = readFileSync(join(out, 'slurm.conf.snippet'), 'utf8');
    assert.equal(snippet, doc.slurm_conf);
    assert.match(snippet, new RegExp(`^SuspendTime=${rec.suspend_time_s}$`, 'm'));
    if (rec.exc_nodes > 0)
      assert.match(snippet, new RegExp(`^SuspendExcNodes=n\\[001-100\\]:${rec.exc_nodes}$`, 'm'));
    assert.match(
      readFileSync(join(out, 'frontier.svg'), 'utf8'),
      /^<svg[^>]*>[\s\S]*static frontier[\s\S]*<\/svg>\s*$/,
    );
  });

  it('sacct with two partitions on disjoint named nodes: a plan per partition, one SuspendExcNodes list', () => {
    const file = join(dir, 'two.sacct');
    writeFileSync(file, sacctTwoPartitions());
    const r = pcm(
      '--jobs',
      file,
      '--no-predictive',
      '--suspend-times',
      '60,600',
      '--exc-nodes',
      '0,1,2',
      '--json',
    );
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.deepEqual(
      doc.plans.map((p: { partition: string; node_names: string; result: { nodes: number } }) => [
        p.partition,
        p.node_names,
        p.result.nodes,
      ]),
      [
        ['batch', 'cn[001-008]', 8],
        ['gpu', 'gn[01-04]', 4],
      ],
    );
    assert.match(doc.slurm_conf, /PartitionName=batch \.\.\. SuspendTime=(60|600)/);
    assert.match(doc.slurm_conf, /PartitionName=gpu \.\.\. SuspendTime=(60|600)/);
  });

  it('bad input: both constraints, an unknown partition, each named', () => {
    const both = pcm('--jobs', TRACE, '--max-boot-wait', '60', '--min-saving', '5');
    assert.equal(both.code, 1);
    assert.match(both.err, /--max-boot-wait and --min-saving: give one of them/);
    const part = pcm('--jobs', TRACE, '--nodes', '100', '--partition', 'nope');
    assert.equal(part.code, 1);
    assert.match(part.err, /--partition nope: no job of the history ran in it/);
  });
});
