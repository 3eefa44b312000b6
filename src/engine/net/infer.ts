import { availableParallelism, loadavg } from 'node:os';
import { KernelTwin } from '../twin.js';
import { type KernelCall, runInOrder } from '../wasm.js';
import type { SeedModel } from './seed.js';

export interface TwinInferenceOptions {
  /** How long the twin spins for the next call before sleeping (ms; default twin.ts SPIN_MS). */
  spinMs?: number;
  /**
   * Use the twin only while the 1-minute load average is below this (default: the number of CPUs):
   * with no free core, two threads wait for each other's time slices and a forecast took ~1.5× longer
   * than on one thread (docs/benchmarks.md). Re-read at most once a second.
   */
  maxLoad?: number;
}

/**
 * Two-thread inference for a SeedModel built on a shared engine (`new Engine(variant, { shared: true })`):
 * a KernelTwin (src/engine/twin.ts) runs, in every forward of the model, the reverse direction of each
 * biLSTM layer while the calling thread runs the forward one, and in `predict` half of the attention heads
 * (`forwardPooled`). Same kernels on the same memory, so the predictions are the same numbers as on one
 * thread (bit for bit: every value is computed by the same code in the same order).
 *
 *   const e = new Engine('auto', { shared: true });
 *   const model = new SeedModel(e, cfg, maxB, T);  … load weights …
 *   const twin = await TwinInference.attach(model);   // then model.predict(…) as usual
 *   await twin.detach();                              // back to one thread
 *
 * On a busy machine (load average >= maxLoad) the calls run on one thread, in order.
 * Measured in docs/benchmarks.md ("Engine → training step profile and the two-thread forecast").
 */
export class TwinInference {
  private constructor(
    readonly model: SeedModel,
    readonly twin: KernelTwin,
  ) {}

  /** Start the twin thread and hook it into the model's biLSTM and attention. */
  static async attach(model: SeedModel, opts: TwinInferenceOptions = {}): Promise<TwinInference> {
    const twin = await KernelTwin.start(model.e, { spinMs: opts.spinMs });
    const maxLoad = opts.maxLoad ?? availableParallelism();
    let checked = Number.NEGATIVE_INFINITY;
    let busy = false;
    const run = (calls: KernelCall[]): void => {
      const now = performance.now();
      if (now - checked > 1000) {
        checked = now;
        busy = loadavg()[0] >= maxLoad;
      }
      if (busy) runInOrder(model.e, calls);
      else twin.run(calls);
    };
    model.lstm.run = run;
    model.attn.run = run;
    return new TwinInference(model, twin);
  }

  /** Unhook (the model runs on one thread again) and stop the twin thread. */
  async detach(): Promise<void> {
    this.model.lstm.run = undefined;
    this.model.attn.run = undefined;
    await this.twin.close();
  }
}
