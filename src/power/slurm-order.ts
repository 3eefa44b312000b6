/**
 * The order in which Slurm 22.05's select/cons_tres gives whole nodes to a job, as measured on the test
 * Slurm (test/integration/slurm-allocation-order.test.ts; docs/power.md, "Where Slurm places jobs among
 * powered, booting and powered-down nodes"):
 *
 * - powered nodes, idle or booting alike, before powered-down ones (a separate, heavier group);
 * - within a group, runs of consecutive node ids: the smallest run that holds all the nodes still needed
 *   (lowest ids first within it; the lowest such run on a tie); when no run is big enough, the largest run
 *   whole (the lowest on a tie), then again for the rest.
 */

/** The nodes of the runs of set members (`member[i]` != 0) chosen for `need` nodes, written to `out`. */
export function pickRuns(member: Uint8Array, need: number, out: number[]): void {
  const starts: number[] = [];
  const lens: number[] = [];
  for (let i = 0; i < member.length; ) {
    if (!member[i]) {
      i++;
      continue;
    }
    const s = i;
    while (i < member.length && member[i]) i++;
    starts.push(s);
    lens.push(i - s);
  }
  let rem = need;
  while (rem > 0) {
    let best = -1;
    let bestOk = false;
    for (let r = 0; r < lens.length; r++) {
      const len = lens[r];
      if (len === 0) continue;
      const ok = len >= rem;
      if (best < 0 || (ok && !bestOk) || (ok && len < lens[best]) || (!ok && !bestOk && len > lens[best])) {
        best = r;
        bestOk = ok;
      }
    }
    if (best < 0) return;
    const take = Math.min(rem, lens[best]);
    for (let k = 0; k < take; k++) out.push(starts[best] + k);
    lens[best] = 0;
    rem -= take;
  }
}
