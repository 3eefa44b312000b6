import type { PowerConfig } from '../power/config.js';
import type { ForecastWriter } from '../telemetry/forecast-writer.js';
import type { HubEvents, SeriesId, Snapshot } from './forecast-hub.js';
import { forecastView } from './forecast-view.js';

/**
 * The hub's forecasts into InfluxDB (`Service.WriteForecasts` with an InfluxDB configured): each new
 * forecast, as /forecast/latest serves it (P10/P50/P90 per horizon, warm pool, kW), goes to a ForecastWriter
 * (src/telemetry/forecast-writer.ts), which writes it beside the telemetry without holding up the hub.
 */
export class ForecastSink implements HubEvents {
  constructor(
    private readonly writer: ForecastWriter,
    private readonly power: PowerConfig,
  ) {}

  onCompute(_series: SeriesId, snap: Snapshot): void {
    if (snap.status !== 'ok' || !snap.forecast) return;
    const v = forecastView(
      { snap, stale: false, ageS: 0, lastGood: null },
      { power: this.power, fallbackToBaseline: false, now: snap.computedAt, retryAfterS: 0 },
    );
    if (v.status !== 200) return;
    const b = v.body;
    this.writer.push({
      cluster: b.cluster,
      partition: b.partition,
      origin: snap.forecast.origin,
      p10: b.p10,
      p50: b.p50,
      p90: b.p90,
      powerKw: b.power_kw,
      powerKwAllOn: b.power_kw_all_on,
      poweredNodes: b.powered_nodes,
      busyNow: b.busy_now,
      capacity: b.capacity.nodes,
      warmPool: {
        nodes: b.warm_pool.nodes,
        poweredNow: b.warm_pool.powered_now,
        peakP90: b.warm_pool.peak_p90,
        bootMinutes: b.warm_pool.boot_minutes,
      },
      model: b.model.ran,
    });
  }
}
