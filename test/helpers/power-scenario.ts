/** Power-policy tests: a constructed cluster state (which nodes are idle since when) and a log of actions. */
import type { ClusterView, PowerActions } from '../../src/power/policy.js';

/** A constructed cluster state and an action log. */
export function scenario(s: {
  now: number;
  capacity: number;
  busy: number;
  idle: Array<[node: number, since: number]>;
  booting?: number;
  off?: number;
  queuedNodes?: number;
}) {
  const log = { up: 0, down: [] as number[] };
  const view: ClusterView = {
    now: s.now,
    capacity: s.capacity,
    busy: s.busy,
    idle: s.idle.length,
    booting: s.booting ?? 0,
    off: s.off ?? 0,
    shutting: 0,
    queuedNodes: s.queuedNodes ?? 0,
    idleNodes: () => ({
      ids: Int32Array.from(s.idle.map((x) => x[0])),
      since: Float64Array.from(s.idle.map((x) => x[1])),
      n: s.idle.length,
    }),
  };
  const act: PowerActions = {
    powerUp: (n) => {
      const k = Math.min(n, s.off ?? 0);
      log.up += k;
      return k;
    },
    powerDown: (node) => {
      log.down.push(node);
      return true;
    },
  };
  return { view, act, log };
}
