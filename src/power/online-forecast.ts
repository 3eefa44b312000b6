import { Ridge } from '../model/baselines/ridge.js';
import { type Dataset, makeBatch, makeDataset, originsIn } from '../model/dataset.js';
import { buildFeatures, type FeatureOptions, WEEK_MINUTES } from '../model/features.js';
import type { Forecast, Forecaster } from '../model/forecaster.js';
import type { LiveFeatures } from '../model/live-features.js';
import type { LiveTimeline } from '../timeline/live-timeline.js';
import { ForecastPeak } from './forecast-peak.js';
import { activityBin, calibratePeakBand, type PeakBand } from './peak-band.js';
import type { DemandOutlook } from './policies/warm-pool.js';

/**
 * The replay's online forecast: at every minute the forecaster is asked about the newest row of the policy's
 * own live timeline (src/timeline/live-timeline.ts, written from the scheduler's state) and feature matrix
 * (src/model/live-features.ts), handed a dataset that ends at that row, so nothing later exists for it to read
 * (no peeking by construction); plus the calibrated peak band the predictive policy adds to it.
 */

/** Rows a series forecaster (no `window`) gets: a week back covers ridge's lags and seasonal lookups. */
const SERIES_HISTORY_ROWS = WEEK_MINUTES + 1;

/**
 * Forecasts made online: after each new row, predict busy nodes for the next H minutes from a dataset that
 * ends at that row (nothing later exists for the forecaster to read). `peak(now, within)` = the highest p50
 * over the minutes that cover (last row, now + within], plus the calibrated peak band for that many minutes
 * (or, without a band, the highest P90 when the forecaster gives one).
 */
export class OnlineForecast implements DemandOutlook {
  /** The newest forecast, read by the warm pool (the same outlook advise, run and the service read). */
  readonly outlook: ForecastPeak;
  /** The fast path's forecast buffer. */
  private fast: Float32Array = new Float32Array(0);
  /** Forecasts made (one per minute row). */
  calls = 0;

  constructor(
    readonly forecaster: Forecaster,
    readonly live: LiveTimeline,
    readonly features: LiveFeatures,
    readonly horizon: number,
    readonly band: PeakBand | null = null,
  ) {
    this.outlook = new ForecastPeak(band);
  }

  /** Forecast from the newest row (call right after it is written). */
  update(): void | Promise<void> {
    const o = this.live.minutes - 1;
    if (o < 0) return;
    const f: Forecaster = this.forecaster;
    if (f instanceof Ridge && f.models.length === this.horizon) {
      // fast path: Ridge's own forecast of origin o, straight from the growing series (rows <= o only)
      const cap = this.live.capacity;
      // one buffer, overwritten each minute: peak() reads only the newest forecast
      if (this.fast.length !== this.horizon) this.fast = new Float32Array(this.horizon);
      const p50 = this.fast;
      f.forecastInto(this.live.cols.busy_nodes, this.features, o, cap, p50, 0);
      // with a calibrated peak band, peak() reads the p50 alone: the forecaster's own band is not needed
      this.take(f.band && !this.band ? { p50, ...f.band.apply(p50, this.horizon, cap) } : { p50 }, o);
      return;
    }
    const w = (f as Forecaster).window;
    const from = Math.max(0, o + 1 - (w ? w.lookback : SERIES_HISTORY_ROWS));
    const data: Dataset = makeDataset(
      this.live.view(from, o + 1),
      this.features.view(from, o + 1),
      this.horizon,
    );
    const origins = Int32Array.of(o - from);
    const batch = w
      ? makeBatch(data, origins, {
          lookback: w.lookback,
          x: w.scaler ? w.scaler.transform(data.features.data) : data.features.data,
        })
      : makeBatch(data, origins, { withX: false });
    const p = (f as Forecaster).predict(batch);
    if (p instanceof Promise) return p.then((res) => this.take(res, o));
    this.take(p, o);
  }

  private take(res: Forecast, o: number): void {
    this.outlook.set(
      this.live.start + 60 * o,
      res.p50,
      res.p90,
      activityBin(this.live.cols.submitted_last_min, o),
    );
    this.calls++;
  }

  peak(now: number, withinS: number): number {
    return this.outlook.peak(now, withinS);
  }
}

/** The dataset of the first `trainRows` rows of a live timeline (features built in one pass, as a model would). */
function prefixData(
  live: LiveTimeline,
  trainRows: number,
  horizon: number,
  featureOpts: FeatureOptions,
): Dataset {
  const tl = live.view(0, Math.min(trainRows, live.minutes));
  const features = buildFeatures(tl, { ...featureOpts, historyLead: featureOpts.historyLead ?? horizon });
  return makeDataset(tl, features, horizon);
}

/**
 * Fit a forecaster on the first `trainRows` rows of a finished live timeline (time-ordered: the last 20 % of
 * them validate, for ridge's penalty and the calibrated band).
 */
export async function fitOnPrefix(
  f: Forecaster,
  live: LiveTimeline,
  trainRows: number,
  horizon: number,
  featureOpts: FeatureOptions,
): Promise<void> {
  const data = prefixData(live, trainRows, horizon, featureOpts);
  const rows = data.timeline.minutes;
  const validStart = Math.floor(rows * 0.8);
  await f.fit({
    data,
    train: originsIn(0, validStart, horizon),
    valid: originsIn(validStart, rows, horizon),
  });
}

/** Calibrate the peak band of a fitted forecaster on the validation part (last 20 %) of the training prefix. */
export async function calibratePeak(
  f: Forecaster,
  live: LiveTimeline,
  trainRows: number,
  horizon: number,
  featureOpts: FeatureOptions,
  q: number,
): Promise<PeakBand> {
  const data = prefixData(live, trainRows, horizon, featureOpts);
  const rows = data.timeline.minutes;
  return calibratePeakBand(f, data, originsIn(Math.floor(rows * 0.8), rows, horizon), horizon, q);
}
