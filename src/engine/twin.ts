import { Worker } from 'node:worker_threads';
import { type Engine, type KernelCall, runInOrder } from './wasm.js';

/**
 * A second thread for one shared Engine (`new Engine(variant, { shared: true })`): a worker_thread holding
 * another instance of the same kernels over the same shared wasm memory, so it computes on the engine's
 * own pointers (no copies). `run(calls)` runs independent kernel calls two at a time: the second of each
 * pair on the twin, the first here, then waits for both. It is meant for latency (one forecast), where
 * the model has independent halves (the two directions of a biLSTM layer, two groups of attention heads).
 *
 * Synchronisation is one shared Int32Array: the caller writes the call and bumps `SEQ`; the twin spins on
 * it for up to SPIN_MS after its last call (so the next call of the same forecast starts within a
 * microsecond or so), then sleeps in Atomics.wait (waking costs ~0.1–0.2 ms). The caller spins on `DONE`
 * for up to CALLER_SPIN_MS, then sleeps until the twin's notify (so on a busy machine it does not take CPU
 * from the thread it waits for).
 * When the caller is done with its own call and the twin has not started its one yet (asleep, or not
 * scheduled on a busy machine), the caller claims and runs it itself: never much slower than one thread.
 * The worker is unref'd: it never keeps the process alive. Calls must not allocate (the arena is the
 * caller's) and must write disjoint memory.
 */
const SEQ = 0;
const DONE = 1;
const NAME = 2;
const NARGS = 3;
const STATUS = 4;
const STOP = 5;
/** seq of the posted call while nobody runs it; -seq once the twin or the caller claimed it. */
const CLAIM = 6;
const MAX_ARGS = 64;
/** How long the twin keeps spinning for the next call before it sleeps. */
const SPIN_MS = 1;
/** How long the caller spins for the twin's result before it sleeps until notified. */
const CALLER_SPIN_MS = 0.25;
/** The caller gives up on a twin call after this long (the twin then counts as broken). */
const TIMEOUT_MS = 30_000;

interface TwinInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  names: string[];
  ctrl: SharedArrayBuffer;
  args: SharedArrayBuffer;
  spinMs: number;
}

// The worker: plain JS (no imports), so it runs the same from source (tsx) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, names, spinMs } = workerData;
const ctrl = new Int32Array(workerData.ctrl);
const args = new Float64Array(workerData.args);
const abort = (m, f, l, c) => { throw new Error('wasm abort at ' + l + ':' + c); };
const k = new WebAssembly.Instance(module, { env: { abort, memory } }).exports;
const fns = names.map((n) => k[n]);
parentPort.postMessage({ type: 'ready' });
let seen = 0;
for (;;) {
  let t = Atomics.load(ctrl, ${SEQ});
  if (t === seen) {
    const until = performance.now() + spinMs;
    let i = 0;
    while ((t = Atomics.load(ctrl, ${SEQ})) === seen) {
      if ((++i & 255) === 0 && performance.now() > until) Atomics.wait(ctrl, ${SEQ}, seen);
    }
  }
  seen = t;
  if (Atomics.load(ctrl, ${STOP})) break;
  // the caller may have run it itself meanwhile (it claims calls the twin has not started)
  if (Atomics.compareExchange(ctrl, ${CLAIM}, seen, -seen) !== seen) continue;
  let status = 0;
  try {
    const n = ctrl[${NARGS}];
    const a = new Array(n);
    for (let j = 0; j < n; j++) a[j] = args[j];
    fns[ctrl[${NAME}]](...a);
  } catch (e) {
    status = 1;
  }
  Atomics.store(ctrl, ${STATUS}, status);
  Atomics.store(ctrl, ${DONE}, seen);
  Atomics.notify(ctrl, ${DONE});
}
`;

export class KernelTwin {
  private seq = 0;
  private broken: Error | null = null;

  private constructor(
    readonly engine: Engine,
    private readonly worker: Worker,
    private readonly ctrl: Int32Array,
    private readonly args: Float64Array,
    private readonly index: Map<string, number>,
  ) {}

  /** Start the twin of a shared engine; resolves when it is ready to take calls. */
  static async start(e: Engine, opts: { spinMs?: number } = {}): Promise<KernelTwin> {
    if (!e.shared)
      throw new Error('kernel twin: the engine is not shared (new Engine(variant, { shared: true }))');
    const names = Object.keys(e.k).filter((n) => typeof e.k[n] === 'function');
    const init: TwinInit = {
      module: e.module,
      memory: e.memory,
      names,
      ctrl: new SharedArrayBuffer(8 * 4),
      args: new SharedArrayBuffer(MAX_ARGS * 8),
      spinMs: opts.spinMs ?? SPIN_MS,
    };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: init });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`kernel twin: worker exited (code ${code})`)));
    });
    worker.removeAllListeners();
    worker.unref();
    const twin = new KernelTwin(
      e,
      worker,
      new Int32Array(init.ctrl),
      new Float64Array(init.args),
      new Map(names.map((n, i) => [n, i])),
    );
    worker.on('error', (err) => {
      twin.broken ??= err;
    });
    worker.on('exit', (code) => {
      twin.broken ??= new Error(`kernel twin: worker exited (code ${code})`);
    });
    return twin;
  }

  /** Run independent calls, two at a time over the two threads (in order here if the twin is gone). */
  run(calls: KernelCall[]): void {
    if (this.broken) {
      runInOrder(this.engine, calls);
      return;
    }
    const k = this.engine.k;
    for (let i = 0; i < calls.length; i += 2) {
      const here = calls[i];
      const there = calls[i + 1];
      if (!there) {
        k[here.name](...here.args);
        break;
      }
      this.post(there);
      k[here.name](...here.args);
      // the twin has not started it: run it here instead of waiting
      if (Atomics.compareExchange(this.ctrl, CLAIM, this.seq, -this.seq) === this.seq)
        k[there.name](...there.args);
      else this.wait(there.name);
    }
  }

  /** Stop the worker. */
  async close(): Promise<void> {
    this.broken ??= new Error('kernel twin: closed');
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    await this.worker.terminate();
  }

  private post(c: KernelCall): void {
    const idx = this.index.get(c.name);
    if (idx === undefined) throw new Error(`kernel twin: no kernel ${c.name}`);
    if (c.args.length > MAX_ARGS)
      throw new Error(`kernel twin: ${c.name} has more than ${MAX_ARGS} arguments`);
    this.args.set(c.args);
    Atomics.store(this.ctrl, NAME, idx);
    Atomics.store(this.ctrl, NARGS, c.args.length);
    this.seq = (this.seq % 0x3fffffff) + 1; // positive, so -seq marks a claim
    Atomics.store(this.ctrl, CLAIM, this.seq);
    Atomics.store(this.ctrl, SEQ, this.seq);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** Spin until the twin finished the last posted call (then sleep-wait in short slices). */
  private wait(name: string): void {
    const ctrl = this.ctrl;
    const seq = this.seq;
    const t0 = performance.now();
    let i = 0;
    while (Atomics.load(ctrl, DONE) !== seq) {
      if ((++i & 63) !== 0) continue;
      const dt = performance.now() - t0;
      if (dt > TIMEOUT_MS) {
        this.broken = new Error(`kernel twin: no answer to ${name} after ${TIMEOUT_MS} ms`);
        throw this.broken;
      }
      if (dt > CALLER_SPIN_MS) Atomics.wait(ctrl, DONE, Atomics.load(ctrl, DONE), 1);
    }
    if (Atomics.load(ctrl, STATUS) !== 0) throw new Error(`kernel twin: ${name} failed in the twin thread`);
  }
}
