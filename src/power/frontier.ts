/**
 * Trade-off geometry of power settings: each setting is a point (energy saved %, mean boot wait s). The
 * Pareto frontier keeps the settings no other setting beats on both; curves are read at a given saving or
 * wait by linear interpolation between neighbouring points (NaN outside the range a curve covers).
 */

export interface TradeoffPoint {
  saved_pct: number;
  mean_boot_wait_s: number;
}

/** The points no other point beats (more saving at no more wait, or less wait at no less saving), by saving. */
export function paretoFrontier<P extends TradeoffPoint>(points: readonly P[]): P[] {
  const bySaving = [...points].sort(
    (a, b) => b.saved_pct - a.saved_pct || a.mean_boot_wait_s - b.mean_boot_wait_s,
  );
  const out: P[] = [];
  let bestWait = Number.POSITIVE_INFINITY;
  for (const p of bySaving) {
    // walking down in saving, a point earns its place only by a strictly lower wait than every point above it
    if (p.mean_boot_wait_s < bestWait) {
      out.push(p);
      bestWait = p.mean_boot_wait_s;
    }
  }
  return out.reverse();
}

/** Linear interpolation of `y` at `x` on points sorted by `x` (NaN outside [first x, last x]). */
function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0 || Number.isNaN(x) || x < xs[0] || x > xs[n - 1]) return Number.NaN;
  for (let i = 1; i < n; i++) {
    if (x <= xs[i]) {
      const f = xs[i] === xs[i - 1] ? 1 : (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
      return ys[i - 1] + f * (ys[i] - ys[i - 1]);
    }
  }
  return ys[n - 1];
}

/** A curve's mean boot wait at a given saving (NaN outside the curve's range of savings). */
export function bootWaitAtSaving(curve: readonly TradeoffPoint[], saved: number): number {
  const pts = [...curve].sort((a, b) => a.saved_pct - b.saved_pct);
  return interpolate(
    pts.map((p) => p.saved_pct),
    pts.map((p) => p.mean_boot_wait_s),
    saved,
  );
}

/**
 * A curve's saving at a given mean boot wait (NaN outside its range of waits). Only meaningful on a curve
 * whose saving rises with its wait, as a frontier's and a margin curve's do.
 */
export function savingAtBootWait(curve: readonly TradeoffPoint[], wait: number): number {
  const pts = [...curve].sort((a, b) => a.mean_boot_wait_s - b.mean_boot_wait_s);
  return interpolate(
    pts.map((p) => p.mean_boot_wait_s),
    pts.map((p) => p.saved_pct),
    wait,
  );
}

/** What a user asks of a setting: the most saving within a wait, or the least wait for a saving. */
export type Constraint = { maxBootWaitS: number } | { minSavingPct: number };

/**
 * The frontier point that meets the constraint best: the largest saving with a mean boot wait <= the limit,
 * or the smallest wait with a saving >= the floor. `met` false (and the nearest point) when none meets it.
 */
export function recommend<P extends TradeoffPoint>(
  frontier: readonly P[],
  c: Constraint,
): { point: P; met: boolean } | null {
  if (frontier.length === 0) return null;
  if ('maxBootWaitS' in c) {
    let best: P | null = null;
    for (const p of frontier)
      if (p.mean_boot_wait_s <= c.maxBootWaitS && (!best || p.saved_pct > best.saved_pct)) best = p;
    if (best) return { point: best, met: true };
    const least = frontier.reduce((a, b) => (b.mean_boot_wait_s < a.mean_boot_wait_s ? b : a));
    return { point: least, met: false };
  }
  let best: P | null = null;
  for (const p of frontier)
    if (p.saved_pct >= c.minSavingPct && (!best || p.mean_boot_wait_s < best.mean_boot_wait_s)) best = p;
  if (best) return { point: best, met: true };
  const most = frontier.reduce((a, b) => (b.saved_pct > a.saved_pct ? b : a));
  return { point: most, met: false };
}
