import { compress, expand } from '../../jobs/hostlist.js';
import { errorMessage } from '../../util/errors.js';
import type { Advice, AdviceCommand } from '../advise.js';
import { refuseNodes } from '../refusals.js';
import type { SlurmNode, SlurmPowerConfig, SlurmRunner } from '../slurm-nodes.js';

/**
 * Run an advice's commands (`pcm power advise --apply` and every interval of `pcm power run`).
 * Right before, the nodes and Slurm's power-save config are read again and EVERY refusal rule is checked
 * anew on that read (refusals.ts: allocated, mixed, completing, drained, down, reserved, maintenance, a
 * power request pending, Power.Advise.ExcludeNodes, SuspendExcNodes, SuspendExcParts), and a node must
 * still be of the kind the action needs (idle to power down, powered down to power up); a node that fails
 * is left out, with the reason. The rest go to `scontrol update nodename=<hostlist> state=...` in groups of
 * at most `groupSize`; a group whose call fails is retried node by node, so one bad node does not hold back
 * the others. Every node's outcome is returned: done, refused (and why) or failed (scontrol's message).
 */
export interface NodeOutcome {
  node: string;
  state: 'power_down' | 'power_up';
  outcome: 'done' | 'refused' | 'failed';
  why: string | null;
}

export interface ApplyResult {
  /** The calls that succeeded. */
  commands: AdviceCommand[];
  outcomes: NodeOutcome[];
  /** Refused on the fresh read (for the advice's warning). */
  dropped: string[];
  failed: string[];
}

export interface ApplyOptions {
  run: SlurmRunner;
  reread: () => Promise<{ nodes: SlurmNode[]; config: SlurmPowerConfig }>;
  excludeNodes: string;
  groupSize: number;
}

const argvOf = (hostlist: string, state: string) => [
  'scontrol',
  'update',
  `nodename=${hostlist}`,
  `state=${state}`,
];

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export async function applyAdvice(adv: Advice, o: ApplyOptions): Promise<ApplyResult> {
  const fresh = await o.reread();
  const { kinds, why } = refuseNodes(fresh.nodes, fresh.config, o.excludeNodes);
  const index = new Map(fresh.nodes.map((nd, i) => [nd.name, i]));
  const outcomes: NodeOutcome[] = [];
  const commands: AdviceCommand[] = [];
  for (const c of adv.commands) {
    const want = c.state === 'power_down' ? 'idle' : 'off';
    const keep: string[] = [];
    for (const name of expand(c.hostlist)) {
      const i = index.get(name);
      const refusal =
        i === undefined
          ? 'no longer listed by sinfo'
          : (why[i] ?? (kinds[i] !== want ? `now ${fresh.nodes[i].sinfoState}, not ${want}` : null));
      if (refusal) outcomes.push({ node: name, state: c.state, outcome: 'refused', why: refusal });
      else keep.push(name);
    }
    const call = async (names: string[]): Promise<string | null> => {
      const argv = argvOf(compress(names), c.state);
      try {
        await o.run(argv[0], argv.slice(1));
        commands.push({ state: c.state, hostlist: compress(names), nodes: names.length, argv });
        return null;
      } catch (e) {
        return errorMessage(e);
      }
    };
    for (const group of chunks(keep, o.groupSize)) {
      const err = await call(group);
      if (err === null) {
        for (const node of group) outcomes.push({ node, state: c.state, outcome: 'done', why: null });
        continue;
      }
      if (group.length === 1) {
        outcomes.push({ node: group[0], state: c.state, outcome: 'failed', why: err });
        continue;
      }
      for (const node of group) {
        const e1 = await call([node]);
        outcomes.push({ node, state: c.state, outcome: e1 === null ? 'done' : 'failed', why: e1 });
      }
    }
  }
  return {
    commands,
    outcomes,
    dropped: outcomes.filter((x) => x.outcome === 'refused').map((x) => x.node),
    failed: outcomes.filter((x) => x.outcome === 'failed').map((x) => x.node),
  };
}
