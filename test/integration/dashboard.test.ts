/**
 * The dashboard end to end in headless Chromium (Debian `chromium`, driven by playwright-core): the service
 * runs as a child process (`pcm serve`, embedded store fed by the live simulator), the page renders the
 * charts, shows the values of /forecast/latest, and after the service is stopped and started again on the
 * same port it shows "reconnecting" and then recovers by itself.
 *
 * Needs /usr/bin/chromium (scripts/services/install-chromium.sh). PCM_SKIP_INTEGRATION=1 skips.
 * PCM_DASHBOARD_SCREENSHOT=docs/dashboard.png also saves a screenshot of the page there.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePort } from '../../harness/net.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

/** What app.js exposes as window.__pcm (typed here: the project compiles without the DOM lib). */
interface PcmState {
  last: { origin: string; p50: number[] } | null;
  polls: number;
  busy: { series: unknown[]; data: number[][] };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
/** The fields of /forecast/latest the test compares. */
interface Latest {
  origin: string;
  cluster: string;
  partition: string;
  busy_now: number;
  capacity: { nodes: number };
  p50: number[];
  p10: number[];
  p90: number[];
  power_kw: number[];
  warm_pool: { nodes: number };
  quality: { verdict: string };
}
// the page's globals, as the evaluate() callbacks below see them in the browser
declare const window: { __pcm: PcmState };
declare const document: { querySelector(selector: string): unknown };

const CHROMIUM = '/usr/bin/chromium';
const skip = process.env.PCM_SKIP_INTEGRATION === '1' ? 'PCM_SKIP_INTEGRATION=1' : false;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `pcm serve` as a child; resolves once it prints that it listens. */
async function startService(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--sim-days',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PCM_INFLUX_URL: '' } },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pcm serve did not start in 60 s: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pcm serve exited with ${code}: ${err}`));
    });
  });
  return child;
}

/** SIGTERM and wait: resolves with the exit code (graceful shutdown exits 0). */
async function stopService(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return done;
}

async function until<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

const text = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent())?.trim() ?? '';

describe('dashboard in headless Chromium', { skip }, () => {
  let port = 0;
  let child: ChildProcess | null = null;
  let ctx: BrowserContext | null = null;
  let profile = '';
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: run bash scripts/services/install-chromium.sh`);
    port = await freePort();
    child = await startService(port);
    profile = mkdtempSync(join(tmpdir(), 'pcm-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await ctx?.close();
    if (child) await stopService(child);
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('renders the busy-node chart with history, forecast and band', async () => {
    await page.goto(`http://127.0.0.1:${port}/dashboard/`);
    await page.waitForFunction(() => window.__pcm?.last, null, {
      timeout: 30_000,
    });
    const chart = await page.evaluate(() => {
      const s = window.__pcm;
      const canvas = document.querySelector('#chart-busy canvas') as Canvas;
      const g = canvas.getContext('2d');
      const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 230 || px[i + 1] < 230)) inked++;
      return { series: s.busy.series.length, points: s.busy.data[0].length, inked, w: canvas.width };
    });
    assert.equal(chart.series, 6, 'x + observed + p50 + p10 + p90 + capacity');
    assert.equal(chart.points, 240 + 30, 'lookback history + 30 forecast minutes');
    assert.ok(chart.inked > 2000, `canvas has drawn pixels (${chart.inked})`);
    assert.equal(await page.locator('#badge-conn').getAttribute('data-state'), 'live');
    assert.deepEqual(pageErrors, [], 'no script errors');
  });

  it('shows the values of /forecast/latest', async () => {
    // the forecast may move on between the page's poll and ours: compare when both are for the same origin
    await until('the page and /forecast/latest to agree on the origin', async () => {
      const api = (await (await fetch(`http://127.0.0.1:${port}/forecast/latest`)).json()) as Latest;
      const shown = await page.evaluate(() => window.__pcm.last?.origin);
      if (shown !== api.origin) return false;
      const n = api.p50.length;
      assert.equal(await text(page, 'busy-now'), String(Math.round(api.busy_now)));
      assert.equal(await text(page, 'capacity'), String(api.capacity.nodes));
      assert.equal(await text(page, 'p50-end'), api.p50[n - 1].toFixed(1));
      assert.equal(
        await text(page, 'band-end'),
        `${api.p10[n - 1].toFixed(1)} – ${api.p90[n - 1].toFixed(1)}`,
      );
      assert.equal(await text(page, 'warm-pool'), String(api.warm_pool.nodes));
      assert.equal(await text(page, 'power-now'), api.power_kw[0].toFixed(1));
      assert.equal(await text(page, 'series'), `${api.cluster}/${api.partition}`);
      assert.match(
        await text(page, 'badge-quality'),
        new RegExp(`quality ${api.quality.verdict.replace('_', ' ')}`),
      );
      return true;
    });
    const shot = process.env.PCM_DASHBOARD_SCREENSHOT;
    if (shot) await writeFileAtomic(shot, await page.screenshot({ fullPage: true }));
  });

  it('shows "reconnecting" while the service is down and recovers after it restarts on the same port', async () => {
    assert.equal(await stopService(child!), 0, 'graceful shutdown on SIGTERM exits 0');
    child = null;
    await until(
      'the reconnecting badge',
      async () => (await page.locator('#badge-conn').getAttribute('data-state')) === 'reconnecting',
    );
    const before = await page.evaluate(() => window.__pcm.polls);
    child = await startService(port);
    await until(
      'the page to be live again',
      async () => (await page.locator('#badge-conn').getAttribute('data-state')) === 'live',
    );
    const after = await page.evaluate(() => {
      const s = window.__pcm;
      return { polls: s.polls, p50: s.last?.p50.length };
    });
    assert.ok(after.polls > before);
    assert.equal(after.p50, 30);
  });
});
