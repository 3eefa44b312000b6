/**
 * Power-control acceptance on real traces (issue 6): replay each trace under always-on, reactive (Slurm
 * power_save), predictive (ridge forecast, fitted on the first 20 % of the trace) and oracle, with 125 W idle /
 * 250 W busy / 10 W off / 250 W boot, 300 s boots, 30 s shutdowns, and check
 *   - the reference facts: all-idle-off bound (~16 % KTH, ~8 % SDSC/CTC); oracle within ~1 point of it at zero
 *     added wait; a 60 s reactive timeout at ~98 % of the oracle's saving, with hundreds of seconds of boot wait;
 *   - the target: predictive >= 90 % of the oracle's saving with a mean boot wait <= 25 % of the reactive
 *     timeout's that saves as much.
 * Also prints the wall time of each policy run (one year of KTH under one policy should take seconds).
 *
 *   node --import tsx bench/studies/power-replay.ts [--out DIR] [--jitter K] TRACE_DIR | TRACE:NODES ...
 *
 * TRACE_DIR stands for the three logs of the issue in it (POWER_LOGS in bench/lib/traces.ts, ppn 1).
 * Defaults: 3 jitter seeds, out pcm-power-bench in the system's temp folder. Acknowledgements (Parallel Workloads Archive): KTH SP2 log by Lars Malinowsky (KTH);
 * SDSC SP2 log by Victor Hazlewood (SDSC); CTC SP2 log by Dan Dwyer and Steve Hotovy (Cornell Theory Center).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ridge } from '../../src/model/baselines/ridge.js';
import { PowerSim } from '../../src/power/cluster.js';
import { PowerSchema } from '../../src/power/config.js';
import { sampleWeekChart, tradeoffChart } from '../../src/power/plots.js';
import { AlwaysOn } from '../../src/power/policies/always-on.js';
import { chainsFromConfig } from '../../src/power/policies/user-chains.js';
import { DEFAULT_SWEEP, POLICY_NAMES, powerReplay } from '../../src/power/replay.js';
import { energyJ, powerModelFromConfig } from '../../src/power/watts.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { openReplayTrace, powerTraceSpecs } from '../lib/traces.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let out = join(tmpdir(), 'pcm-power-bench');
  let jitter = 3;
  const traces: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = args[++i];
    else if (args[i] === '--jitter') jitter = Number(args[++i]);
    else traces.push(args[i]);
  }
  const cfg = PowerSchema.parse({});
  const model = powerModelFromConfig(cfg);
  for (const spec of powerTraceSpecs(
    traces,
    import.meta.url,
    '[--out DIR] [--jitter K] TRACE_DIR | TRACE:NODES ...',
  )) {
    const { name, nodes, src, jobs } = await openReplayTrace(spec);
    const t0 = performance.now();
    let last = t0;
    let prev = '';
    const times: string[] = [];
    const res = await powerReplay({
      jobs,
      nodes,
      totalCpus: nodes,
      model,
      reactive: cfg.Reactive,
      predictive: {
        margin: cfg.WarmPoolMargin,
        peakQuantile: cfg.Predictive.PeakQuantile,
        intervalS: cfg.Predictive.IntervalSeconds,
        minIdleS: cfg.Predictive.MinIdleSeconds,
        chains: chainsFromConfig(cfg.Predictive),
      },
      policies: POLICY_NAMES,
      forecaster: { make: () => new Ridge(), fit: true },
      features: { timeZone: src.meta.timeZone ?? 'UTC' },
      jitterSeeds: jitter,
      sweep: DEFAULT_SWEEP,
      onProgress: (what) => {
        const now = performance.now();
        if (prev) times.push(`${prev} ${((now - last) / 1000).toFixed(1)}s`);
        [prev, last] = [what, now];
      },
    });
    const total = (performance.now() - t0) / 1000;
    times.push(`${prev} ${((performance.now() - last) / 1000).toFixed(1)}s`);
    const dir = join(out, name);
    const { sample, ...summary } = res;
    await writeFileAtomic(join(dir, 'power.json'), `${JSON.stringify(summary, null, 2)}\n`);
    for (const p of POLICY_NAMES) {
      const svg = sampleWeekChart(res, p, src.meta.timeZone ?? 'UTC');
      if (svg) await writeFileAtomic(join(dir, `week-${p}.svg`), svg);
    }
    await writeFileAtomic(
      join(dir, 'tradeoff.svg'),
      tradeoffChart(res, `Energy saved vs boot wait (${name})`),
    );

    const P = res.policies;
    const line = (s: string) => process.stdout.write(`  ${s}\n`);
    process.stdout.write(
      `${name} (${nodes} nodes, ${res.window.jobs} jobs in the evaluation window), ${total.toFixed(0)} s\n`,
    );
    for (const [n, p] of Object.entries(P)) {
      line(
        `${n.padEnd(11)} saved ${p.saved_pct.toFixed(2).padStart(6)} %  off ${p.node_hours_off.toFixed(0).padStart(7)} node-h  boots ${String(p.boots).padStart(6)}  boot wait ${p.mean_boot_wait_s.toFixed(1).padStart(6)} s  added ${p.mean_added_wait_s.toFixed(1)} ± ${p.mean_added_wait_spread_s.toFixed(1)} s  p95 ${p.p95_added_wait_s.toFixed(0)} s  delayed>=300s ${p.jobs_delayed_300s_pct.toFixed(1)} %`,
      );
    }
    for (const [n, pts] of Object.entries(res.curves)) {
      line(
        `curve ${n}: ${pts.map((c) => `${c.knob}:${c.saved_pct.toFixed(2)}%/${c.mean_boot_wait_s.toFixed(0)}s`).join('  ')}`,
      );
    }
    const r60 = res.curves.reactive.find((c) => c.knob === 60);
    const or = P.oracle!;
    // the bound over the whole trace too (the reference facts are for whole traces)
    const whole = (await new PowerSim(jobs, { nodes, model, policy: new AlwaysOn() }).runAll()).seconds;
    const bound = 100 * (1 - energyJ(model, { ...whole, off: whole.idle, idle: 0 }) / energyJ(model, whole));
    line(
      `fact: all idle time off for free saves ${res.all_idle_off_saved_pct.toFixed(2)} % (evaluation window), ${bound.toFixed(2)} % (whole trace)`,
    );
    line(
      `fact: oracle ${or.saved_pct.toFixed(2)} % (${(res.all_idle_off_saved_pct - or.saved_pct).toFixed(2)} points below the bound), boot wait ${or.mean_boot_wait_s} s, added wait ${or.mean_added_wait_s} s`,
    );
    if (r60) {
      line(
        `fact: reactive 60 s saves ${r60.saved_pct.toFixed(2)} % = ${((100 * r60.saved_pct) / or.saved_pct).toFixed(1)} % of the oracle's, boot wait ${r60.mean_boot_wait_s.toFixed(0)} s`,
      );
    }
    const t = res.target!;
    line(
      `target (margin ${P.predictive!.knob?.value}): ${(100 * t.oracle_ratio).toFixed(1)} % of the oracle's saving (>= 90), boot wait ${(100 * t.boot_wait_ratio).toFixed(1)} % of reactive's ${t.reactive_equal_saving_boot_wait_s.toFixed(1)} s at equal saving (<= 25): ${t.met ? 'MET' : 'NOT MET'}`,
    );
    if (t.best_on_curve) {
      const b = t.best_on_curve;
      line(
        `best margin ${b.knob}: ${(100 * b.oracle_ratio).toFixed(1)} % of the oracle's saving, boot wait ${(100 * b.boot_wait_ratio).toFixed(1)} % of reactive's: ${b.met ? 'MET' : 'NOT MET'}`,
      );
    }
    line(`timings: ${times.join('; ')}`);
    line(`wrote ${dir}/power.json, tradeoff.svg, week-*.svg`);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
