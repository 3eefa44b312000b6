import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { spawnModuleWorker } from '../util/worker.js';
import type { ParamStore } from './params.js';
import type { Engine } from './wasm.js';

/**
 * Minimal model-level data parallelism (the lead's threading decision): `threads` full model replicas,
 * replica 0 in the calling thread and one per worker_thread, each with its own Engine (private wasm
 * memory). Per step: the parameters are broadcast once (a shared float block), every replica runs
 * forward + backward on its contiguous shard of the batch, and the gradients are summed once into
 * replica 0's ParamStore. No other synchronisation: layers know nothing about threads.
 *
 * The model comes from a module (given by URL) exporting
 *   `createReplica(config, shared): Replica | Promise<Replica>`,
 * built in every thread with the same `config`; `shared` holds SharedArrayBuffers the caller fills with
 * the batch before each step (every replica copies its own shard into its engine).
 * Optimizer, clipping and anything that needs the whole batch's statistics stay with the caller.
 */
export interface Replica {
  readonly engine: Engine;
  readonly store: ParamStore;
  /**
   * Forward + backward on samples [start, start + count) of a batch of `total`; ACCUMULATES into the
   * store's gradients (zeroed by the runner before each step). Returns this shard's loss contribution.
   */
  run(start: number, count: number, total: number): number;
}

export type CreateReplica = (
  config: unknown,
  shared: Record<string, SharedArrayBuffer>,
) => Replica | Promise<Replica>;

interface WorkerInit {
  pcmDataParallel: true;
  module: string;
  config: unknown;
  shared: Record<string, SharedArrayBuffer>;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

type ToWorker = { type: 'step'; start: number; count: number; total: number };
type FromWorker =
  | { type: 'ready'; total: number }
  | { type: 'done'; loss: number }
  | { type: 'error'; message: string };

/** Split `total` samples into `n` contiguous shards whose sizes differ by at most one. */
export function shards(total: number, n: number): Array<{ start: number; count: number }> {
  const out: Array<{ start: number; count: number }> = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.floor(total / n) + (i < total % n ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}

async function loadFactory(module: string): Promise<CreateReplica> {
  const mod = (await import(module)) as { createReplica?: CreateReplica };
  if (typeof mod.createReplica !== 'function')
    throw new Error(`data parallel: ${module} exports no createReplica`);
  return mod.createReplica;
}

/** Start a worker running this file. */
function spawn(init: WorkerInit): Worker {
  return spawnModuleWorker(import.meta.url, init);
}

class WorkerHandle {
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(
    readonly worker: Worker,
    readonly grads: Float32Array,
  ) {
    worker.on('message', (m: FromWorker) => this.settle(m.type === 'error' ? new Error(m.message) : null, m));
    worker.on('error', (e) => this.settle(e, null));
    worker.on('exit', (code) => this.settle(new Error(`data parallel: worker exited (code ${code})`), null));
  }

  /** The worker's next message. */
  next(): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  private settle(err: Error | null, m: FromWorker | null): void {
    const p = this.pending;
    this.pending = null;
    if (err) {
      this.failure ??= err;
      p?.reject(err);
    } else if (m) p?.resolve(m);
  }
}

export class DataParallel {
  private constructor(
    /** Replica 0, in this thread: its ParamStore holds the parameters and, after `step`, the summed grads. */
    readonly main: Replica,
    private readonly workers: WorkerHandle[],
    private readonly params: Float32Array,
  ) {}

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Build `threads` replicas from `module` (a URL string) with `config`; resolves when all are ready. */
  static async create(
    threads: number,
    module: string,
    config: unknown,
    shared: Record<string, SharedArrayBuffer>,
  ): Promise<DataParallel> {
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`data parallel: threads=${threads} must be >= 1`);
    const main = await (await loadFactory(module))(config, shared);
    const n = main.store.total;
    const params = new Float32Array(new SharedArrayBuffer(n * 4));
    const workers: WorkerHandle[] = [];
    try {
      for (let i = 1; i < threads; i++) {
        const grads = new Float32Array(new SharedArrayBuffer(n * 4));
        const init: WorkerInit = {
          pcmDataParallel: true,
          module,
          config,
          shared,
          params: params.buffer as SharedArrayBuffer,
          grads: grads.buffer as SharedArrayBuffer,
        };
        const h = new WorkerHandle(spawn(init), grads);
        workers.push(h);
        const m = await h.next();
        if (m.type !== 'ready' || m.total !== n)
          throw new Error(
            `data parallel: replica ${i} has ${m.type === 'ready' ? m.total : '?'} parameters, not ${n}`,
          );
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw e;
    }
    return new DataParallel(main, workers, params);
  }

  /**
   * One forward + backward over a batch of `total` samples (already in the shared buffers): replica
   * gradients are zeroed, computed on their shards and summed into `main.store`'s gradients.
   * Returns the summed loss contributions.
   */
  async step(total: number): Promise<number> {
    const { main, workers } = this;
    const e = main.engine;
    const parts = shards(total, this.threads);
    // broadcast the parameters, start the workers on shards 1..n-1
    if (workers.length) this.params.set(main.store.values(e));
    const replies = workers.map((w, i) => {
      const reply = w.next();
      const msg: ToWorker = { type: 'step', ...parts[i + 1], total };
      w.worker.postMessage(msg);
      return reply;
    });
    // shard 0 here, meanwhile
    main.store.zeroGrad(e);
    let loss = parts[0].count ? main.run(parts[0].start, parts[0].count, total) : 0;
    const done = await Promise.all(replies);
    // the one gradient sum of the step
    const g = main.store.grads(e);
    for (let w = 0; w < workers.length; w++) {
      const m = done[w];
      if (m.type !== 'done') throw new Error(`data parallel: unexpected ${m.type} from replica ${w + 1}`);
      loss += m.loss;
      const gw = workers[w].grads;
      for (let i = 0; i < g.length; i++) g[i] += gw[i];
    }
    return loss;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/** Worker side: build the replica, then serve steps until terminated. */
async function serve(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const post = (m: FromWorker) => port.postMessage(m);
  try {
    const rep = await (await loadFactory(init.module))(init.config, init.shared);
    const params = new Float32Array(init.params);
    const grads = new Float32Array(init.grads);
    port.on('message', (m: ToWorker) => {
      try {
        const e = rep.engine;
        rep.store.values(e).set(params);
        rep.store.zeroGrad(e);
        const loss = m.count ? rep.run(m.start, m.count, m.total) : 0;
        grads.set(rep.store.grads(e));
        post({ type: 'done', loss });
      } catch (err) {
        post({ type: 'error', message: (err as Error).message });
      }
    });
    post({ type: 'ready', total: rep.store.total });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.pcmDataParallel)
  void serve(workerData as WorkerInit);
