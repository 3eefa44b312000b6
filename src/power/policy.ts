/**
 * The one interface every power policy implements. A policy sees a snapshot of the cluster's power and
 * allocation state (`ClusterView`) every `intervalS` seconds and asks for nodes to be booted or powered
 * down through `PowerActions`. The replay builds the view from its simulated scheduler; `pcm power advise`
 * (later) builds it from `sinfo` and turns the actions into `scontrol update ... state=power_up|power_down`.
 *
 * What the executor guarantees (both in the replay and live, per Slurm's semantics):
 * - a job allocated to powered-down nodes boots them itself (policies never need to boot for a job that is
 *   already allocated); allocation prefers powered idle nodes, then booting ones, then powered-down ones;
 * - only idle, powered, unallocated nodes can be powered down; boots and shutdowns are rate-limited
 *   (ResumeRate / SuspendRate), so an action may be refused: the return values say what was done.
 */
export interface ClusterView {
  /** Epoch seconds. */
  readonly now: number;
  /** Nodes in the cluster. */
  readonly capacity: number;
  /** Nodes allocated to jobs (running, or waiting for their boot). */
  readonly busy: number;
  /** Powered, idle, unallocated nodes. */
  readonly idle: number;
  /** Unallocated nodes that are booting. */
  readonly booting: number;
  /** Unallocated powered-down nodes. */
  readonly off: number;
  /** Nodes shutting down (unavailable until off). */
  readonly shutting: number;
  /** Nodes asked for by jobs waiting in the queue. */
  readonly queuedNodes: number;
  /** The idle nodes (ids) with the time each became idle, in matching order; valid until the next action. */
  idleNodes(): { ids: Int32Array; since: Float64Array; n: number };
}

export interface PowerActions {
  /** Boot up to `count` powered-down unallocated nodes; returns how many boots were started. */
  powerUp(count: number): number;
  /** Power down one idle node; false when refused (not idle, or the suspend rate is used up). */
  powerDown(node: number): boolean;
}

/**
 * A job event as it happens, for policies that learn from users' submission patterns: `submit` when the job
 * enters the queue, `end` when it leaves its nodes. Delivered at the event's instant (`t` <= the `now` of
 * every later decision), so a policy never learns of a job before it is submitted.
 */
export interface JobEvent {
  readonly kind: 'submit' | 'end';
  /** Epoch seconds (the instant of the event). */
  readonly t: number;
  /** User id, interned per run (-1 = unknown user). */
  readonly user: number;
  /** Nodes the job asks for. */
  readonly nodes: number;
  /** The job, when the source knows it (the replay: its index; recorders key on it, policies need not). */
  readonly job?: number;
}

export interface PowerPolicy {
  /** Report name (`always_on`, `reactive`, `predictive`, `oracle`). */
  readonly name: string;
  /** Seconds between decisions. */
  readonly intervalS: number;
  /** The policy's main knob and its value, for trade-off curves (e.g. SuspendTime 600). */
  readonly knob?: { name: string; value: number };
  decide(view: ClusterView, act: PowerActions): void;
  /** Optional: job events as they happen (submissions and ends), in time order. */
  observe?(e: JobEvent): void;
}

/**
 * Power down up to `count` idle nodes, those idle longest first (they are the least likely to be wanted);
 * among nodes idle equally long, the highest-numbered first (Slurm places jobs on the lowest-numbered free
 * nodes, so the warm pool stays a low block). Returns how many were powered down.
 */
export function powerDownLongestIdle(
  view: ClusterView,
  act: PowerActions,
  count: number,
  minIdleS = 0,
): number {
  if (count <= 0) return 0;
  const { ids, since, n } = view.idleNodes();
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => since[a] - since[b] || ids[b] - ids[a]);
  let done = 0;
  for (const i of order) {
    if (done >= count) break;
    if (view.now - since[i] < minIdleS) break;
    if (act.powerDown(ids[i])) done++;
  }
  return done;
}
