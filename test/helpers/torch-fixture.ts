import { readFileSync } from 'node:fs';

/** One tensor of a PyTorch fixture: row-major float64 data. */
export interface Arr {
  shape: number[];
  data: number[];
}

/** A PyTorch reference case from test/fixtures/torch/ (layout and how to regenerate: its README.md). */
export interface TorchFixture {
  name: string;
  description: string;
  config: Record<string, unknown>;
  inputs: Record<string, Arr>;
  params: Record<string, Arr>;
  buffers?: Record<string, Arr>;
  outputs: Record<string, Arr>;
  aux_outputs?: Record<string, Arr>;
  dout: Record<string, Arr>;
  grads: Record<string, Arr>;
  [extra: string]: unknown;
}

/** Load test/fixtures/torch/<name>.json. */
export function loadTorchFixture(name: string): TorchFixture {
  const url = new URL(`../fixtures/torch/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as TorchFixture;
}

/** max|got - ref| / max|ref| over a tensor (the fixtures' per-tensor tolerance measure). */
export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != ${ref.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return scale > 0 ? err / scale : err;
}
