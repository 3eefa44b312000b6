/**
 * A planned static power setting as slurm.conf lines (Slurm 22.05 semantics, docs/power.md):
 * - `SuspendTime` is global; a partition's own `SuspendTime` (on its PartitionName line) overrides it.
 * - `SuspendExcNodes=<hostlist>:N` keeps N usable idle nodes of that set powered; several sets are a comma
 *   list. A count of 0, or more than the set has, makes slurmctld ignore every exclusion (only a log line),
 *   so a count of 0 is written as no set at all.
 * - `scontrol update SuspendExcNodes=...` is refused on 22.05: the lines go into slurm.conf, then
 *   `scontrol reconfigure`.
 */

export interface PlannedSetting {
  /** null = the whole cluster. */
  partition: string | null;
  /** Hostlist of the nodes the setting covers; null when the history does not name them. */
  nodeNames: string | null;
  suspendTime: number;
  excNodes: number;
}

export interface Rates {
  suspendRate: number;
  resumeRate: number;
}

/** The slurm.conf lines for `settings` (one per partition, or one for the cluster), after `comments`. */
export function slurmConfSnippet(
  settings: readonly PlannedSetting[],
  rates: Rates,
  comments: string[],
): string {
  const out = comments.map((c) => `# ${c}`);
  const parts = settings.filter((s) => s.partition !== null);
  // one global SuspendTime enables power saving; partitions with their own value override it
  const global =
    settings.length === 1 ? settings[0].suspendTime : Math.max(...settings.map((s) => s.suspendTime));
  out.push(`SuspendTime=${global}`);
  const sets = settings.filter((s) => s.excNodes > 0);
  const named = sets.filter((s) => s.nodeNames !== null);
  const unnamed = sets.filter((s) => s.nodeNames === null);
  if (named.length > 0)
    out.push(`SuspendExcNodes=${named.map((s) => `${s.nodeNames}:${s.excNodes}`).join(',')}`);
  for (const s of unnamed)
    out.push(
      `# SuspendExcNodes=<hostlist of ${s.partition === null ? "the cluster's" : `partition ${s.partition}'s`} nodes>:${s.excNodes}   (the history names no nodes: give --node-names)`,
    );
  if (sets.length === 0)
    out.push('# no SuspendExcNodes warm pool (a count of 0 is invalid: remove any ...:N set)');
  out.push(`SuspendRate=${rates.suspendRate}`, `ResumeRate=${rates.resumeRate}`);
  if (parts.length > 0 && settings.length > 1) {
    out.push('# and on each partition line (a partition SuspendTime overrides the global one):');
    for (const s of parts) out.push(`#   PartitionName=${s.partition} ... SuspendTime=${s.suspendTime}`);
  }
  return `${out.join('\n')}\n`;
}
