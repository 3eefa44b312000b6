/**
 * The pieces of the influxd-outage fault runs (bench/faults/influx-outage.ts, test/integration/influx-outage.test.ts):
 * a PRIVATE influxd (scripts/services/influxdb.sh with its own directory and free ports: the shared one is
 * never touched), the simulator's live mode writing into it (`pcm simulate --live`), `pcm serve` reading
 * from it, an open-loop request generator, and an RSS sampler. A library: nothing runs on import.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './net.js';

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/main.ts');

/** influxd 1.x under `dir`, driven by scripts/services/influxdb.sh (database `telemetry`, no auth). */
export class PrivateInflux {
  url = '';
  private env: NodeJS.ProcessEnv = {};
  constructor(readonly dir: string) {}

  async start(keepData = false): Promise<void> {
    if (!this.url) {
      const http = await freePort();
      const rpc = await freePort();
      this.url = `http://127.0.0.1:${http}`;
      this.env = {
        ...process.env,
        PCM_SERVICES_DIR: this.dir,
        PCM_INFLUX_PORT: String(http),
        PCM_INFLUX_RPC_PORT: String(rpc),
      };
    }
    await run('bash', [join(ROOT, 'scripts/services/influxdb.sh'), 'start'], {
      cwd: ROOT,
      env: { ...this.env, PCM_SERVICES_KEEP_DATA: keepData ? '1' : '0' },
    });
  }

  /** SIGTERM and wait for influxd to exit (the script's stop). */
  async stop(): Promise<void> {
    if (!this.url) return;
    await run('bash', [join(ROOT, 'scripts/services/influxdb.sh'), 'stop'], { cwd: ROOT, env: this.env });
  }

  /** The minutes (epoch s) in [from, to] for which the feed stored busy_nodes of `cluster` in db telemetry. */
  async busyMinutes(cluster: string, from: number, to: number): Promise<number[]> {
    const u = new URL('/query', this.url);
    u.searchParams.set('db', 'telemetry');
    u.searchParams.set('epoch', 's');
    u.searchParams.set(
      'q',
      `SELECT "busy_nodes" FROM "pcm_cluster" WHERE "cluster" = '${cluster}' AND time >= ${from}s AND time <= ${to}s`,
    );
    const b = (await (await fetch(u)).json()) as {
      results: Array<{ series?: Array<{ values: Array<[number, number]> }> }>;
    };
    return (b.results[0].series?.[0].values ?? []).map((v) => v[0]);
  }

  async ping(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(2000) })).status === 204;
    } catch {
      return false;
    }
  }
}

export interface Child {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code (or signal). */
  stop(ms?: number): Promise<number | string | null>;
}

function child(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PCM_INFLUX_URL: '', PCM_NO_PROGRESS: '1', PCM_DEBUG: '', ...env },
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string | null>((r) => proc.once('exit', (code, sig) => r(code ?? sig)));
  return {
    proc,
    out: () => out,
    err: () => err,
    async stop(ms = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), ms);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
}

/** `pcm simulate --live` at real time into `db` of `url`, with `prerollHours` of history written at once. */
export function startLiveSim(o: {
  url: string;
  dir: string;
  cluster: string;
  nodes: number;
  prerollHours: number;
}): Child {
  const cfg = join(o.dir, 'sim.yaml');
  writeFileSync(cfg, 'InfluxDB:\n  Database: telemetry\n');
  return child([
    'simulate',
    '--live',
    '--speed',
    '1',
    '--preroll',
    String(o.prerollHours),
    '--nodes',
    String(o.nodes),
    '--cluster',
    o.cluster,
    '--influx',
    o.url,
    '--config',
    cfg,
  ]);
}

/** `pcm serve` on a free port reading `url` (ridge baseline unless `model` names a model directory). */
export async function startServe(o: {
  url: string;
  dir: string;
  name: string;
  cluster: string;
  nodes: number;
  refreshSeconds: number;
  fallback?: boolean;
  model?: string;
}): Promise<Child & { base: string }> {
  const cfg = join(o.dir, `${o.name}.yaml`);
  writeFileSync(
    cfg,
    `Predictor:\n  CheckpointFile: ${o.model ?? join(o.dir, 'no-model')}\n` +
      `InfluxDB:\n  URL: ${o.url}\n  Database: telemetry\n  TimeoutMs: 2000\n` +
      `Cluster:\n  Name: ${o.cluster}\n  Nodes: ${o.nodes}\n` +
      `Service:\n  RefreshSeconds: ${o.refreshSeconds}\n  ContextMinutes: 720\n` +
      `  FallbackToBaseline: ${o.fallback ? 'true' : 'false'}\n`,
  );
  const c = child(['serve', '--config', cfg, '--host', '127.0.0.1', '--port', '0']);
  for (let i = 0; ; i++) {
    const m = /listening on (http:\/\/\S+) /.exec(c.out());
    if (m) return { ...c, base: m[1] };
    if (c.proc.exitCode !== null || i > 600) {
      await c.stop();
      throw new Error(`pcm serve (${o.name}) did not start: ${c.err()}`);
    }
    await sleep(100);
  }
}

export interface Sample {
  /** Wall ms when the request was sent. */
  t: number;
  target: string;
  /** HTTP status; 0 = no answer (connection refused/reset, timeout). */
  status: number;
  /** `error` of an error body, `health:<status>` of /health, or the network error. */
  code: string;
  /** The one-line reason of a 503 (message, or the first health reason). */
  reason: string;
  /** A 200 /predict served as a flagged fallback. */
  fallback: boolean;
  /** Last telemetry point of a 200 /predict (epoch ms), for telling cached forecasts. */
  lastPoint: number | null;
  ms: number;
  retryAfter: string | null;
}

export interface Target {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  body?: string;
}

/** Open-loop load: each target gets `rate` requests per second, sent on schedule whatever the answers. */
export class Load {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight = new Set<Promise<void>>();

  constructor(
    private readonly targets: Target[],
    private readonly rate: number,
  ) {}

  start(): void {
    const every = 1000 / this.rate;
    let next = performance.now();
    const tick = () => {
      const now = performance.now();
      while (next <= now) {
        for (const t of this.targets) this.fire(t);
        next += every;
      }
      this.timer = setTimeout(tick, Math.max(1, next - performance.now()));
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inflight]);
  }

  private fire(t: Target): void {
    const sent = Date.now();
    const t0 = performance.now();
    const p = (async () => {
      const s: Sample = {
        t: sent,
        target: t.name,
        status: 0,
        code: '',
        reason: '',
        fallback: false,
        lastPoint: null,
        ms: 0,
        retryAfter: null,
      };
      try {
        const r = await fetch(t.url, {
          method: t.method,
          headers: t.body ? { 'content-type': 'application/json' } : {},
          body: t.body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await r.text();
        s.status = r.status;
        s.retryAfter = r.headers.get('retry-after');
        const b = JSON.parse(text) as Record<string, unknown>;
        if (t.name === 'health') {
          s.code = `health:${b.status}`;
          s.reason = ((b.reasons as string[]) ?? [])[0] ?? '';
        } else if (r.status === 200) {
          const model = b.model as { fallback?: boolean };
          const q = b.quality as { last_point_time?: string | null };
          s.fallback = model?.fallback === true;
          s.lastPoint = q?.last_point_time ? Date.parse(q.last_point_time) : null;
          s.code = s.fallback ? 'fallback' : 'ok';
        } else {
          s.code = String(b.error ?? '');
          s.reason = String(b.message ?? '');
        }
      } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        s.code = err.cause?.code ?? err.name;
        s.reason = err.message;
      }
      s.ms = performance.now() - t0;
      this.samples.push(s);
    })();
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}

/** Resident set size of a process, MB (Linux /proc), or null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** RSS of `pid` every `ms`. */
export class RssSampler {
  readonly samples: Array<{ t: number; mb: number }> = [];
  private timer: NodeJS.Timeout;
  constructor(pid: number, ms = 1000) {
    this.timer = setInterval(() => {
      const mb = rssMb(pid);
      if (mb !== null) this.samples.push({ t: Date.now(), mb });
    }, ms);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Wait until `f()` holds, polling every 200 ms; false on timeout. */
export async function until(f: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await sleep(200);
  }
  return false;
}
