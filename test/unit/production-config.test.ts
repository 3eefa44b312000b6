/**
 * The production example config (config/pcm.production.example.yaml, used by docs/production.md and the
 * systemd units in deploy/systemd/) loads with the project's loader, holds no secret, and takes the
 * secrets from the environment the units' EnvironmentFile sets.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_SERVICE_PORT } from '../../src/config/schema.js';
import { tokenFrom } from '../../src/service/auth.js';

const FILE = new URL('../../config/pcm.production.example.yaml', import.meta.url).pathname;

describe('config/pcm.production.example.yaml', () => {
  it('validates with the loader, with the values the docs rely on', () => {
    const c = loadConfig(FILE, {});
    assert.equal(c.Predictor.CheckpointFile, '/var/lib/pcm/model');
    assert.equal(c.Predictor.URL, `http://127.0.0.1:${DEFAULT_SERVICE_PORT}`);
    assert.equal(c.InfluxDB.URL, 'http://influx.example.org:8086');
    assert.equal(c.SlurmDB.Cluster, c.Cluster.Name);
    assert.equal(c.SlurmDB.BatchRows, 2000);
    assert.match(c.SlurmDB.URL, /^mysql:\/\/pcm_reader@/);
    assert.equal(c.Power.Advise.MaxActions, 16);
    assert.equal(c.Train.MaxMinutes, 120);
  });

  it('holds no secret: every secret comes from the environment', () => {
    const c = loadConfig(FILE, {});
    assert.equal(c.InfluxDB.Password, undefined);
    assert.equal(c.InfluxDB.Token, undefined);
    assert.equal(c.SlurmDB.Password, undefined);
    assert.equal(c.Service.ApiToken, undefined);
    assert.doesNotMatch(readFileSync(FILE, 'utf8'), /^\s*(Password|Token|ApiToken):/m);
    const env = {
      PCM_SLURMDB_PASSWORD: 'db-secret',
      PCM_INFLUX_USERNAME: 'pcm',
      PCM_INFLUX_PASSWORD: 'influx-secret',
      PCM_API_TOKEN: 'a-token-of-24-characters',
    };
    const e = loadConfig(FILE, env);
    assert.equal(e.SlurmDB.Password, 'db-secret');
    assert.equal(e.InfluxDB.Username, 'pcm');
    assert.equal(e.InfluxDB.Password, 'influx-secret');
    assert.equal(tokenFrom(e.Service.ApiToken, env), 'a-token-of-24-characters');
  });
});

describe('the default port', () => {
  it('every service URL in the README, docs, example configs and units uses DEFAULT_SERVICE_PORT', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const files = [
      'README.md',
      ...readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
      ...readdirSync(join(root, 'config')).map((f) => `config/${f}`),
      ...readdirSync(join(root, 'deploy', 'systemd')).map((f) => `deploy/systemd/${f}`),
    ];
    // a URL of the service: the listen address in a config, or one of its routes
    const service =
      /(?:URL: "|URL=|https?:\/\/)(?:127\.0\.0\.1|localhost|0\.0\.0\.0):(\d+)(?:"|\s|\/(?:health|predict|forecast|metrics|openapi\.json|dashboard|admin)|$)/gm;
    let seen = 0;
    for (const f of files) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(service)) {
        if (m[0].includes('8086')) continue; // InfluxDB's listen address in a config
        seen++;
        assert.equal(Number(m[1]), DEFAULT_SERVICE_PORT, `${f}: ${m[0].trim()}`);
      }
    }
    assert.ok(seen >= 4, `found the service URLs (${seen})`);
  });
});
