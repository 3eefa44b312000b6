import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { type Dataset, makeBatch, makeDataset, originsIn } from '../model/dataset.js';
import { buildFeatures, type FeatureOptions } from '../model/features.js';
import type { Forecaster } from '../model/forecaster.js';
import { openForecaster } from '../model/open.js';
import { calibratePeakBand, type PeakBand, type ServedPeakBand } from '../power/peak-band.js';
import type { Timeline } from '../timeline/columns.js';
import { isoMinute } from '../timeline/csv.js';
import { errorMessage } from '../util/errors.js';

/**
 * What the service runs to forecast: the seam between the forecast hub and the models.
 * `loadForecaster(config)` returns the trained model in `Predictor.CheckpointFile`, or else the
 * `Service.Baseline` baseline (ridge refit on each series' recent history, or persistence / seasonal
 * naive): both are a `Forecaster` (src/model/forecaster.ts), opened by `openForecaster` (src/model/open.ts).
 */
export interface ServedForecast {
  /** (H) busy nodes at minutes 1..H after the origin. */
  p50: Float64Array;
  p10: Float64Array;
  p90: Float64Array;
  /** False when the model has no calibrated band yet (p10 = p90 = p50). */
  banded: boolean;
  /**
   * The calibrated peak band at this origin (power/peak-band.ts): what the power controller adds to the p50
   * peak, as the replay does; null until calibrated (then the controller reads P90).
   */
  peakBand: ServedPeakBand | null;
  /** What actually ran (e.g. `persistence` when the ridge could not be fitted on a cold start). */
  ran: string;
  /** This run (re)fitted the model first (its time includes the fit). */
  refit: boolean;
}

export interface ModelInfo {
  name: string;
  version: string;
  kind: 'baseline' | 'trained';
  /** Telemetry time of the last row the series' model was fitted on (baselines). */
  fitted_through: string | null;
  fit_minutes: number | null;
}

export interface ServingModel {
  readonly name: string;
  readonly kind: 'baseline' | 'trained';
  /** A trained model's directory (its history.json, training curves); none for baselines. */
  readonly dir?: string;
  /** Minutes of history the model wants as input (at least the lookback). */
  readonly contextMinutes: number;
  /**
   * Forecast from a gapless minute grid `tl` whose last row is the origin. `key` names the series: fitted
   * state (baselines) is kept per series.
   */
  forecast(key: string, tl: Timeline, horizon: number): Promise<ServedForecast>;
  info(key: string): ModelInfo;
}

/** Fewest history minutes for a ridge fit (its 36 columns need enough samples); below it persistence runs. */
const MIN_RIDGE_MINUTES = 240;

/** Point forecast and band of one origin (the last row) from a fitted Forecaster. */
async function runForecaster(
  f: Forecaster,
  tl: Timeline,
  horizon: number,
  feat: FeatureOptions,
): Promise<{ p50: Float64Array; p10: Float64Array; p90: Float64Array; banded: boolean }> {
  const features = buildFeatures(tl, { ...feat, historyLead: horizon });
  const data = makeDataset(tl, features, horizon);
  const origin = Int32Array.of(tl.minutes - 1);
  const w = f.window;
  const x = w ? (w.scaler ? w.scaler.transform(features.data) : features.data) : undefined;
  const batch = makeBatch(data, origin, { withX: Boolean(w), lookback: w?.lookback, x });
  const out = await f.predict(batch);
  const p50 = Float64Array.from(out.p50.subarray(0, horizon));
  const banded = Boolean(out.p10 && out.p90);
  return {
    p50,
    p10: banded ? Float64Array.from(out.p10!.subarray(0, horizon)) : p50.slice(),
    p90: banded ? Float64Array.from(out.p90!.subarray(0, horizon)) : p50.slice(),
    banded,
  };
}

type BaselineName = Config['Service']['Baseline'];

/** The service's ridge: at most 20,000 training rows per fit (it refits per series every Service.RefitMinutes). */
const SERVICE_RIDGE = { maxTrainRows: 20_000 };

interface Fitted {
  f: Forecaster;
  /** Calibrated on the validation origins of the fit (null when there were none). */
  band: PeakBand | null;
  /** Epoch s of the last row fitted on. */
  through: number;
  minutes: number;
}

/** Calibrate the peak band on `valid` origins; null when there are none or it cannot be made. */
async function peakBandOn(
  f: Forecaster,
  data: Dataset,
  valid: Int32Array,
  horizon: number,
  q: number | null,
): Promise<PeakBand | null> {
  if (valid.length === 0 || q === null) return null;
  try {
    return await calibratePeakBand(f, data, valid, horizon, q);
  } catch (e) {
    process.emitWarning(`peak band not calibrated (${errorMessage(e)})`);
    return null;
  }
}

/**
 * A baseline fitted per series on the context it is given: 80 % of the origins fit, the last 20 %
 * calibrate the P10/P90 band and the power controller's peak band; refit when the data has moved on by `refitMinutes`. A ridge that cannot be
 * fitted yet (cold start) falls back to persistence, and says so in `ran`.
 */
export class BaselineModel implements ServingModel {
  readonly kind = 'baseline' as const;
  private readonly fitted = new Map<string, Fitted>();
  constructor(
    readonly name: BaselineName,
    readonly contextMinutes: number,
    private readonly refitMinutes: number,
    private readonly feat: FeatureOptions,
    /** Power.Predictive.PeakQuantile: the peak band's quantile (null: no peak band). */
    private readonly peakQuantile: number | null = null,
  ) {}

  async forecast(key: string, tl: Timeline, horizon: number): Promise<ServedForecast> {
    const end = tl.start + 60 * (tl.minutes - 1);
    let fit = this.fitted.get(key);
    const refit = !fit || end - fit.through >= 60 * this.refitMinutes || end < fit.through;
    if (refit || !fit) {
      fit = await this.fit(tl, horizon);
      this.fitted.set(key, fit);
    }
    const r = await runForecaster(fit.f, tl, horizon, this.feat);
    const peakBand =
      fit.band?.H === horizon ? fit.band.atOrigin(tl.columns.submitted_last_min, tl.minutes - 1) : null;
    return { ...r, peakBand, ran: fit.f.name, refit };
  }

  private async fit(tl: Timeline, horizon: number): Promise<Fitted> {
    const through = tl.start + 60 * (tl.minutes - 1);
    const name = tl.minutes >= MIN_RIDGE_MINUTES ? this.name : 'persistence';
    const f = openForecaster({ baseline: name, ridge: SERVICE_RIDGE });
    const data = makeDataset(tl, buildFeatures(tl, { ...this.feat, historyLead: horizon }), horizon);
    const n = tl.minutes;
    const validStart = n - Math.max(1, Math.round(0.2 * n));
    const train = originsIn(0, validStart, horizon);
    const valid = originsIn(validStart, n, horizon);
    const q = this.peakQuantile;
    try {
      await f.fit({ data, train, valid });
      return { f, band: await peakBandOn(f, data, valid, horizon, q), through, minutes: n };
    } catch (e) {
      if (name === 'persistence') throw e;
      // not enough data for the ridge yet: persistence until the next refit
      const p = openForecaster({ baseline: 'persistence' });
      await p.fit({ data, train, valid });
      process.emitWarning(`baseline ${name} not fitted (${errorMessage(e)}); serving persistence`);
      return { f: p, band: await peakBandOn(p, data, valid, horizon, q), through, minutes: n };
    }
  }

  info(key: string): ModelInfo {
    const fit = this.fitted.get(key);
    return {
      name: fit ? fit.f.name : this.name,
      version: fit ? `baseline:${fit.f.name}@${isoMinute(fit.through)}` : `baseline:${this.name}`,
      kind: 'baseline',
      fitted_through: fit ? isoMinute(fit.through) : null,
      fit_minutes: fit ? fit.minutes : null,
    };
  }
}

/**
 * A trained model loaded from a directory: fitted once, the same for every series. Its peak band is
 * calibrated per series on the last 20 % of the context's origins, again every `refitMinutes`.
 */
class TrainedModel implements ServingModel {
  readonly kind = 'trained' as const;
  private readonly bands = new Map<string, { band: PeakBand | null; through: number }>();
  constructor(
    private readonly f: Forecaster,
    readonly dir: string,
    readonly contextMinutes: number,
    private readonly feat: FeatureOptions,
    private readonly refitMinutes: number,
    private readonly peakQuantile: number,
  ) {}
  get name(): string {
    return this.f.name;
  }
  async forecast(key: string, tl: Timeline, horizon: number): Promise<ServedForecast> {
    const end = tl.start + 60 * (tl.minutes - 1);
    let b = this.bands.get(key);
    if (!b || end - b.through >= 60 * this.refitMinutes || end < b.through) {
      const data = makeDataset(tl, buildFeatures(tl, { ...this.feat, historyLead: horizon }), horizon);
      const n = tl.minutes;
      const valid = originsIn(n - Math.max(1, Math.round(0.2 * n)), n, horizon);
      b = { band: await peakBandOn(this.f, data, valid, horizon, this.peakQuantile), through: end };
      this.bands.set(key, b);
    }
    const peakBand =
      b.band?.H === horizon ? b.band.atOrigin(tl.columns.submitted_last_min, tl.minutes - 1) : null;
    return {
      ...(await runForecaster(this.f, tl, horizon, this.feat)),
      peakBand,
      ran: this.f.name,
      refit: false,
    };
  }
  info(): ModelInfo {
    return {
      name: this.f.name,
      version: `model:${this.f.name}@${this.dir}`,
      kind: 'trained',
      fitted_through: null,
      fit_minutes: null,
    };
  }
}

/**
 * The model the config asks for: the trained model in `Predictor.CheckpointFile` when that directory
 * exists and this build can load it, else the `Service.Baseline` baseline. `onNote` hears why.
 */
export async function loadForecaster(
  cfg: Config,
  onNote: (msg: string) => void = () => {},
): Promise<ServingModel> {
  const context = Math.max(cfg.Service.ContextMinutes, cfg.Predictor.LookbackMinutes);
  const feat: FeatureOptions = { timeZone: cfg.Cluster.TimeZone, holidayCountry: cfg.Cluster.HolidayCountry };
  const dir = cfg.Predictor.CheckpointFile;
  if (dir && existsSync(dir)) {
    try {
      const f = openForecaster({ dir });
      const lookback = f.window?.lookback ?? cfg.Predictor.LookbackMinutes;
      return new TrainedModel(
        f,
        dir,
        Math.max(context, lookback),
        feat,
        cfg.Service.RefitMinutes,
        cfg.Power.Predictive.PeakQuantile,
      );
    } catch (e) {
      onNote(`model ${dir} not loaded (${errorMessage(e)}); serving the ${cfg.Service.Baseline} baseline`);
    }
  }
  return new BaselineModel(
    cfg.Service.Baseline,
    context,
    cfg.Service.RefitMinutes,
    feat,
    cfg.Power.Predictive.PeakQuantile,
  );
}
