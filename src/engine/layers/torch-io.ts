import type { Param } from '../params.js';
import type { Engine } from '../wasm.js';
import { fromTorchLayout, toTorchLayout } from './lstm.js';

/** One parameter with its PyTorch shape; `transpose`: ours is the 2-D transpose of PyTorch's layout. */
export interface TorchParam {
  param: Param;
  torchShape: number[];
  transpose: boolean;
}

/** Load parameters given in PyTorch layout, keyed by full state_dict name (all must be present). */
export function loadTorchParams(
  e: Engine,
  layer: string,
  list: TorchParam[],
  tensors: Record<string, ArrayLike<number>>,
): void {
  for (const { param, torchShape, transpose } of list) {
    const src = tensors[param.name];
    if (!src) throw new Error(`${layer}: missing parameter ${param.name}`);
    try {
      fromTorchLayout(e.f32(param.ptr, param.size), src, torchShape, transpose);
    } catch (err) {
      throw new Error(`${layer}: ${param.name} [${torchShape.join(',')}]: ${(err as Error).message}`);
    }
  }
}

/** Parameters (or their gradients) in PyTorch layout, keyed by full state_dict name. */
export function torchParamValues(
  e: Engine,
  list: TorchParam[],
  which: 'value' | 'grad' = 'value',
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const { param, torchShape, transpose } of list) {
    const v = e.f32(which === 'value' ? param.ptr : param.grad, param.size);
    out[param.name] = toTorchLayout(v, torchShape, transpose);
  }
  return out;
}

/** Fill a parameter with U(-a, a); `rand` returns uniform [0, 1). */
export function fillUniform(e: Engine, p: Param, a: number, rand: () => number): void {
  const v = e.f32(p.ptr, p.size);
  for (let i = 0; i < v.length; i++) v[i] = (2 * rand() - 1) * a;
}

/** Fill a parameter with a constant. */
export function fillConst(e: Engine, p: Param, c: number): void {
  e.f32(p.ptr, p.size).fill(c);
}

/** Check a batch size / length against what a layer allocated for. */
export function checkDims(layer: string, dims: Record<string, [number, number]>): void {
  for (const [name, [v, max]] of Object.entries(dims))
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new Error(`${layer}: ${name}=${v} outside the allocated 1..${max} (allocate() first)`);
}

/** Check left-padding lengths (B int32 at `lengths` in wasm memory) are all in 1..T. */
export function checkLengths(e: Engine, layer: string, lengths: number, B: number, T: number): void {
  const len = e.i32(lengths, B);
  for (let b = 0; b < B; b++)
    if (!(len[b] >= 1 && len[b] <= T))
      throw new Error(`${layer}: lengths[${b}]=${len[b]} must be in 1..${T}`);
}
