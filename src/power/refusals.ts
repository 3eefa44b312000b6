import { expand } from '../jobs/hostlist.js';
import { classify, type NodeKind, type SlurmNode, type SlurmPowerConfig } from './slurm-nodes.js';

/**
 * Every rule that keeps a node out of reach of a power action, in one place: what `planAdvice` plans with
 * and what the apply step checks again on a fresh read right before each `scontrol` call. Per node: its
 * kind (slurm-nodes.ts `classify`) and why no action may touch it (null: it may be powered down when idle,
 * up when off). The rules, first match wins: the node's state (allocated, mixed, completing, drained,
 * draining, down, failing, not responding, reserved, maintenance, a power request pending or running);
 * `Power.Advise.ExcludeNodes`; a partition in SuspendExcParts; a plain SuspendExcNodes list; and
 * SuspendExcNodes=set:N, which keeps the first N idle powered nodes of the set (Slurm's own rule, index order).
 */
export interface NodeRefusals {
  kinds: NodeKind[];
  why: Array<string | null>;
}

export function refuseNodes(nodes: SlurmNode[], slurm: SlurmPowerConfig, excludeNodes: string): NodeRefusals {
  const exclude = new Set(excludeNodes.trim() ? expand(excludeNodes) : []);
  const excParts = new Set(slurm.suspendExcParts);
  const n = nodes.length;
  const kinds: NodeKind[] = new Array(n);
  const why: Array<string | null> = new Array(n);
  for (let i = 0; i < n; i++) {
    const nd = nodes[i];
    const c = classify(nd.state);
    kinds[i] = c.kind;
    why[i] = c.refusal;
    if (why[i] === null && exclude.has(nd.name)) why[i] = 'excluded by Power.Advise.ExcludeNodes';
    if (why[i] === null) {
      const part = nd.partitions.find((p) => excParts.has(p));
      if (part) why[i] = `excluded by SuspendExcParts (${part})`;
    }
    if (why[i] === null) {
      const set = slurm.suspendExcNodes.find((s) => s.count === null && s.nodes.has(nd.name));
      if (set) why[i] = `excluded by SuspendExcNodes=${set.text}`;
    }
  }
  // SuspendExcNodes=set:N keeps the first N idle powered nodes of the set (Slurm's own rule, index order)
  for (const s of slurm.suspendExcNodes) {
    if (s.count === null) continue;
    let kept = 0;
    for (let i = 0; i < n && kept < s.count; i++) {
      if (kinds[i] !== 'idle' || !s.nodes.has(nodes[i].name)) continue;
      if (why[i] === null) why[i] = `kept powered by SuspendExcNodes=${s.text}`;
      kept++;
    }
  }
  return { kinds, why };
}
