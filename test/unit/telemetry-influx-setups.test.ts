/**
 * What the client sends for each InfluxDB set-up of docs/telemetry.md (1.x, 2.x, 3.x through the v1 API):
 * the config's InfluxDB section in, the Authorization header and the db/rp parameters of a real /write and
 * /query out, seen by a local HTTP server. And the warning for each key that is set but unused.
 * (No 2.x/3.x server can be installed here: this pins the requests their documentation asks for.)
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import {
  InfluxHttp,
  influxOptionsFromConfig,
  unusedInfluxKeys,
  warnUnusedInfluxKeys,
} from '../../src/telemetry/influx-http.js';
import { InfluxReader } from '../../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../../src/telemetry/influx-writer.js';
import { zeroValues } from '../../src/telemetry/schema.js';

interface Req {
  path: string;
  params: Record<string, string>;
  auth: string | undefined;
}
const seen: Req[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push({
      path: u.pathname,
      params: Object.fromEntries([...u.searchParams].filter(([k]) => k !== 'q')),
      auth: req.headers.authorization,
    });
    req.resume();
    req.on('end', () => {
      if (u.pathname === '/write') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"results":[{"statement_id":0}]}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** The InfluxDB section of a config, in YAML lines under `InfluxDB:`; the URL is the local server's. */
function section(lines: string[], url = base) {
  return parseConfig(['InfluxDB:', `  URL: "${url}"`, ...lines.map((l) => `  ${l}`)].join('\n'), 't', {})
    .InfluxDB;
}

/** One write and one query with this section: what the server saw. */
async function requests(lines: string[], url?: string): Promise<Req[]> {
  const opts = { ...influxOptionsFromConfig(section(lines, url))!, retries: 0 };
  const http = new InfluxHttp(opts);
  seen.length = 0;
  const row = { time: 1_704_067_200, cluster: 'c', partition: '_all', capacity: 4, totalCpus: 4 };
  await new InfluxWriter(http).write([{ ...row, values: zeroValues() }]);
  await new InfluxReader(http).recent('c', '_all', 10);
  return [...seen];
}

describe('the requests of each InfluxDB set-up (docs/telemetry.md)', () => {
  const cases: Array<{ what: string; lines: string[]; auth: string | undefined; db: string; rp?: string }> = [
    { what: '1.x, no auth', lines: ['Database: tel'], auth: undefined, db: 'tel' },
    {
      what: '1.x, user and password: HTTP Basic',
      lines: ['Database: tel', 'RetentionPolicy: weekly', 'Username: pcm', 'Password: pw'],
      auth: basic('pcm', 'pw'),
      db: 'tel',
      rp: 'weekly',
    },
    {
      what: '2.x, token and bucket (virtual DBRP: bucket -> database, rp autogen by default)',
      lines: ['Bucket: telemetry', 'Token: tok', 'Org: my-org'],
      auth: 'Token tok',
      db: 'telemetry',
    },
    {
      what: '2.x, bucket named db/rp',
      lines: ['Bucket: telemetry/weekly', 'Token: tok'],
      auth: 'Token tok',
      db: 'telemetry',
      rp: 'weekly',
    },
    {
      what: '2.x, a v1 authorization (influx v1 auth create): HTTP Basic, the token unused',
      lines: ['Bucket: telemetry', 'Username: pcm', 'Password: v1pw'],
      auth: basic('pcm', 'v1pw'),
      db: 'telemetry',
    },
    {
      what: '3.x: the token as the v1 password (3.x ignores the user name)',
      lines: ['Bucket: telemetry', 'Username: pcm', 'Token: tok'],
      auth: basic('pcm', 'tok'),
      db: 'telemetry',
    },
    {
      what: '3.x, the token header and a database',
      lines: ['Database: telemetry', 'Token: tok'],
      auth: 'Token tok',
      db: 'telemetry',
    },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const [w, q] = await requests(c.lines);
      assert.equal(w.path, '/write');
      assert.deepEqual(w.params, { db: c.db, precision: 's', ...(c.rp ? { rp: c.rp } : {}) });
      assert.equal(q.path, '/query');
      assert.deepEqual(q.params, { db: c.db, epoch: 'ms', ...(c.rp ? { rp: c.rp } : {}) });
      assert.equal(w.auth, c.auth);
      assert.equal(q.auth, c.auth);
      // no credential ever goes into the query string
      for (const r of [w, q]) assert.ok(!('u' in r.params) && !('p' in r.params));
    });
  }

  it('user:password in the URL is HTTP Basic too (and a Username key wins over it)', async () => {
    const withCreds = base.replace('http://', 'http://alice:s3cret@');
    const [w] = await requests(['Database: tel'], withCreds);
    assert.equal(w.auth, basic('alice', 's3cret'));
    const [w2] = await requests(['Database: tel', 'Username: bob', 'Token: tok'], withCreds);
    assert.equal(w2.auth, basic('bob', 's3cret'));
  });
});

describe('keys set but unused', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['a complete 1.x set-up', ['Database: tel', 'Username: u', 'Password: p'], []],
    ['a complete 2.x set-up', ['Bucket: telemetry/weekly', 'Token: t'], []],
    ['the seed’s Org', ['Bucket: b', 'Token: t', 'Org: o'], ['InfluxDB.Org: the v1 API pcm uses']],
    [
      'a token next to user and password',
      ['Username: u', 'Password: p', 'Token: t'],
      ['InfluxDB.Token: Username and Password are sent instead'],
    ],
    ['Bucket next to Database', ['Bucket: b', 'Database: d'], ['InfluxDB.Bucket: InfluxDB.Database (d)']],
    [
      'the bucket’s rp next to RetentionPolicy',
      ['Bucket: b/r', 'RetentionPolicy: x'],
      ["InfluxDB.Bucket's retention policy: InfluxDB.RetentionPolicy (x)"],
    ],
    ['a username alone', ['Username: u'], ['InfluxDB.Username: needs Password']],
    ['a password alone', ['Password: p'], ['InfluxDB.Password: needs Username']],
  ];
  for (const [what, lines, want] of cases) {
    it(what, () => {
      const got = unusedInfluxKeys(section(lines));
      assert.equal(got.length, want.length, got.join(' | '));
      for (const [i, w] of want.entries()) assert.ok(got[i].startsWith(w), `${got[i]} starts with ${w}`);
    });
  }

  it('no URL: every other key is unused, in one line; none set, nothing', () => {
    const c = parseConfig('InfluxDB:\n  Token: t\n  Org: o\n', 't', {}).InfluxDB;
    assert.deepEqual(unusedInfluxKeys(c), [
      'InfluxDB.Token, InfluxDB.Org: InfluxDB.URL is empty, so the embedded store is used',
    ]);
    assert.deepEqual(unusedInfluxKeys(parseConfig('', 't', {}).InfluxDB), []);
  });

  it('a token from the environment counts like the key', () => {
    const c = parseConfig('InfluxDB:\n  Username: u\n  Password: p\n', 't', {
      PCM_INFLUX_URL: 'http://h:8086',
      PCM_INFLUX_TOKEN: 't',
    }).InfluxDB;
    assert.match(unusedInfluxKeys(c)[0], /^InfluxDB.Token: /);
  });

  it('warns once per process, one line each, naming the key and the docs', () => {
    const lines: string[] = [];
    const c = section(['Bucket: b', 'Token: t', 'Org: once-only']);
    warnUnusedInfluxKeys(c, (l) => lines.push(l));
    warnUnusedInfluxKeys(c, (l) => lines.push(l));
    assert.deepEqual(lines, [
      'pcm: warning: InfluxDB.Org: the v1 API pcm uses takes no organisation (the token implies it); it is ignored (docs/telemetry.md, InfluxDB 1.x / 2.x / 3.x)\n',
    ]);
  });
});
