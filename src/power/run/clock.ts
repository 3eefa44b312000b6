/**
 * The live controller's time. On a production cluster it is the wall clock. For a trial that replays a job
 * trace on a test Slurm in compressed time (bench/studies/live-trial.ts), `scaledClock` maps it: one wall
 * second is `scale` policy seconds from `origin` on, and every instant Slurm reports (LastBusyTime, job
 * submit/start/end) is mapped the same way, so the Power settings (boot, break-even, MinIdleSeconds, users'
 * chain window, rates per minute) keep their trace-time values and the forecast is read in trace time.
 */
export interface RunClock {
  /** Policy time now (epoch s). */
  now(): number;
  /** A Slurm instant (wall epoch s) in policy time. */
  fromSlurm(t: number): number;
  /** Policy seconds per wall second. */
  readonly scale: number;
}

export const wallClock: RunClock = {
  now: () => Date.now() / 1000,
  fromSlurm: (t) => t,
  scale: 1,
};

/** `scale` policy seconds per wall second; policy time `origin` is the wall instant `wallStart`. */
export function scaledClock(
  scale: number,
  origin: number,
  wallStart = Date.now() / 1000,
  wallNow = () => Date.now() / 1000,
): RunClock {
  const map = (wall: number) => origin + (wall - wallStart) * scale;
  return { now: () => map(wallNow()), fromSlurm: map, scale };
}
