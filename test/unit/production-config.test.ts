/**
 * The production example config (config/pcm.production.example.yaml, used by docs/production.md and the
 * systemd units in deploy/systemd/) loads with the project's loader, holds no secret, and takes the
 * secrets from the environment the units' EnvironmentFile sets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { tokenFrom } from '../../src/service/auth.js';

const FILE = new URL('../../config/pcm.production.example.yaml', import.meta.url).pathname;

describe('config/pcm.production.example.yaml', () => {
  it('validates with the loader, with the values the docs rely on', () => {
    const c = loadConfig(FILE, {});
    assert.equal(c.Predictor.CheckpointFile, '/var/lib/pcm/model');
    assert.equal(c.Predictor.URL, 'http://127.0.0.1:5000');
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
