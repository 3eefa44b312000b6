import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JobRecord, JobState } from '../../src/jobs/record.js';
import { type SlurmSnapshot, snapshotRow } from '../../src/telemetry/collector.js';
import { parseDuration, parseSinfo, parseSqueue, squeueArgs } from '../../src/telemetry/slurm.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { TIMELINE_COLUMNS } from '../../src/timeline/columns.js';
import { EndingTable } from '../../src/timeline/survival.js';
import { snapshotOf } from '../helpers/slurm-snapshot.js';

const FIX = new URL('../fixtures/telemetry/', import.meta.url);
const squeueText = readFileSync(new URL('squeue-slurm22.05.txt', FIX), 'utf8');
const sinfoText = readFileSync(new URL('sinfo-slurm22.05.txt', FIX), 'utf8');

describe('slurm: parsing squeue/sinfo', () => {
  it('parses Slurm durations', () => {
    assert.equal(parseDuration('2:00'), 120);
    assert.equal(parseDuration('30:00'), 1800);
    assert.equal(parseDuration('1:30:00'), 5400);
    assert.equal(parseDuration('2-00:00:00'), 172800);
    assert.equal(parseDuration('1-12'), 86400 + 12 * 3600);
    assert.equal(parseDuration('5'), 300);
    assert.equal(parseDuration('UNLIMITED'), null);
    assert.equal(parseDuration('NOT_SET'), null);
  });

  it('asks squeue for every state, array tasks one per line, epoch times', () => {
    const a = squeueArgs('debug');
    assert.ok(a.includes('--states=all') && a.includes('--array') && a.includes('--partition=debug'));
  });

  it('reads the real squeue output: pending jobs have no start, running ones no end', () => {
    const now = 1795884246;
    const { jobs, report } = parseSqueue(squeueText, now);
    assert.equal(report.skipped, 0);
    assert.equal(jobs.length, 25);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const held = byId.get('22')!;
    assert.equal(held.state, 'PENDING');
    assert.equal(held.start, null);
    assert.ok(held.eligible! > now, 'a held job is not eligible at the snapshot');
    const run = byId.get('21')!;
    assert.deepEqual(
      [run.state, run.start, run.end, run.nodes, run.cpus, run.timeLimit],
      ['RUNNING', 1795884243, null, 16, 16, 5400],
    );
    const done = byId.get('12')!;
    assert.deepEqual(
      [done.state, done.start, done.end, done.nodeList],
      ['COMPLETED', 1795884127, 1795884132, 'node[03-10]'],
    );
    assert.equal(report.notes.pending_not_eligible, 2);
  });

  it('skips malformed lines with a reason instead of failing', () => {
    const { jobs, report } = parseSqueue('1|RUNNING|x\n2|WEIRD|1|1|1|1|1:00|1|1|p|u|n|\n', 100);
    assert.equal(jobs.length, 0);
    assert.equal(report.skipped, 2);
    assert.match(report.firstSkipped[0].reason, /expected 12 '\|'-separated fields, found 3/);
    assert.match(report.firstSkipped[1].reason, /unknown job state "WEIRD"/);
  });

  it('counts nodes once with exporter-style node states', () => {
    const s = parseSinfo(sinfoText);
    assert.equal(s.nodes, 16);
    assert.equal(s.cpus, 64);
    assert.equal(s.nodeStates.slurm_nodes_mix, 13);
    assert.equal(s.nodeStates.slurm_nodes_alloc, 3);
    const p = parseSinfo(
      'n1|a|4|idle~\nn1|b|4|idle~\nn2|a|4|idle#\nn3|a|4|down*\nn4|a|4|drained\nn5|a|8|mixed%\n',
    );
    assert.equal(p.nodes, 5);
    assert.equal(p.cpus, 24);
    assert.equal(p.nodeStates.slurm_nodes_idle_power_save, 1);
    assert.equal(p.nodeStates.nodes_powered_down, 1);
    assert.equal(p.nodeStates.nodes_powering_up, 1);
    assert.equal(p.nodeStates.nodes_powering_down, 1);
    assert.equal(p.nodeStates.slurm_nodes_idle, 1);
    assert.equal(p.nodeStates.slurm_nodes_down, 1);
    assert.equal(p.nodeStates.slurm_nodes_drain, 1);
  });
});

describe('slurm: the live row is the timeline builder row', () => {
  it('hand-computed row from the real squeue output', () => {
    // as if this squeue output had been read at the start of the next minute
    const t = 1795884300;
    const { jobs, report } = parseSqueue(squeueText, t);
    const s = parseSinfo(sinfoText);
    const snap: SlurmSnapshot = {
      now: t,
      jobs,
      report,
      nodes: s.nodes,
      cpus: s.cpus,
      nodeStates: s.nodeStates,
    };
    const row = snapshotRow(snap, 'pcmtest', '_all');
    assert.equal(row.time, t);
    const v = row.values;
    assert.equal(v.running_jobs, 5);
    assert.equal(v.busy_nodes, 16); // 2 + 16 + 3 x 1 = 21 nodes held on 16 (jobs share nodes)
    assert.equal(v.overshoot_nodes, 5);
    assert.equal(v.cpu_util, 27 / 64);
    assert.equal(v.queued_jobs, 0); // 2 and 22 are held: not eligible
    assert.equal(v.submitted_last_min, 6);
    assert.equal(v.started_last_min, 5);
    assert.equal(v.ended_last_min, 0);
    assert.equal(v.ending_5m_nodes, 0);
    assert.equal(v.ending_10m_nodes, 2);
    assert.equal(v.mean_elapsed_running_s, 57);
    assert.equal(v.mean_limit_running_s, (600 + 5400 + 3 * 172800) / 5);
    assert.equal(v.p90_limit_running_s, 172800);
    assert.equal(row.nodeStates?.slurm_nodes_mix, 13);
  });

  const STATES: JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'];
  const T0 = 1_700_000_000 - (1_700_000_000 % 60);
  const arbJob = fc.record({
    submit: fc.integer({ min: 0, max: 7200 }),
    wait: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
    run: fc.integer({ min: 1, max: 3600 }),
    nodes: fc.integer({ min: 1, max: 8 }),
    cpus: fc.integer({ min: 1, max: 32 }),
    limit: fc.option(fc.integer({ min: 60, max: 7200 }), { nil: null }),
    state: fc.constantFrom(...STATES),
  });

  it('property: a squeue view at `now` gives the same row as the full history (MinJobAge 300 s, plus the ended jobs the loop remembers for the hour)', () => {
    const table = new EndingTable();
    for (const [run, limit, nodes] of [
      [3, 60, 1],
      [40, 60, 2],
      [200, 120, 8],
      [7, Number.NaN, 4],
      [90, Number.NaN, 1],
    ])
      table.addRun(run, limit, nodes);
    fc.assert(
      fc.property(
        fc.array(arbJob, { maxLength: 40 }),
        fc.integer({ min: 0, max: 10_000 }),
        (specs, nowOff) => {
          const now = T0 + nowOff;
          const t = Math.floor(now / 60) * 60;
          // the truth: every job with its real times
          const truth: JobRecord[] = specs.map((s, i) => {
            const submit = T0 + s.submit;
            const start = s.wait === null ? null : submit + s.wait;
            return {
              id: String(i),
              submit,
              eligible: null,
              start,
              end: start === null ? null : start + s.run,
              nodes: s.nodes,
              cpus: s.cpus,
              timeLimit: s.limit,
              partition: 'p',
              state: start === null ? 'PENDING' : s.state,
              user: null,
              nodeList: null,
            };
          });
          // what squeue shows at `now`: submitted jobs, finished ones for MinJobAge more; no future knowledge
          const view: JobRecord[] = [];
          // and the finished ones that squeue no longer shows but the collect loop saw end within the hour
          const remembered: JobRecord[] = [];
          for (const j of truth) {
            if (j.submit! > now) continue;
            if (j.start === null || j.start > now)
              view.push({ ...j, start: null, end: null, state: 'PENDING' });
            else if (j.end! > now) view.push({ ...j, end: null, state: 'RUNNING' });
            else if (j.end! > now - 300) view.push(j);
            else if (j.end! > t - 3600) remembered.push(j);
          }
          // the same ending table on both sides (a snapshot has no finished jobs to fit one from)
          const live = snapshotRow(snapshotOf(now, [...view, ...remembered]), 'c', 'p', undefined, table);
          const once = snapshotRow(snapshotOf(now, view), 'c', 'p', undefined, table);
          const hist = buildTimeline(truth, {
            capacity: 16,
            totalCpus: 64,
            start: t,
            end: t + 60,
            endingTable: table,
          });
          for (const c of TIMELINE_COLUMNS) {
            assert.equal(live.values[c], hist.columns[c][0], `${c} at t=${t}`);
            // a single squeue view (collect --once) misses only the run times of jobs ended > MinJobAge ago
            if (!c.endsWith('_runtime_ended_1h_s'))
              assert.equal(once.values[c], hist.columns[c][0], `${c} at t=${t} (--once)`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
