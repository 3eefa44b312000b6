import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { redact, TelemetryError } from './errors.js';
import { checkName } from './influxql.js';

/**
 * The InfluxDB v1 HTTP API (`/write`, `/query`, `/ping`) over Node's fetch: InfluxDB 1.x natively,
 * 2.x/3.x through their v1 compatibility API. Every failure becomes a TelemetryError whose one-line
 * message names the endpoint (without credentials) and the reason; secrets are redacted from anything
 * the server echoes back.
 *
 * Auth (`chooseAuth`): Username+Password -> HTTP Basic (1.x users; 2.x v1 authorizations); Username+Token
 * -> HTTP Basic with the token as the password (3.x, which ignores the user name); Token alone -> `Authorization:
 * Token <token>` (2.x/3.x; 1.6 answers it with 401). Config keys that end up unused are warned about once
 * (`warnUnusedInfluxKeys`). docs/telemetry.md has the set-up per InfluxDB version.
 */
export interface InfluxOptions {
  /** Base URL, e.g. http://127.0.0.1:8086 (a path prefix is kept; user:password in it are used as Basic auth). */
  url: string;
  /** v1 database (2.x: the bucket's DBRP mapping). */
  database: string;
  retentionPolicy?: string;
  token?: string;
  username?: string;
  password?: string;
  /** Per request: connect + answer + body. */
  timeoutMs: number;
  /** Retries of a retryable failure (unreachable, timeout, 5xx, 429) before giving up. */
  retries: number;
  /** First retry waits this long, then doubles (with +-25 % jitter). */
  backoffMs: number;
  /** Largest answer body read, bytes (default MAX_ANSWER_BYTES); a larger one fails clearly. */
  maxAnswerBytes?: number;
}

/** 64 MB: a day of minute rows as InfluxQL JSON is about 2 MB. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 250;

/** The database and retention policy a config names: Database/RetentionPolicy, else the Bucket's `db/rp`. */
function dbrp(c: Config['InfluxDB']): { database: string; rp: string | undefined } {
  // 2.x buckets map to v1 `database/retention-policy` (DBRP); an explicit Database/RetentionPolicy wins
  const [bDb, bRp] = (c.Bucket ?? '').split('/', 2);
  return { database: c.Database || bDb || 'telemetry', rp: c.RetentionPolicy || bRp || undefined };
}

/** Connection options from the config's InfluxDB section; null when no URL is set (use the memory store). */
export function influxOptionsFromConfig(c: Config['InfluxDB']): InfluxOptions | null {
  if (!c.URL) return null;
  const { database, rp } = dbrp(c);
  checkName('InfluxDB.Database', database);
  if (rp) checkName('InfluxDB.RetentionPolicy', rp);
  return {
    url: c.URL,
    database,
    retentionPolicy: rp,
    token: c.Token || undefined,
    username: c.Username || undefined,
    password: c.Password || undefined,
    timeoutMs: c.TimeoutMs,
    retries: DEFAULT_RETRIES,
    backoffMs: DEFAULT_BACKOFF_MS,
  };
}

/**
 * The Authorization header for the credentials given (after the URL's user:password are merged in), and
 * the ones it leaves unused, each as `Key: why`.
 */
export function chooseAuth(c: { username?: string; password?: string; token?: string }): {
  header: string | undefined;
  unused: string[];
} {
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const { username: u, password: p, token: t } = c;
  if (u !== undefined && p !== undefined)
    return {
      header: basic(u, p),
      unused: t ? ['InfluxDB.Token: Username and Password are sent instead (HTTP Basic)'] : [],
    };
  if (u !== undefined && t) return { header: basic(u, t), unused: [] };
  const unused: string[] = [];
  if (u !== undefined) unused.push('InfluxDB.Username: needs Password (or Token as the password)');
  if (p !== undefined) unused.push('InfluxDB.Password: needs Username');
  return { header: t ? `Token ${t}` : undefined, unused };
}

/** The InfluxDB keys set in the config (or the environment) that the client does not use, with why. */
export function unusedInfluxKeys(c: Config['InfluxDB']): string[] {
  const set = (k: keyof Config['InfluxDB']) => c[k] !== undefined && c[k] !== '';
  const keys = ['Token', 'Org', 'Bucket', 'Database', 'RetentionPolicy', 'Username', 'Password'] as const;
  if (!c.URL) {
    const given = keys.filter(set);
    return given.length
      ? [`InfluxDB.${given.join(', InfluxDB.')}: InfluxDB.URL is empty, so the embedded store is used`]
      : [];
  }
  const out: string[] = [];
  if (set('Org')) out.push('InfluxDB.Org: the v1 API pcm uses takes no organisation (the token implies it)');
  if (set('Bucket')) {
    const [bDb, bRp] = (c.Bucket ?? '').split('/', 2);
    if (set('Database') && bDb)
      out.push(`InfluxDB.Bucket: InfluxDB.Database (${c.Database}) is used instead`);
    else if (set('RetentionPolicy') && bRp)
      out.push(
        `InfluxDB.Bucket's retention policy: InfluxDB.RetentionPolicy (${c.RetentionPolicy}) is used instead`,
      );
  }
  let u = c.Username || undefined;
  let p = c.Password || undefined;
  try {
    const url = new URL(c.URL);
    u ??= url.username ? decodeURIComponent(url.username) : undefined;
    p ??= url.password ? decodeURIComponent(url.password) : undefined;
  } catch {} // a bad URL fails with its own message when the client is made
  out.push(...chooseAuth({ username: u, password: p, token: c.Token || undefined }).unused);
  return out;
}

const warned = new Set<string>();

/** Warn once per process (stderr by default) about each InfluxDB key that is set but unused. */
export function warnUnusedInfluxKeys(
  c: Config['InfluxDB'],
  write: (line: string) => void = (l) => process.stderr.write(l),
): void {
  for (const w of unusedInfluxKeys(c)) {
    if (warned.has(w)) continue;
    warned.add(w);
    write(`pcm: warning: ${w}; it is ignored (docs/telemetry.md, InfluxDB 1.x / 2.x / 3.x)\n`);
  }
}

/** What a 2xx answer gave back. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
  headers: Headers;
}

export class InfluxHttp {
  readonly opts: InfluxOptions;
  /** The base URL without credentials, query or trailing slash: what messages show. */
  readonly endpoint: string;
  private readonly base: URL;
  private readonly auth: string | undefined;
  private readonly secrets: string[];

  constructor(opts: InfluxOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new UserError(
        `InfluxDB.URL: expected an http(s) URL such as http://127.0.0.1:8086, got an invalid URL`,
      );
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new UserError(`InfluxDB.URL: expected an http or https URL, got ${u.protocol.replace(':', '')}`);
    }
    const username = opts.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = opts.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    if (!u.pathname.endsWith('/')) u.pathname += '/';
    this.base = u;
    this.endpoint = u.href.replace(/\/$/, '');
    this.opts = { ...opts, username, password };
    this.auth = chooseAuth({ username, password, token: opts.token }).header;
    this.secrets = [opts.token, password, this.auth?.split(' ')[1]].filter((s): s is string => Boolean(s));
  }

  /** Scrub secrets from text that came from the server or the network stack. */
  scrub(text: string): string {
    return redact(text, this.secrets);
  }

  /**
   * One request, no retries. Resolves with a 2xx answer; anything else throws TelemetryError.
   * `signal` aborts early (shutdown); the timeout covers connect, headers and body.
   */
  async request(
    method: 'GET' | 'POST',
    path: 'write' | 'query' | 'ping',
    params: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.auth) headers.Authorization = this.auth;
    if (body !== undefined) headers['Content-Type'] = 'text/plain; charset=utf-8';
    const where = `InfluxDB ${this.endpoint} /${path}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = anySignal(timeout, signal);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body, signal: both.signal, redirect: 'error' });
      text = await readCapped(res, this.opts.maxAnswerBytes ?? MAX_ANSWER_BYTES, where);
    } catch (e) {
      if (e instanceof TelemetryError) throw e;
      throw this.networkError(where, e, timeout.aborted);
    } finally {
      both.dispose();
    }
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status >= 200 && res.status < 300)
      return { status: res.status, contentType, body: text, headers: res.headers };
    const reason = this.scrub(errorBodyText(text));
    const st = res.status;
    const msg = `${where}: HTTP ${st}${reason ? `: ${reason}` : ''}`;
    if (st === 401 || st === 403)
      throw new TelemetryError('auth', `${msg} (check InfluxDB.Token or Username/Password)`, st);
    if (st === 404) throw new TelemetryError('not_found', msg, st);
    if (st === 400 || st === 413 || st === 422) throw new TelemetryError('bad_request', msg, st);
    if (st === 429 || st >= 500) {
      const err = new TelemetryError('server', msg, st);
      err.retryAfterMs = retryAfterMs(res.headers.get('retry-after'), Date.now());
      throw err;
    }
    throw new TelemetryError('garbage', `${msg} (unexpected status for the InfluxDB v1 API)`, st);
  }

  /** request() with retries on retryable failures, backing off exponentially. */
  async requestWithRetry(
    method: 'GET' | 'POST',
    path: 'write' | 'query' | 'ping',
    params: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(method, path, params, body, signal);
      } catch (e) {
        if (
          !(e instanceof TelemetryError) ||
          !e.retryable ||
          attempt >= this.opts.retries ||
          signal?.aborted
        ) {
          if (e instanceof TelemetryError && attempt > 0) {
            throw new TelemetryError(e.kind, `${e.message} (after ${attempt + 1} attempts)`, e.status);
          }
          throw e;
        }
        // the server's Retry-After is honoured within the back-off bounds: never less than the schedule's
        // wait, never more than its last (a server cannot park the client for an hour)
        const backoff = this.opts.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        const longest = this.opts.backoffMs * 2 ** this.opts.retries;
        const wait = Math.min(Math.max(backoff, e.retryAfterMs ?? 0), Math.max(backoff, longest));
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          throw e; // aborted while waiting: report the failure we have
        }
      }
    }
  }

  /** `/ping`: the server version from X-Influxdb-Version (1.x, 2.x) or null when it does not say. */
  async ping(signal?: AbortSignal): Promise<string | null> {
    const a = await this.request('GET', 'ping', {}, undefined, signal);
    if (a.status !== 204 && a.status !== 200) {
      throw new TelemetryError(
        'garbage',
        `InfluxDB ${this.endpoint} /ping: expected 204, got ${a.status}`,
        a.status,
      );
    }
    return a.headers.get('x-influxdb-version');
  }

  private networkError(where: string, e: unknown, timedOut: boolean): TelemetryError {
    if (timedOut)
      return new TelemetryError('timeout', `${where}: no answer within ${this.opts.timeoutMs} ms`);
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err?.name === 'AbortError') return new TelemetryError('unreachable', `${where}: request aborted`);
    const code = err?.cause?.code;
    if (code === 'UND_ERR_HEADERS_OVERFLOW' || code?.startsWith('HPE_')) {
      return new TelemetryError('garbage', `${where}: the answer is not valid HTTP (is this an InfluxDB?)`);
    }
    const why =
      code === 'ECONNREFUSED'
        ? 'connection refused (is InfluxDB running at this address?)'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host not found'
          : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
            ? 'connection reset by the server'
            : (code ?? err?.cause?.message ?? err?.message ?? String(e));
    return new TelemetryError('unreachable', this.scrub(`${where}: ${why}`));
  }
}

/**
 * The body as text, at most `max` bytes: a larger answer (a Content-Length over it, or the stream
 * passing it) is cancelled and fails with one line, instead of being buffered whole.
 */
async function readCapped(res: Response, max: number, where: string): Promise<string> {
  const tooBig = () =>
    new TelemetryError(
      'garbage',
      `${where}: answer larger than ${max} bytes (is this an InfluxDB? a query too wide?)`,
    );
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks)); // as res.text(): UTF-8, a leading BOM dropped
}

/** Retry-After (seconds, or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
function retryAfterMs(v: string | null, now: number): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

/** A signal aborted when either is; `dispose` removes the listeners (b may live long). */
function anySignal(a: AbortSignal, b?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  if (!b) return { signal: a, dispose: () => {} };
  const c = new AbortController();
  const abort = () => c.abort();
  if (a.aborted || b.aborted) c.abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return {
    signal: c.signal,
    dispose: () => {
      a.removeEventListener('abort', abort);
      b.removeEventListener('abort', abort);
    },
  };
}

/** The reason in an error body: 1.x `{"error": ...}`, 2.x `{"message": ...}`, else the text's first line. */
function errorBodyText(text: string): string {
  const t = text.trim();
  if (!t) return '';
  try {
    const j = JSON.parse(t) as { error?: unknown; message?: unknown };
    if (typeof j?.error === 'string') return oneLine(j.error);
    if (typeof j?.message === 'string') return oneLine(j.message);
  } catch {}
  return oneLine(t);
}

function oneLine(s: string, max = 200): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
