import type { Batch } from '../dataset.js';
import type { Forecast, Forecaster, TrainData } from '../forecaster.js';
import { ResidualBand, residuals } from './band.js';

/**
 * A forecaster whose point forecast is a fixed rule on the busy series; fit() only calibrates the band.
 */
export abstract class SeriesRule implements Forecaster {
  abstract readonly name: string;
  band: ResidualBand | null = null;

  /** p50 (B, H) for a batch. */
  protected abstract point(batch: Batch): Float32Array;

  async fit(train: TrainData): Promise<void> {
    const res = await residuals((b) => this.point(b), train.data, train.valid);
    this.band = ResidualBand.fromResiduals(res, train.data.horizon);
  }

  predict(batch: Batch): Forecast {
    const p50 = this.point(batch);
    if (!this.band) return { p50 };
    return { p50, ...this.band.apply(p50, batch.H, batch.data.capacity) };
  }
}
