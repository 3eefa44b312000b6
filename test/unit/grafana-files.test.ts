/**
 * deploy/grafana/ in step with the code: every InfluxQL query of the dashboard and the alert rules reads a
 * measurement and fields that pcm writes, under the names the code uses, and the datasource uid is the one
 * provisioned. (The queries themselves run against a real influxd in test/integration/grafana-queries.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  FORECAST_FIELDS,
  FORECAST_MEASUREMENT,
  WARM_POOL_FIELDS,
  WARM_POOL_MEASUREMENT,
} from '../../src/telemetry/forecast-writer.js';
import { MEASUREMENT, ROW_FIELDS } from '../../src/telemetry/schema.js';
import { alertQueries, dashboard, dashboardQueries, expand, namesRead } from '../helpers/grafana.js';

const FIELDS: Record<string, readonly string[]> = {
  [MEASUREMENT]: ROW_FIELDS,
  [FORECAST_MEASUREMENT]: FORECAST_FIELDS,
  [WARM_POOL_MEASUREMENT]: WARM_POOL_FIELDS,
};

describe('Grafana files', () => {
  const all = [...dashboardQueries(), ...alertQueries()];

  it('query the measurements and fields pcm writes', () => {
    assert.ok(all.length >= 14, `${all.length} queries`);
    const seen = new Set<string>();
    for (const q of all) {
      const { measurement, fields } = namesRead(q.query);
      assert.ok(FIELDS[measurement], `${q.where}: unknown measurement ${measurement}`);
      for (const f of fields)
        assert.ok(FIELDS[measurement].includes(f), `${q.where}: ${measurement} has no field ${f}`);
      seen.add(measurement);
      // tags: cluster, partition (every measurement), horizon (pcm_forecast only)
      for (const m of q.query.matchAll(/"(\w+)"\s*(?:=~|=)/g))
        assert.ok(
          ['cluster', 'partition'].includes(m[1]) ||
            (m[1] === 'horizon' && measurement === FORECAST_MEASUREMENT),
          `${q.where}: tag ${m[1]}`,
        );
      // every macro expands
      expand(q, { cluster: 'c', partition: '_all' });
    }
    assert.deepEqual([...seen].sort(), [MEASUREMENT, FORECAST_MEASUREMENT, WARM_POOL_MEASUREMENT].sort());
  });

  it('use the provisioned datasource', () => {
    const ds = parse(readFileSync(new URL('../../deploy/grafana/datasource.yaml', import.meta.url), 'utf8'));
    const uid = ds.datasources[0].uid;
    assert.equal(ds.datasources[0].type, 'influxdb');
    const d = dashboard() as unknown as {
      templating: { list: Array<{ name: string; type: string; current?: { value: string } }> };
    };
    const v = d.templating.list.find((x) => x.type === 'datasource');
    assert.equal(v?.current?.value, uid);
    const text = readFileSync(new URL('../../deploy/grafana/pcm-forecast.json', import.meta.url), 'utf8');
    // the datasource variable (Grafana's `${name}` syntax) or the dashboard's own uid
    for (const m of text.matchAll(/"uid":\s*"([^"]+)"/g))
      assert.ok(['$' + '{datasource}', 'pcm-forecast'].includes(m[1]), `dashboard uid ${m[1]}`);
    const rules = readFileSync(new URL('../../deploy/grafana/alert-rules.yaml', import.meta.url), 'utf8');
    for (const m of rules.matchAll(/datasourceUid:\s*(\S+)/g))
      assert.ok([uid, '__expr__'].includes(m[1]), m[1]);
  });
});
