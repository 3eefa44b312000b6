import { type Advice, type AdviseInput, type AdvisePolicyName, planAdvice } from '../advise.js';
import { type ForecastInput, ForecastUnavailable } from '../forecast-input.js';

/**
 * One decision, as `pcm power advise` and every interval of `pcm power run` take it: get the forecast
 * (predictive), plan with `planAdvice` (the one decision code), and when no forecast is usable (service
 * unreachable or answering an error, no minute in the boot horizon, or marked stale by the service when
 * `staleIsUnavailable`) fall back to the reactive rule if `fallback` allows, saying why in `fallback`.
 * A refused token or a malformed answer is not an outage: it propagates (a configuration error).
 */
export interface DecideInput extends Omit<AdviseInput, 'forecast' | 'policy'> {
  policy: AdvisePolicyName;
  getForecast: () => Promise<ForecastInput>;
  fallback: boolean;
  staleIsUnavailable?: boolean;
}

export interface Decision {
  adv: Advice;
  /** Why the reactive rule decided instead of the forecast, or null. */
  fallback: string | null;
  /** The forecast used (null: reactive by choice, or fallen back). */
  forecast: ForecastInput | null;
}

export async function decide(d: DecideInput): Promise<Decision> {
  const { getForecast, fallback, staleIsUnavailable, policy, ...rest } = d;
  if (policy === 'reactive') return { adv: planAdvice({ ...rest, policy }), fallback: null, forecast: null };
  let forecast: ForecastInput | null = null;
  try {
    forecast = await getForecast();
    if (staleIsUnavailable && forecast.stale)
      throw new ForecastUnavailable(`forecast from ${forecast.source} is marked stale by the service`);
    return { adv: planAdvice({ ...rest, policy, forecast }), fallback: null, forecast };
  } catch (e) {
    if (!(e instanceof ForecastUnavailable) || !fallback) throw e;
    const why = e.reason;
    const adv = planAdvice({ ...rest, policy: 'reactive' });
    adv.warnings.unshift(`${why}: falling back to the reactive rule (idle time from LastBusyTime)`);
    return { adv, fallback: why, forecast: null };
  }
}
