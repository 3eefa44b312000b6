/**
 * Median and min wall time of `reps` runs after one warm-up, in ms, and the median CPU time of this process
 * over the same runs (user + system): on a shared machine, CPU time is what the run would take alone, wall
 * time includes waiting for a core (single-threaded sections only).
 */
export function timeRuns(run: () => void, reps: number): { med: number; min: number; cpu: number } {
  run();
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { med: ms[ms.length >> 1], min: ms[0], cpu: cpu[cpu.length >> 1] };
}
