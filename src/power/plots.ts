import { type LineSeries, lineChart, PALETTE } from '../evaluate/plots.js';
import type { TradeoffPoint } from './frontier.js';
import type { PlanResult } from './plan.js';
import type { CurvePoint, PolicyName, PowerReplayResult } from './replay.js';

/**
 * The replay's figures as SVG (drawn with the evaluator's `lineChart`): powered vs busy nodes over the sample
 * week for one policy, and the energy/delay trade-off of every policy on one chart; a plan's grid and frontier.
 */

/** Powered and busy (allocated) nodes per minute over the sample week; null when the policy has no sample. */
export function sampleWeekChart(res: PowerReplayResult, policy: PolicyName, timeZone = 'UTC'): string | null {
  const s = res.sample[policy];
  if (!s || s.t.length === 0) return null;
  return lineChart({
    title: `${policy}: powered vs busy nodes (${res.nodes} nodes, sample week)`,
    yLabel: 'nodes',
    xAxis: 'time',
    timeZone,
    yMin: 0,
    yMax: res.nodes,
    legend: 'above',
    series: [
      { name: 'powered (on, booting, shutting down)', x: s.t, y: s.powered, color: PALETTE[1] },
      { name: 'busy (allocated to jobs)', x: s.t, y: s.busy, color: PALETTE[0] },
    ],
  });
}

/** Saving (%) against mean boot wait (s) per knob value: the reactive and predictive curves, plus points. */
export function tradeoffChart(res: PowerReplayResult, title = 'Energy saved vs boot wait'): string {
  const curve = (name: string, pts: CurvePoint[], color: string) => {
    const sorted = [...pts].sort((a, b) => a.mean_boot_wait_s - b.mean_boot_wait_s);
    return {
      name,
      x: sorted.map((p) => p.mean_boot_wait_s),
      y: sorted.map((p) => p.saved_pct),
      color,
      markers: true,
    };
  };
  const series = [];
  if (res.curves.reactive.length) {
    series.push(curve('reactive (knob: SuspendTime s)', res.curves.reactive, PALETTE[1]));
  }
  if (res.curves.predictive.length) {
    series.push(curve('predictive (knob: margin nodes)', res.curves.predictive, PALETTE[2]));
  }
  const point = (name: PolicyName, label: string, color: string, dash?: string) => {
    const p = res.policies[name];
    if (p)
      series.push({ name: label, x: [p.mean_boot_wait_s], y: [p.saved_pct], color, markers: true, dash });
  };
  point('oracle', 'oracle (perfect foresight)', PALETTE[4]);
  point('always_on', 'always on', PALETTE[7]);
  series.push({
    name: 'all idle time off, free (bound)',
    x: [0, Math.max(1, ...series.flatMap((s) => Array.from(s.x)))],
    y: [res.all_idle_off_saved_pct, res.all_idle_off_saved_pct],
    color: '#888888',
    markers: false,
    dash: '6 4',
  });
  return savingVsWaitChart(title, series);
}

/** A plan's points on one chart: every static setting, its frontier, the predictive margins, the oracle. */
export function planChart(res: PlanResult, title: string): string {
  const byWait = <P extends TradeoffPoint>(pts: readonly P[]) =>
    [...pts].sort((a, b) => a.mean_boot_wait_s - b.mean_boot_wait_s);
  // a scatter: NaN between points breaks the line, so only the markers are drawn
  const scatter = res.grid.flatMap((p) => [p, null]);
  const series: LineSeries[] = [
    {
      name: 'static settings (SuspendTime x SuspendExcNodes)',
      x: scatter.map((p) => (p ? p.mean_boot_wait_s : Number.NaN)),
      y: scatter.map((p) => (p ? p.saved_pct : Number.NaN)),
      color: '#aaaaaa',
      markers: true,
    },
    {
      name: 'static frontier (best slurm.conf settings)',
      x: byWait(res.frontier).map((p) => p.mean_boot_wait_s),
      y: byWait(res.frontier).map((p) => p.saved_pct),
      color: PALETTE[1],
      markers: true,
    },
  ];
  if (res.predictive.length) {
    const all = res.predictive.flatMap((p) => [p, null]);
    series.push(
      {
        name: 'predictive settings (margin x MinIdleSeconds)',
        x: all.map((p) => (p ? p.mean_boot_wait_s : Number.NaN)),
        y: all.map((p) => (p ? p.saved_pct : Number.NaN)),
        color: '#9fd49f',
        markers: true,
      },
      {
        name: 'predictive frontier',
        x: byWait(res.predictive_frontier).map((p) => p.mean_boot_wait_s),
        y: byWait(res.predictive_frontier).map((p) => p.saved_pct),
        color: PALETTE[2],
        markers: true,
      },
    );
  }
  series.push({
    name: 'oracle (perfect foresight)',
    x: [res.oracle.mean_boot_wait_s],
    y: [res.oracle.saved_pct],
    color: PALETTE[4],
    markers: true,
  });
  if (res.recommendation)
    series.push({
      name: 'recommended',
      x: [res.recommendation.point.mean_boot_wait_s],
      y: [res.recommendation.point.saved_pct],
      color: PALETTE[3],
      markers: true,
      strokeWidth: 4,
    });
  return savingVsWaitChart(title, series, null);
}

/** Saving (%) against mean boot wait (s): the axes every trade-off chart shares. */
function savingVsWaitChart(title: string, series: LineSeries[], yMin: number | null = 0): string {
  return lineChart({
    title,
    xLabel: 'mean boot wait per job (s)',
    yLabel: 'energy saved vs always-on (%)',
    ...(yMin === null ? {} : { yMin }),
    legend: 'bottom-right',
    series,
  });
}
