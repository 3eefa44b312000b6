import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/**
 * Loads the AssemblyScript kernels (built by scripts/build-wasm.sh) and manages their linear memory.
 * Memory is a bump arena: `alloc` hands out 64-byte aligned f32 blocks; `mark`/`release` free back to a
 * mark (e.g. per-batch scratch). Pointers are byte offsets; `f32(ptr, n)` gives a view.
 * Views must be re-taken after an allocation that grows memory (the old ArrayBuffer is detached);
 * size the arena up front with `reserve` to avoid growth in hot loops.
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

let relaxedFlag = false;
function enableRelaxedSimd(): void {
  // Node 20 (V8 11.3) compiles relaxed-SIMD modules only behind this flag; it must be set before compiling
  // (NODE_OPTIONS rejects it, setFlagsFromString works and also covers worker threads started later).
  if (!relaxedFlag) setFlagsFromString('--experimental-wasm-relaxed-simd');
  relaxedFlag = true;
}

const moduleCache = new Map<Variant, WebAssembly.Module>();

function wasmPath(variant: Variant): URL {
  return new URL(`./wasm/engine_${variant}.wasm`, import.meta.url);
}

/** Compile (once per process) the preferred variant: relaxed SIMD if the runtime takes it, else plain SIMD. */
export function compileKernels(prefer: Variant | 'auto' = 'auto'): {
  module: WebAssembly.Module;
  variant: Variant;
} {
  const order: Variant[] =
    prefer === 'simd' ? ['simd'] : prefer === 'relaxed' ? ['relaxed'] : ['relaxed', 'simd'];
  let lastErr: unknown;
  for (const v of order) {
    const cached = moduleCache.get(v);
    if (cached) return { module: cached, variant: v };
    try {
      if (v === 'relaxed') enableRelaxedSimd();
      const bytes = readFileSync(wasmPath(v));
      const module = new WebAssembly.Module(bytes);
      // instantiate once to prove the runtime accepts the instructions
      new WebAssembly.Instance(module, { env: { abort: wasmAbort } });
      moduleCache.set(v, module);
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

const ALIGN = 64;
const PAGE = 65536;

/** One wasm instance with its own memory and arena. Not shared between threads. */
export class Engine {
  readonly k: Kernels;
  readonly variant: Variant;
  private top: number;
  private readonly base: number;

  constructor(prefer: Variant | 'auto' = 'auto') {
    const { module, variant } = compileKernels(prefer);
    const inst = new WebAssembly.Instance(module, { env: { abort: wasmAbort } });
    this.k = inst.exports as unknown as Kernels;
    this.variant = variant;
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
