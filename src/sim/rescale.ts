/**
 * A `Simulator` section fitted to one cluster (e.g. by `pcm simulate --calibrate`), moved to another node
 * count with the same load: arrivals (background and bursts) in proportion to the nodes, so the offered
 * node-seconds per node stay the same. On a smaller cluster the jobs larger than it are folded into its
 * largest size band (the generator caps them at the cluster), which lowers the load a little. Works on the
 * plain section (as read from YAML), before validation; returns a new object.
 */

type Section = Record<string, unknown>;

function obj(s: Section, key: string): Section {
  const v = s[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Section) } : {};
}

/** `sim` fitted on `sim.Nodes` nodes, rescaled to `nodes` (sim.Nodes absent: returned with Nodes set). */
export function rescaleSimulator(sim: Section, nodes: number): Section {
  const from = typeof sim.Nodes === 'number' ? sim.Nodes : nodes;
  const k = nodes / from;
  const out: Section = { ...sim, Nodes: nodes };
  const round = (x: number) => Number(x.toPrecision(4));
  const arrivals = obj(sim, 'Arrivals');
  if (typeof arrivals.JobsPerDay === 'number') arrivals.JobsPerDay = round(arrivals.JobsPerDay * k);
  out.Arrivals = arrivals;
  const bursts = obj(sim, 'Bursts');
  if (typeof bursts.PerDay === 'number') bursts.PerDay = round(bursts.PerDay * k);
  out.Bursts = bursts;
  const sizes = obj(sim, 'Sizes');
  if (typeof sizes.MaxNodes === 'number' && sizes.MaxNodes > nodes) {
    sizes.MaxNodes = nodes;
    const top = Math.floor(Math.log2(nodes));
    // bands above the cluster's largest fold into it
    if (Array.isArray(sizes.Log2Shares) && sizes.Log2Shares.length > top + 1) {
      const s = sizes.Log2Shares as number[];
      sizes.Log2Shares = [...s.slice(0, top), s.slice(top).reduce((a, b) => a + b, 0)];
    }
    if (typeof sizes.Log2Med === 'number') sizes.Log2Med = Math.min(sizes.Log2Med, Math.log2(nodes));
    if (typeof sizes.Log2Low === 'number' && typeof sizes.Log2Med === 'number')
      sizes.Log2Low = Math.min(sizes.Log2Low, sizes.Log2Med);
    const classes = obj(sim, 'Classes');
    if (Array.isArray(classes.SharesBySize)) classes.SharesBySize = classes.SharesBySize.slice(0, top + 1);
    out.Classes = classes;
  }
  out.Sizes = sizes;
  return out;
}
