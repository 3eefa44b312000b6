import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobRecord } from '../../src/jobs/record.js';
import { newReport } from '../../src/jobs/record.js';
import { JOB_COLUMNS, type JobRow, rowToRecord } from '../../src/jobs/slurmdb-map.js';
import {
  defaultNodeNames,
  jobIdNumber,
  jobRow,
  nodeIndexRanges,
  nodeNamesFrom,
  type RowContext,
  SIM_MARK,
  UidMap,
  WRITE_COLUMNS,
} from '../../src/sim/slurmdb-out.js';
import { InputError } from '../../src/util/errors.js';

const ctx = (): RowContext => ({
  idAssoc: 2,
  account: 'root',
  idQos: 1,
  modTime: 1_800_000_000,
  partition: 'batch',
  cpusPerNode: 4,
  memPerNodeMb: 1000,
  jobName: 'pcm-sim',
  uids: new UidMap(),
  nodeNames: defaultNodeNames(16),
});

const job = (p: Partial<JobRecord> = {}): JobRecord => ({
  id: '42',
  submit: 1_600_000_000,
  eligible: null,
  start: 1_600_000_100,
  end: 1_600_003_700,
  nodes: 3,
  cpus: 12,
  timeLimit: 7200,
  partition: null,
  state: 'COMPLETED',
  user: 'u7',
  nodeList: null,
  ...p,
});

describe('sim Slurm DB rows', () => {
  it('names nodes and their index ranges as Slurm does', () => {
    assert.deepEqual(defaultNodeNames(3), ['node01', 'node02', 'node03']);
    assert.equal(defaultNodeNames(128)[127], 'node128');
    assert.equal(defaultNodeNames(128)[0], 'node001');
    assert.equal(nodeIndexRanges([5, 0, 1, 2, 3, 9, 10]), '0-3,5,9-10');
    assert.equal(nodeIndexRanges([7]), '7');
    assert.deepEqual(nodeNamesFrom('cn[1-3]', 3), ['cn1', 'cn2', 'cn3']);
    assert.throws(() => nodeNamesFrom('cn[1-3]', 4), InputError);
    assert.throws(() => nodeNamesFrom('cn1,cn1', 2), /repeats a node name/);
  });

  it('maps users to uids and ids to id_job', () => {
    const u = new UidMap();
    assert.equal(u.uid('u7'), 10_007);
    assert.equal(u.uid('1234'), 1234);
    assert.equal(u.uid(null), 0);
    assert.equal(u.uid('alice'), 110_000);
    assert.equal(u.uid('bob'), 110_001);
    assert.equal(u.uid('alice'), 110_000);
    assert.equal(jobIdNumber('17'), 17);
    assert.equal(jobIdNumber('12_3'), null);
    assert.equal(jobIdNumber('0'), null);
    assert.equal(jobIdNumber('4294967294'), null); // NO_VAL
  });

  it('a row reads back through the Slurm DB source as the same job', () => {
    const c = ctx();
    const j = job({ nodeList: null });
    const values = jobRow(j, 42, [4, 5, 6], c);
    assert.equal(values.length, WRITE_COLUMNS.length);
    const row = Object.fromEntries(WRITE_COLUMNS.map((k, i) => [k, values[i]]));
    assert.equal(row.nodelist, 'node[05-07]');
    assert.equal(row.node_inx, '4-6');
    assert.equal(row.tres_alloc, '1=12,2=3000,4=3,5=12');
    assert.equal(row.timelimit, 120);
    assert.equal(row.state, 3);
    assert.equal(row.system_comment, SIM_MARK);
    // the columns the reader needs, with the defaults slurmdbd gives the rest
    const full: Record<string, unknown> = { job_db_inx: 1, array_task_str: null, ...row };
    for (const k of JOB_COLUMNS) assert.ok(k in full, `column ${k}`);
    const rep = newReport('t');
    const back = rowToRecord(full as JobRow, rep);
    assert.deepEqual(back, {
      ...j,
      eligible: j.submit,
      partition: 'batch',
      user: '10007',
      nodeList: 'node[05-07]',
    });
    assert.equal(rep.skipped, 0);
  });

  it('TIMEOUT jobs, limits in whole minutes (rounded up), no limit, no memory', () => {
    const c = { ...ctx(), memPerNodeMb: 0 };
    const r = (p: Partial<JobRecord>) =>
      Object.fromEntries(WRITE_COLUMNS.map((k, i) => [k, jobRow(job(p), 1, [0], c)[i]]));
    assert.equal(r({ state: 'TIMEOUT' }).state, 6);
    assert.equal(r({ state: 'TIMEOUT' }).exit_code, 0);
    assert.equal(r({ timeLimit: 61 }).timelimit, 2);
    assert.equal(r({ timeLimit: null }).timelimit, 0xffffffff);
    assert.equal(r({}).tres_req, '1=12,4=3,5=12');
    assert.equal(r({ partition: 'gpu' }).partition, 'gpu');
    assert.throws(() => jobRow(job({ start: null }), 1, [], c), /only scheduled jobs/);
    assert.throws(() => jobRow(job({ state: 'NODE_FAIL' }), 1, [0], c), /no job_table code/);
  });
});
