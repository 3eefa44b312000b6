import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkName, quoteIdent, quoteString, selectRecent } from '../../src/telemetry/influxql.js';
import {
  escapeKey,
  escapeMeasurement,
  escapeStringField,
  formatPoint,
  rowLines,
} from '../../src/telemetry/line-protocol.js';
import { zeroValues } from '../../src/telemetry/schema.js';
import { InputError } from '../../src/util/errors.js';

describe('line protocol', () => {
  it('escapes per the spec', () => {
    assert.equal(escapeMeasurement('a b,c=d'), 'a\\ b\\,c=d');
    assert.equal(escapeKey('a b,c=d'), 'a\\ b\\,c\\=d');
    assert.equal(escapeStringField('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  });

  it('refuses what cannot be escaped: newlines, empty tag values, a trailing backslash', () => {
    assert.throws(() => formatPoint('m', { t: 'a\nb' }, { v: 1 }, 1), InputError);
    assert.throws(() => formatPoint('m', { t: '' }, { v: 1 }, 1), /tag t must not be empty/);
    assert.throws(() => formatPoint('m', { t: 'x\\' }, { v: 1 }, 1), /backslash/);
    assert.throws(() => formatPoint('m', {}, { v: 1 }, 1.5), /timestamp must be an integer/);
  });

  it('writes floats, sorts tags, drops non-finite fields and empty points', () => {
    assert.equal(
      formatPoint('m', { z: '1', a: 'x y' }, { v: 2, w: 0.5, n: Number.NaN }, 60),
      'm,a=x\\ y,z=1 v=2,w=0.5 60',
    );
    assert.equal(formatPoint('m', {}, { n: Number.POSITIVE_INFINITY }, 60), null);
    assert.equal(formatPoint('m', {}, { s: 'a', b: true }, 60), 'm s="a",b=true 60');
  });

  it('a row is one pcm_cluster point, plus pcm_nodes when it has node states', () => {
    const values = zeroValues();
    values.busy_nodes = 7;
    const lines = rowLines({
      time: 120,
      cluster: 'c1',
      partition: '_all',
      capacity: 16,
      totalCpus: 64,
      values,
      nodeStates: { slurm_nodes_alloc: 3, nodes_powered_down: 2 },
    });
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      /^pcm_cluster,cluster=c1,partition=_all running_jobs=0,queued_jobs=0,busy_nodes=7,/,
    );
    assert.match(lines[0], /,capacity=16,total_cpus=64 120$/);
    assert.equal(
      lines[1],
      'pcm_nodes,cluster=c1,partition=_all slurm_nodes_alloc=3,nodes_powered_down=2 120',
    );
  });
});

describe('InfluxQL building', () => {
  it('quotes identifiers and strings', () => {
    assert.equal(quoteIdent('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(quoteString("it's"), "'it\\'s'");
  });

  it('validates tag values strictly before they reach a query', () => {
    assert.equal(checkName('cluster', 'pcm-test_1.a:b'), 'pcm-test_1.a:b');
    for (const bad of ["a' OR '1'='1", 'a b', '', '-x', 'x;DROP', 'é', 'a'.repeat(129)]) {
      assert.throws(() => checkName('cluster', bad), /cluster: expected letters, digits/);
    }
  });

  it('selects the recent rows of one series', () => {
    const q = selectRecent({
      retentionPolicy: 'rp1',
      measurement: 'pcm_cluster',
      fields: ['busy_nodes', 'capacity'],
      tags: { cluster: 'c', partition: '_all' },
      minutes: 240,
    });
    assert.equal(
      q,
      `SELECT "busy_nodes","capacity" FROM "rp1"."pcm_cluster" WHERE "cluster" = 'c' AND "partition" = '_all' AND time > now() - 240m ORDER BY time ASC`,
    );
    assert.throws(() => selectRecent({ measurement: 'm', fields: ['v'], tags: {}, minutes: 0 }), /minutes/);
    assert.throws(
      () => selectRecent({ measurement: 'm', fields: ['v'], tags: { c: "x'" }, minutes: 1 }),
      InputError,
    );
  });
});
