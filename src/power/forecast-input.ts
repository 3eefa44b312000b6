import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage, InputError, UserError } from '../util/errors.js';
import { ForecastPeak } from './forecast-peak.js';

/**
 * The forecast a live power decision reads: the service's answer (`GET /forecast/latest`, with its bearer
 * token) or a saved copy of it, validated with errors that name the field, and turned into the warm pool's
 * demand outlook (./forecast-peak.ts) exactly as the replay reads its own forecasts.
 */

/** The part of the service's forecast answer advise reads (src/service/schemas.ts). */
const ForecastSchema = z.looseObject({
  origin: z.string().optional(),
  cluster: z.string().optional(),
  partition: z.string().optional(),
  timestamps: z.array(z.string()).min(1),
  p90: z.array(z.number()).min(1),
  p50: z.array(z.number()).optional(),
  /** The forecaster's calibrated peak band at this origin (./peak-band.ts): offsets for windows of 1..H minutes. */
  peak_band: z
    .object({
      quantile: z.number(),
      bin: z.number().int().min(0),
      offsets: z.array(z.number()).min(1),
    })
    .optional(),
  forecast: z.looseObject({ stale: z.boolean().optional(), computed_at: z.string().optional() }).optional(),
});

export interface ForecastInput {
  source: string;
  origin: string | null;
  /** Epoch seconds of each forecast minute (one minute apart, the first one minute after the origin). */
  times: number[];
  p50: number[] | null;
  p90: number[];
  /** Calibrated peak band for the origin's activity bin, when the forecast carries one. */
  peakBand: { quantile: number; bin: number; offsets: number[] } | null;
  stale: boolean;
}

/** Validate a forecast JSON (the service's answer or a saved copy); errors name the field. */
export function parseForecast(json: unknown, source: string): ForecastInput {
  const r = ForecastSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InputError(
      `${source}: ${i.path.join('.') || 'forecast'}: ${i.message} (expected the service's forecast JSON)`,
    );
  }
  const f = r.data;
  if (f.timestamps.length !== f.p90.length) {
    throw new InputError(`${source}: p90 has ${f.p90.length} values for ${f.timestamps.length} timestamps`);
  }
  const times = f.timestamps.map((t, i) => {
    const ms = Date.parse(t);
    if (!Number.isFinite(ms))
      throw new InputError(`${source}: timestamps[${i}]: expected an ISO 8601 time, got '${t}'`);
    return ms / 1000;
  });
  const check = (name: string, a: number[]) =>
    a.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0)
        throw new InputError(`${source}: ${name}[${i}]: expected a number >= 0, got ${v}`);
    });
  check('p90', f.p90);
  if (f.p50) {
    if (f.p50.length !== f.p90.length)
      throw new InputError(`${source}: p50 has ${f.p50.length} values for ${f.p90.length} p90 values`);
    check('p50', f.p50);
  }
  if (f.peak_band) {
    if (!f.p50) throw new InputError(`${source}: peak_band: needs p50 (the band is added to the p50 peak)`);
    if (f.peak_band.offsets.length !== f.p50.length)
      throw new InputError(
        `${source}: peak_band.offsets has ${f.peak_band.offsets.length} values for ${f.p50.length} p50 values`,
      );
    f.peak_band.offsets.forEach((v, i) => {
      if (!Number.isFinite(v))
        throw new InputError(`${source}: peak_band.offsets[${i}]: expected a number, got ${v}`);
    });
  }
  for (let i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] !== 60)
      throw new InputError(
        `${source}: timestamps[${i}]: expected one minute after timestamps[${i - 1}], got ${f.timestamps[i]}`,
      );
  }
  return {
    source,
    origin: f.origin ?? null,
    times,
    p50: f.p50 ?? null,
    p90: f.p90,
    peakBand: f.peak_band ?? null,
    stale: f.forecast?.stale === true,
  };
}

/** The forecast as the warm pool's outlook (./forecast-peak.ts): origin one minute before the first minute. */
export function forecastOutlook(f: ForecastInput): ForecastPeak {
  const b = f.peakBand;
  const peak = new ForecastPeak(
    b ? { H: b.offsets.length, at: (_bin, steps) => b.offsets[steps - 1] } : null,
  );
  peak.set(f.times[0] - 60, f.p50 ?? f.p90, f.p90, b?.bin ?? 0);
  return peak;
}

/** A saved forecast; a file not there (yet) or unreadable is no usable forecast (`ForecastUnavailable`). */
export async function readForecastFile(path: string): Promise<ForecastInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ForecastUnavailable(`--forecast ${path}: cannot read (${errorMessage(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--forecast ${path}: not JSON (${errorMessage(e).split('\n')[0]})`);
  }
  return parseForecast(json, path);
}

/**
 * No usable forecast: the service is unreachable, answered an error, the forecast is stale, or the saved file
 * is not there (the `--fallback` trigger). `reason` says which; the message adds what to do about it.
 */
export class ForecastUnavailable extends UserError {
  constructor(readonly reason: string) {
    super(`${reason}; try --fallback reactive`);
  }
}

/** The service refused us (HTTP 401/403): a configuration error, never a reason to fall back. */
export class ForecastAuthError extends UserError {}

/**
 * The service's latest forecast. `token` (see service-token.ts) is sent as `Authorization: Bearer` for a
 * service with Service.RequireAuthForReads. A refused token is a configuration error, not an outage: a
 * plain UserError (no fallback), naming where the token comes from.
 */
export async function fetchForecast(
  url: string,
  q: { cluster?: string; partition?: string },
  timeoutS: number,
  token?: string,
): Promise<ForecastInput> {
  const u = new URL('/forecast/latest', url);
  if (q.cluster) u.searchParams.set('cluster', q.cluster);
  if (q.partition) u.searchParams.set('partition', q.partition);
  let res: Response;
  try {
    res = await fetch(u, {
      signal: AbortSignal.timeout(timeoutS * 1000),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? errorMessage(e);
    throw new ForecastUnavailable(`prediction service ${u.origin} unreachable (${cause})`);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new ForecastAuthError(
      `prediction service ${u.href}: HTTP ${res.status}: ${token ? 'the bearer token was refused (check PCM_API_TOKEN, Service.ApiToken or Power.Advise.TokenFile against the service)' : 'the service requires a bearer token: set PCM_API_TOKEN, Service.ApiToken or Power.Advise.TokenFile'}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ForecastUnavailable(`prediction service ${u.href}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const msg = (json as { message?: string }).message ?? text.slice(0, 120);
    throw new ForecastUnavailable(`prediction service ${u.href}: HTTP ${res.status}: ${msg}`);
  }
  return parseForecast(json, u.href);
}
