import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/**
 * Loads the AssemblyScript kernels (built by scripts/build-wasm.sh) and manages their linear memory.
 * Memory is a bump arena: `alloc` hands out 64-byte aligned f32 blocks; `mark`/`release` free back to a
 * mark (e.g. per-batch scratch). Pointers are byte offsets; `f32(ptr, n)` gives a view.
 * Views must be re-taken after an allocation that grows memory (the old ArrayBuffer is detached);
 * size the arena up front with `reserve` to avoid growth in hot loops.
 *
 * A `shared` Engine runs the same kernels over a shared memory (the `*_shared.wasm` builds), so a second
 * instance in a worker thread can compute on the same pointers (src/engine/twin.ts). Views of a shared
 * memory are never detached, but only cover the memory's size when they were taken.
 */

export type Ptr = number;

/** The kernel functions exported by the wasm module (see src/engine/as/*.ts). */
export type Kernels = Record<string, (...args: number[]) => number | undefined> & {
  memory: WebAssembly.Memory;
  heap_base(): number;
  sgemm(
    M: number,
    N: number,
    K: number,
    a: Ptr,
    sai: number,
    sak: number,
    b: Ptr,
    ldb: number,
    c: Ptr,
    ldc: number,
    beta: number,
  ): void;
  transpose(rows: number, cols: number, inp: Ptr, out: Ptr): void;
};

export type Variant = 'relaxed' | 'simd';

/** One kernel call by export name and arguments, to run here or on a twin thread (src/engine/twin.ts). */
export interface KernelCall {
  name: string;
  args: number[];
}

/**
 * Runs independent kernel calls (they write disjoint memory): in order on this thread by default
 * (`runInOrder`), or spread over threads that share the engine's memory (KernelTwin.run).
 */
export type RunCalls = (calls: KernelCall[]) => void;

/** Run the calls one after the other on `e`. */
export function runInOrder(e: Engine, calls: KernelCall[]): void {
  for (const c of calls) e.k[c.name](...c.args);
}

/** Wasm pages (64 KiB) a shared memory may grow to: 4 GiB, all of wasm32. */
const SHARED_MAX_PAGES = 65536;

let relaxedFlag = false;
function enableRelaxedSimd(): void {
  // Node 20 (V8 11.3) compiles relaxed-SIMD modules only behind this flag; it must be set before compiling
  // (NODE_OPTIONS rejects it, setFlagsFromString works and also covers worker threads started later).
  if (!relaxedFlag) setFlagsFromString('--experimental-wasm-relaxed-simd');
  relaxedFlag = true;
}

const moduleCache = new Map<string, WebAssembly.Module>();

function wasmPath(variant: Variant, shared: boolean): URL {
  return new URL(`./wasm/engine_${variant}${shared ? '_shared' : ''}.wasm`, import.meta.url);
}

/** A fresh shared memory for the `*_shared.wasm` builds (initial size as the builds declare). */
function sharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 32, maximum: SHARED_MAX_PAGES, shared: true });
}

/**
 * Compile (once per process) the preferred variant: relaxed SIMD if the runtime takes it, else plain SIMD;
 * `shared`: the build over an imported shared memory.
 */
function compileKernels(
  prefer: Variant | 'auto' = 'auto',
  shared = false,
): {
  module: WebAssembly.Module;
  variant: Variant;
} {
  const order: Variant[] =
    prefer === 'simd' ? ['simd'] : prefer === 'relaxed' ? ['relaxed'] : ['relaxed', 'simd'];
  let lastErr: unknown;
  for (const v of order) {
    const key = `${v}${shared ? '_shared' : ''}`;
    const cached = moduleCache.get(key);
    if (cached) return { module: cached, variant: v };
    try {
      if (v === 'relaxed') enableRelaxedSimd();
      const bytes = readFileSync(wasmPath(v, shared));
      const module = new WebAssembly.Module(bytes);
      // instantiate once to prove the runtime accepts the instructions
      new WebAssembly.Instance(module, kernelImports(shared ? sharedMemory() : undefined));
      moduleCache.set(key, module);
      return { module, variant: v };
    } catch (e) {
      lastErr = e;
    }
  }
  throw new Error(
    `cannot load the wasm kernels (${order.join(', ')}): ${(lastErr as Error)?.message}; run \`npm run build\``,
  );
}

function wasmAbort(msg: number, file: number, line: number, col: number): never {
  throw new Error(`wasm abort at ${line}:${col} (msg ${msg}, file ${file})`);
}

/** The imports of a kernel instance: `memory` for the shared builds. */
function kernelImports(memory?: WebAssembly.Memory) {
  return { env: memory ? { abort: wasmAbort, memory } : { abort: wasmAbort } };
}

export interface EngineOptions {
  /** Use the shared-memory build (so a KernelTwin can run kernels on this engine's memory). */
  shared?: boolean;
}

const ALIGN = 64;
const PAGE = 65536;

/** One wasm instance with its own memory and arena (only a `shared` engine's memory is also used by a twin thread). */
export class Engine {
  readonly k: Kernels;
  readonly variant: Variant;
  /** The compiled module (a twin thread instantiates it again over the same shared memory). */
  readonly module: WebAssembly.Module;
  readonly shared: boolean;
  private top: number;
  private readonly base: number;

  constructor(prefer: Variant | 'auto' = 'auto', opts: EngineOptions = {}) {
    const shared = opts.shared === true;
    const { module, variant } = compileKernels(prefer, shared);
    const inst = new WebAssembly.Instance(module, kernelImports(shared ? sharedMemory() : undefined));
    this.k = inst.exports as unknown as Kernels;
    this.variant = variant;
    this.module = module;
    this.shared = shared;
    this.base = align(this.k.heap_base());
    this.top = this.base;
  }

  get memory(): WebAssembly.Memory {
    return this.k.memory;
  }

  /** Bytes in use by the arena. */
  get used(): number {
    return this.top - this.base;
  }

  /** Grow memory now so that `bytes` more can be allocated without growth later. */
  reserve(bytes: number): void {
    this.ensure(this.top + bytes);
  }

  /** Allocate n f32 (zeroed when the memory is fresh or `zero` is true). Returns a byte pointer. */
  alloc(n: number, zero = true): Ptr {
    const p = align(this.top);
    const end = p + n * 4;
    this.ensure(end);
    this.top = end;
    if (zero) new Float32Array(this.k.memory.buffer, p, n).fill(0);
    return p;
  }

  /** Allocate and copy data in. */
  allocFrom(data: ArrayLike<number>): Ptr {
    const p = this.alloc(data.length, false);
    this.f32(p, data.length).set(data);
    return p;
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new Error('engine: release to an invalid mark');
    this.top = mark;
  }

  /** A Float32Array view of n floats at p (re-take after memory growth). */
  f32(p: Ptr, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n);
  }

  i32(p: Ptr, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, p, n);
  }

  private ensure(end: number): void {
    const have = this.k.memory.buffer.byteLength;
    if (end > have) this.k.memory.grow(Math.ceil((end - have) / PAGE));
  }
}

function align(p: number): number {
  return Math.ceil(p / ALIGN) * ALIGN;
}
