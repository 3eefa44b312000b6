/**
 * The forecast feed of a predictive live arm: what `pcm collect` + `pcm serve` do on a production cluster, in
 * the trial's compressed time. Every trace minute it reads Slurm's queue (squeue, the fields and parser of
 * `pcm collect`), maps its instants to trace time, builds the minute row the way collect does (a one-row
 * timeline of the queue's records plus the ended jobs it remembers), appends it to the trial's live timeline,
 * forecasts with the trial's forecaster (./forecast.ts) and writes the service's forecast JSON (`origin`,
 * `timestamps`, `p50`, `p90`, `peak_band`) atomically to a file that `pcm power run --forecast` reads.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { JobRecord } from '../../src/jobs/record.js';
import { scaledClock } from '../../src/power/run/clock.js';
import type { SimJob } from '../../src/sim/job.js';
import { EndedJobs } from '../../src/telemetry/collector.js';
import { parseSqueue, runSlurmCommand, squeueArgs } from '../../src/telemetry/slurm.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { EndingTable } from '../../src/timeline/survival.js';
import { onlineTrialForecast, type TrialForecast } from './forecast.js';

const iso = (t: number) => new Date(t * 1000).toISOString();

export class ForecastFeeder {
  private readonly online: ReturnType<typeof onlineTrialForecast>;
  /** Trace time of a wall instant. */
  private readonly trace: (wall: number) => number;
  private readonly ended = new EndedJobs();
  private readonly table = new EndingTable();
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  /** Minutes fed, and the most wall seconds a minute's forecast was written after its minute. */
  fed = 0;
  maxLagS = 0;
  errors: string[] = [];

  /**
   * `jobs`: Slurm job id -> the trace job it runs (its time limit in trace seconds: Slurm's is whole wall
   * minutes); the harness adds each id as it submits.
   */
  constructor(
    readonly tf: TrialForecast,
    readonly file: string,
    readonly jobs: Map<string, SimJob>,
    readonly clock: { origin: number; wallStart: number; scale: number },
  ) {
    // the controller's own mapping of Slurm's wall instants to trace time
    this.trace = scaledClock(clock.scale, clock.origin, clock.wallStart).fromSlurm;
    this.online = onlineTrialForecast(tf);
    const first = tf.history.start + 60 * tf.history.minutes;
    if (first !== clock.origin)
      throw new Error(`feeder: history ends at ${first}, the slice starts at ${clock.origin}`);
  }

  /**
   * Feed every trace minute from the slice's start until `stop`. The slice's first minute is fed at once
   * (nothing is submitted before it), so that a controller started ahead of it finds a forecast.
   */
  start(): void {
    const tick = () => {
      const m = this.fed;
      const due = this.clock.wallStart + (60 * m) / this.clock.scale;
      const wait = m === 0 ? 0 : Math.max(0, due * 1000 - Date.now());
      this.timer = setTimeout(() => {
        this.busy = this.feed(this.clock.origin + 60 * m)
          .catch((e) => {
            this.errors.push(String(e));
          })
          .then(() => {
            if (m > 0) this.maxLagS = Math.max(this.maxLagS, Date.now() / 1000 - due);
            this.fed++;
            if (this.timer !== null) tick();
          });
      }, wait);
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.busy;
  }

  /** The row of trace minute t from Slurm's queue, then the forecast from it. */
  private async feed(t: number): Promise<void> {
    const wallNow = Date.now() / 1000;
    const text = await runSlurmCommand('squeue', squeueArgs());
    const { jobs } = parseSqueue(text, wallNow);
    const f = (x: number | null) => (x === null ? null : this.trace(x));
    const records: JobRecord[] = [];
    for (const j of jobs) {
      const sim = this.jobs.get(j.id);
      if (!sim) continue;
      // whole-node jobs of the trace: cpus as the twin counts them; the trace's own limit
      records.push({
        ...j,
        submit: f(j.submit),
        eligible: f(j.eligible),
        start: f(j.start),
        end: f(j.end),
        nodes: sim.nodes,
        cpus: sim.cpus,
        timeLimit: sim.limit,
      });
    }
    const row = buildTimeline(this.ended.remembered(records, t), {
      capacity: this.tf.nodes,
      totalCpus: this.tf.nodes,
      start: t,
      end: t + 60,
      endingTable: this.table,
    });
    const { live, features, forecast } = this.online;
    live.append(row, 0, t);
    features.update();
    await forecast.update();
    const c = forecast.outlook.current();
    if (!c) return;
    const H = c.p50.length;
    const body = {
      origin: iso(c.origin),
      timestamps: Array.from({ length: H }, (_, h) => iso(c.origin + 60 * (h + 1))),
      p50: c.p50,
      p90: c.p90 ?? c.p50,
      peak_band: this.tf.band.atOrigin(live.cols.submitted_last_min, live.minutes - 1),
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, this.file);
  }
}
