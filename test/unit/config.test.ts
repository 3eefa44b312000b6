import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

describe('config', () => {
  it('an empty file gives the documented defaults, keeping the seed keys', () => {
    const c = parseConfig('');
    assert.equal(c.Predictor.ForecastMinutes, 30);
    assert.equal(c.Predictor.LookbackMinutes, 240);
    assert.equal(c.InfluxDB.URL, '');
    assert.equal(c.Cluster.Nodes, 120);
  });

  it('reads the seed config as written in its README', () => {
    const c = parseConfig(`Predictor:
  URL: "http://0.0.0.0:9999"
  CheckpointFile: "../model/checkpoint.pth"
  ScalersFile: "../model/dataset_scalers.pkl"
  ForecastMinutes: 30
  LookbackMinutes: 240

InfluxDB:
  URL: "http://localhost:8086"
  Token: "your-influxdb-token"
  Org: "your-org"
  Bucket: "your-bucket"
`);
    assert.equal(c.Predictor.URL, 'http://0.0.0.0:9999');
    assert.equal(c.InfluxDB.Bucket, 'your-bucket');
  });

  it('names the key, its line and what was expected', () => {
    const text = 'Predictor:\n  ForecastMinutes: abc\n  Foo: 1\nCluster:\n  Nodes: -3\n';
    assert.throws(
      () => parseConfig(text, 'c.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const m = e.message;
        assert.match(m, /Predictor\.ForecastMinutes \(line 2\): expected number, received string/);
        assert.match(m, /Predictor\.Foo \(line 3\): unknown key/);
        assert.match(m, /Cluster\.Nodes \(line 5\)/);
        return true;
      },
    );
  });

  it('reports YAML syntax errors with a line', () => {
    assert.throws(() => parseConfig('Predictor:\n  URL: [unclosed\n'), /line \d+/);
  });

  it('rejects a top level that is not a mapping', () => {
    assert.throws(() => parseConfig('- a\n- b\n'), /expected a mapping/);
  });

  it('takes secrets from the environment over the file', () => {
    const c = parseConfig('InfluxDB:\n  Token: fromfile\n', 'c', {
      PCM_INFLUX_TOKEN: 'fromenv',
      PCM_SLURMDB_PASSWORD: 'pw',
    });
    assert.equal(c.InfluxDB.Token, 'fromenv');
    assert.equal(c.SlurmDB.Password, 'pw');
  });
});

describe('config/pcm.example.yaml', () => {
  it('is valid and states the defaults it shows', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../config/pcm.example.yaml', import.meta.url), 'utf8');
    const example = parseConfig(text, 'pcm.example.yaml', {});
    const defaults = parseConfig('', 'defaults', {});
    assert.deepEqual(example, defaults);
  });
});
