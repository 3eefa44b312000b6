import type { Engine, Ptr } from './wasm.js';

/**
 * All learnable parameters of a model live in one contiguous f32 block, and their gradients in a second
 * block with the same layout, so the optimizer, gradient clipping, checkpointing and the gradient
 * all-reduce between worker threads each run over one flat array.
 *
 * Layers declare parameters by name (PyTorch state_dict names, e.g. `lstm.weight_ih_l0_reverse`) and
 * shape, in our kernel layout (documented per layer; loaders convert from/to PyTorch layouts).
 */
export interface Param {
  name: string;
  shape: number[];
  size: number;
  /** Offset in floats from the start of the block. */
  offset: number;
  /** Byte pointers into the engine's memory (valid after `ParamStore.allocate`). */
  ptr: Ptr;
  grad: Ptr;
}

export class ParamStore {
  readonly params: Param[] = [];
  private readonly byName = new Map<string, Param>();
  total = 0;
  /** Byte pointers of the parameter and gradient blocks (0 until allocated). */
  base: Ptr = 0;
  gradBase: Ptr = 0;

  /** Declare a parameter; pointers are filled in by `allocate`. */
  declare(name: string, shape: number[]): Param {
    if (this.base) throw new Error(`ParamStore: declare(${name}) after allocate`);
    if (this.byName.has(name)) throw new Error(`ParamStore: duplicate parameter ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    // keep each parameter 16-float aligned (64 bytes) so SIMD loops over one parameter stay aligned
    const offset = Math.ceil(this.total / 16) * 16;
    const p: Param = { name, shape, size, offset, ptr: 0, grad: 0 };
    this.total = offset + size;
    this.params.push(p);
    this.byName.set(name, p);
    return p;
  }

  /** Allocate both blocks in the engine's arena (zeroed) and fill in every parameter's pointers. */
  allocate(e: Engine): void {
    this.total = Math.ceil(this.total / 16) * 16;
    this.base = e.alloc(this.total);
    this.gradBase = e.alloc(this.total);
    for (const p of this.params) {
      p.ptr = this.base + p.offset * 4;
      p.grad = this.gradBase + p.offset * 4;
    }
  }

  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`ParamStore: no parameter ${name}`);
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Views of all values / all gradients as one flat array (re-take after engine memory growth). */
  values(e: Engine): Float32Array {
    return e.f32(this.base, this.total);
  }

  grads(e: Engine): Float32Array {
    return e.f32(this.gradBase, this.total);
  }

  zeroGrad(e: Engine): void {
    this.grads(e).fill(0);
  }
}
