import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { PlanRunner, type PlanSpec, type PlanSummary, summaryOf } from './plan.js';
import type { Knobs, PointFigures } from './replay.js';

/**
 * A worker thread of `pcm power plan` (./plan.ts): it builds the replay's shared start from the plan's spec
 * (its `workerData`), says `ready`, then runs one grid point per message and answers with its figures.
 */

export interface PlanTask {
  policy: 'reactive' | 'predictive' | 'oracle';
  knobs: Knobs;
}

export type PlanWorkerReply =
  | {
      type: 'ready';
      summary: PlanSummary;
    }
  | { type: 'done'; id: number; point: PointFigures }
  | { type: 'error'; message: string; user: boolean };

async function serve(port: NonNullable<typeof parentPort>, spec: PlanSpec): Promise<void> {
  const reply = (m: PlanWorkerReply) => port.postMessage(m);
  const fail = (e: unknown) =>
    reply({
      type: 'error',
      message: e instanceof Error ? e.message : String(e),
      user: e instanceof UserError,
    });
  const runner = new PlanRunner(spec);
  try {
    const base = await runner.start();
    reply({ type: 'ready', summary: summaryOf(base) });
  } catch (e) {
    fail(e);
    return;
  }
  // one task at a time: the plan sends the next only after this one's answer
  port.on('message', (m: { id: number; task: PlanTask }) => {
    runner.run(m.task).then((point) => reply({ type: 'done', id: m.id, point }), fail);
  });
}

if (!isMainThread && parentPort) void serve(parentPort, workerData as PlanSpec);
