import type { LiveTimeline } from '../timeline/live-timeline.js';
import { resized } from '../util/typed-array.js';
import {
  clusterColumns,
  DAY_MINUTES,
  type FeatureMatrix,
  type FeatureOptions,
  type FeatureSpec,
  featureRow,
  featureSpec,
  holidayDays,
  localEpochMinutes,
  WEEK_MINUTES,
} from './features.js';

/**
 * The feature matrix of a LiveTimeline, grown one row per written timeline row by featureRow (./features.ts):
 * row m reads timeline rows <= m only. The local time of the rows is looked up a week at a time (it is the
 * clock, known ahead).
 */
export class LiveFeatures {
  readonly spec: FeatureSpec;
  readonly F: number;
  data: Float32Array;
  minutes = 0;
  /** Local epoch minutes and holiday flags of rows [calFrom, calFrom + length). */
  private localMin: Float64Array = new Float64Array(0);
  private holiday: Uint8Array = new Uint8Array(0);
  private calFrom = 0;

  constructor(
    readonly live: LiveTimeline,
    opts: FeatureOptions,
  ) {
    this.spec = featureSpec(opts);
    this.F = this.spec.names.length;
    this.data = new Float32Array(this.F * 1024);
  }

  /** Compute the feature row of the newest timeline row. */
  update(): void {
    const m = this.live.minutes - 1;
    if (m !== this.minutes) throw new Error(`live features: row ${m} after ${this.minutes - 1}`);
    const F = this.F;
    if ((m + 1) * F > this.data.length)
      this.data = resized(this.data, Math.max((m + 1) * F, 2 * this.data.length));
    if (m >= this.calFrom + this.localMin.length) this.calendarWeek(m);
    const tl = this.live;
    const k = m - this.calFrom;
    featureRow(
      this.data,
      m * F,
      clusterColumns(tl.cols),
      tl.cols.busy_nodes,
      m,
      tl.capacity > 0 ? tl.capacity : 1,
      tl.totalCpus > 0 ? tl.totalCpus : 1,
      this.spec.historyLead,
      this.localMin[k],
      this.holiday[k],
    );
    this.minutes = m + 1;
  }

  /** Local time and holiday flags of the week of rows starting at row m. */
  private calendarWeek(m: number): void {
    const local = localEpochMinutes(this.live.start + 60 * m, WEEK_MINUTES, this.spec.timeZone);
    const days = holidayDays(this.spec.holidayCountry, local[0], local[WEEK_MINUTES - 1]);
    this.holiday = Uint8Array.from(local, (lm) => (days.has(Math.floor(lm / DAY_MINUTES)) ? 1 : 0));
    this.localMin = local;
    this.calFrom = m;
  }

  /** Rows [from, to) as a FeatureMatrix view. */
  view(from: number, to: number): FeatureMatrix {
    return {
      spec: this.spec,
      minutes: to - from,
      F: this.F,
      data: this.data.subarray(from * this.F, to * this.F),
    };
  }
}
