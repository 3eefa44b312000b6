import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newReport } from '../../src/jobs/record.js';
import { openSlurmDb } from '../../src/jobs/slurmdb.js';
import {
  arrayTasksFromHex,
  INFINITE,
  type JobRow,
  jobIdOf,
  jobTableName,
  mapState,
  mapTimeLimit,
  NO_VAL,
  parseSlurmDbUrl,
  redactSecret,
  redactUrl,
  rowToRecord,
  tresCount,
} from '../../src/jobs/slurmdb-map.js';
import { UserError } from '../../src/util/errors.js';

/** A job_table row as mysql2 returns it with supportBigNumbers + bigNumberStrings (BIGINT -> string). */
function row(over: Partial<JobRow> = {}): JobRow {
  return {
    job_db_inx: '42',
    id_job: 123,
    id_array_job: 0,
    id_array_task: NO_VAL,
    array_task_str: null,
    het_job_id: 0,
    het_job_offset: NO_VAL,
    time_submit: '1795884002',
    time_eligible: '1795884002',
    time_start: '1795884004',
    time_end: '1795884065',
    nodes_alloc: 4,
    cpus_req: 8,
    tres_alloc: '1=8,3=18446744073709551614,4=4,5=8',
    tres_req: '1=8,2=4000,4=4,5=8',
    timelimit: 30,
    partition: 'debug',
    state: 3,
    id_user: 1001,
    nodelist: 'node[01-04]',
    ...over,
  };
}

describe('slurmdb mapping: TRES strings', () => {
  it('reads cpu (1=) and node (4=) counts', () => {
    const t = '1=16,3=18446744073709551614,4=8,5=16';
    assert.equal(tresCount(t, 1), 16);
    assert.equal(tresCount(t, 4), 8);
  });
  it('NO_VAL64, INFINITE64 and values beyond 2^53 are unknown, not rounded numbers', () => {
    assert.equal(tresCount('1=4,3=18446744073709551614', 3), null);
    assert.equal(tresCount('3=18446744073709551615', 3), null);
    assert.equal(tresCount('2=9007199254740993', 2), null);
  });
  it('absent ids, empty and null strings give null; ids are matched whole (14= is not 4=)', () => {
    assert.equal(tresCount('1=4,14=2', 4), null);
    assert.equal(tresCount('', 1), null);
    assert.equal(tresCount(null, 1), null);
    assert.equal(tresCount('1=x', 1), null);
  });
});

describe('slurmdb mapping: state codes', () => {
  it('maps the base state in the low byte', () => {
    assert.equal(mapState(0), 'PENDING');
    assert.equal(mapState(1), 'RUNNING');
    assert.equal(mapState(3), 'COMPLETED');
    assert.equal(mapState(4), 'CANCELLED');
    assert.equal(mapState(5), 'FAILED');
    assert.equal(mapState(6), 'TIMEOUT');
    assert.equal(mapState(7), 'NODE_FAIL');
    assert.equal(mapState(11), 'OUT_OF_MEMORY');
    assert.equal(mapState(12), 'UNKNOWN');
  });
  it('requeue, resize and revoke flags name the row as sacct does', () => {
    assert.equal(mapState(1024), 'REQUEUED');
    assert.equal(mapState(1024 | 7), 'REQUEUED');
    assert.equal(mapState(0x800), 'REQUEUED'); // REQUEUE_HOLD
    assert.equal(mapState(8192), 'RESIZING');
    assert.equal(mapState(524288), 'REVOKED');
  });
  it('runtime-only flags keep the base state', () => {
    assert.equal(mapState(0x8000 | 1), 'RUNNING'); // COMPLETING
    assert.equal(mapState(0x4000 | 1), 'RUNNING'); // CONFIGURING
  });
});

describe('slurmdb mapping: time limits', () => {
  it('minutes -> seconds; INFINITE and NO_VAL -> null', () => {
    assert.equal(mapTimeLimit(1), 60);
    assert.equal(mapTimeLimit(1440), 86400);
    assert.equal(mapTimeLimit(INFINITE), null);
    assert.equal(mapTimeLimit(NO_VAL), null);
    assert.equal(mapTimeLimit(null), null);
  });
});

describe('slurmdb mapping: job ids', () => {
  const base = { id_job: 7, id_array_job: 0, id_array_task: NO_VAL, het_job_id: 0, het_job_offset: NO_VAL };
  it('plain, array task, het component', () => {
    assert.equal(jobIdOf(base), '7');
    assert.equal(jobIdOf({ ...base, id_job: 9, id_array_job: 7, id_array_task: 4 }), '7_4');
    assert.equal(jobIdOf({ ...base, id_job: 8, het_job_id: 7, het_job_offset: 1 }), '7+1');
    assert.equal(jobIdOf({ ...base, het_job_id: 7, het_job_offset: 0 }), '7+0');
  });
  it('a pending array meta row shows its task ranges from the hex bitmap', () => {
    assert.equal(arrayTasksFromHex('0x6'), '1-2');
    assert.equal(arrayTasksFromHex('0x2D'), '0,2-3,5');
    assert.equal(arrayTasksFromHex('nope'), null);
    assert.equal(jobIdOf({ ...base, id_array_job: 7, array_task_str: '0xE' }), '7_[1-3]');
  });
});

describe('slurmdb mapping: URL and secrets', () => {
  it('parses user, password, host, port and database', () => {
    assert.deepEqual(parseSlurmDbUrl('mysql://slurm:p%40ss@db.example:3307/slurm_acct_db'), {
      user: 'slurm',
      password: 'p@ss',
      host: 'db.example',
      port: 3307,
      database: 'slurm_acct_db',
    });
    assert.deepEqual(parseSlurmDbUrl('mariadb://reader@127.0.0.1/acct'), {
      user: 'reader',
      host: '127.0.0.1',
      port: 3306,
      database: 'acct',
    });
    assert.equal(parseSlurmDbUrl('mysql://u@[::1]:3306/db').host, '::1');
  });
  it('rejects malformed URLs without echoing the password', () => {
    const bad = [
      'http://u:s3cret@h/db',
      'mysql://u:s3cret@h',
      'mysql://u:s3cret@h/db/x',
      'mysql://:s3cret@h/db',
      'mysql://u:s3cret@h/db?ssl=1',
      'not a url s3cret',
    ];
    for (const u of bad) {
      assert.throws(
        () => parseSlurmDbUrl(u),
        (e: unknown) => {
          assert.ok(e instanceof UserError, u);
          if (u.includes('://')) assert.ok(!e.message.includes('s3cret'), e.message);
          assert.match(e.message, /expected mysql:\/\/user\[:password\]@host\[:port\]\/database/);
          return true;
        },
      );
    }
  });
  it('redacts the password part of a URL, even with a raw @ in it', () => {
    assert.equal(redactUrl('mysql://slurm:pw@h:3306/db'), 'mysql://slurm:***@h:3306/db');
    assert.equal(redactUrl('mysql://slurm:p@w@h/db'), 'mysql://slurm:***@h/db');
    assert.equal(redactUrl('mysql://slurm@h/db'), 'mysql://slurm@h/db');
    assert.equal(redactSecret('x pw y pw', 'pw'), 'x *** y ***');
    assert.equal(redactSecret('x', undefined), 'x');
  });
  it('cluster names are checked strictly and lower-cased for the table', () => {
    assert.equal(jobTableName('PcmTest_1'), 'pcmtest_1_job_table');
    for (const c of ['a-b', 'a b', 'x`y', '', 'a;drop'])
      assert.throws(() => jobTableName(c), /invalid cluster name/);
  });
  it('openSlurmDb refuses bad input before connecting', async () => {
    await assert.rejects(openSlurmDb('mysql://u:pw@127.0.0.1:1/db', {}), /cluster name is needed/);
    await assert.rejects(
      openSlurmDb('mysql://u@127.0.0.1:1/db', { cluster: 'c', since: 10, until: 5 }),
      /until/,
    );
  });
});

describe('slurmdb mapping: rows -> JobRecord', () => {
  it('maps a completed job', () => {
    const r = newReport('t');
    assert.deepEqual(rowToRecord(row(), r), {
      id: '123',
      submit: 1795884002,
      eligible: 1795884002,
      start: 1795884004,
      end: 1795884065,
      nodes: 4,
      cpus: 8,
      timeLimit: 1800,
      partition: 'debug',
      state: 'COMPLETED',
      user: '1001',
      nodeList: 'node[01-04]',
    });
    assert.equal(r.skipped, 0);
  });
  it('a job cancelled while pending reports requested nodes/CPUs, no node list, start = end', () => {
    const r = newReport('t');
    const j = rowToRecord(
      row({
        nodes_alloc: 0,
        tres_alloc: '',
        state: 4,
        nodelist: 'None assigned',
        time_start: '1795884010',
        time_end: '1795884010',
      }),
      r,
    );
    assert.equal(j?.nodes, 4);
    assert.equal(j?.cpus, 8);
    assert.equal(j?.nodeList, null);
    assert.equal(j?.start, j?.end);
    assert.equal(j?.state, 'CANCELLED');
    assert.equal(r.notes.nodes_from_request, 1);
  });
  it('pending and running jobs: 0 times are null; held jobs have no eligible time', () => {
    const pending = rowToRecord(
      row({ time_start: '0', time_end: '0', time_eligible: '0', state: 0 }),
      newReport('t'),
    );
    assert.equal(pending?.start, null);
    assert.equal(pending?.end, null);
    assert.equal(pending?.eligible, null);
    const running = rowToRecord(row({ time_end: '0', state: 1 }), newReport('t'));
    assert.equal(running?.end, null);
    assert.equal(running?.state, 'RUNNING');
    const infElig = rowToRecord(row({ time_eligible: String(INFINITE) }), newReport('t'));
    assert.equal(infElig?.eligible, null);
  });
  it('unlimited and unset time limits are null', () => {
    assert.equal(rowToRecord(row({ timelimit: INFINITE }), newReport('t'))?.timeLimit, null);
    assert.equal(rowToRecord(row({ timelimit: NO_VAL }), newReport('t'))?.timeLimit, null);
  });
  it('impossible rows are skipped with job_db_inx as the line', () => {
    const r = newReport('t');
    assert.equal(rowToRecord(row({ job_db_inx: '77', time_end: '1795884000' }), r), null);
    assert.equal(rowToRecord(row({ job_db_inx: '78', time_start: '99999999999' }), r), null);
    assert.equal(rowToRecord(row({ job_db_inx: '79', id_job: 0 }), r), null);
    assert.equal(rowToRecord(row({ job_db_inx: '80', state: 'x' }), r), null);
    assert.equal(r.skipped, 4);
    assert.deepEqual(
      r.firstSkipped.map((s) => s.line),
      [77, 78, 79, 80],
    );
    assert.match(r.firstSkipped[0].reason, /time_end 1795884000 before time_start 1795884004/);
    assert.match(r.firstSkipped[1].reason, /time_start out of range/);
  });
  it('numbers may also arrive as JS numbers or bigint; text may arrive as Buffer', () => {
    const j = rowToRecord(
      row({ job_db_inx: 5, time_submit: 1795884002, time_start: 1795884004n, partition: Buffer.from('gpu') }),
      newReport('t'),
    );
    assert.equal(j?.start, 1795884004);
    assert.equal(j?.partition, 'gpu');
  });
});
