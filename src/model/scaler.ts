import { InputError } from '../util/errors.js';

/**
 * Standard scaler over the columns of a row-major (rows, F) matrix: x' = (x - mean) / std.
 * Fit it on the training rows only; constant columns get std 1 so they map to 0.
 */
export interface ScalerJSON {
  kind: 'standard';
  names: string[];
  mean: number[];
  std: number[];
}

export class StandardScaler {
  readonly names: string[];
  readonly mean: Float64Array;
  readonly std: Float64Array;

  constructor(names: string[], mean: Float64Array, std: Float64Array) {
    if (mean.length !== names.length || std.length !== names.length) {
      throw new Error(`scaler: ${names.length} names but ${mean.length} means and ${std.length} stds`);
    }
    this.names = names;
    this.mean = mean;
    this.std = std;
  }

  get F(): number {
    return this.names.length;
  }

  /**
   * Fit on rows [from, to) of data (rows, F), or on the listed row indices.
   * Two passes (mean, then squared deviations) in float64 for accuracy.
   */
  static fit(
    data: Float32Array,
    F: number,
    names: string[],
    rows: { from: number; to: number } | Int32Array,
  ): StandardScaler {
    if (names.length !== F) throw new Error(`scaler: ${names.length} names for ${F} columns`);
    const mean = new Float64Array(F);
    const m2 = new Float64Array(F);
    const each = (fn: (r: number) => void) => {
      if (rows instanceof Int32Array) for (const r of rows) fn(r);
      else for (let r = rows.from; r < rows.to; r++) fn(r);
    };
    let n = 0;
    // pass 1: column sums -> means
    each((r) => {
      const o = r * F;
      for (let f = 0; f < F; f++) mean[f] += data[o + f];
      n++;
    });
    if (n === 0) throw new InputError('scaler: no training rows to fit on (the training split is empty)');
    for (let f = 0; f < F; f++) mean[f] /= n;
    // pass 2: sums of squared deviations -> population std
    each((r) => {
      const o = r * F;
      for (let f = 0; f < F; f++) {
        const d = data[o + f] - mean[f];
        m2[f] += d * d;
      }
    });
    const std = new Float64Array(F);
    for (let f = 0; f < F; f++) {
      const s = Math.sqrt(m2[f] / n);
      std[f] = s > 1e-12 ? s : 1;
    }
    return new StandardScaler([...names], mean, std);
  }

  /** Scale data (rows, F) in place. */
  transformInPlace(data: Float32Array): Float32Array {
    const F = this.F;
    if (data.length % F !== 0)
      throw new Error(`scaler: data length ${data.length} is not a multiple of F=${F}`);
    const inv = this.std.map((s) => 1 / s);
    for (let o = 0; o < data.length; o += F) {
      for (let f = 0; f < F; f++) data[o + f] = (data[o + f] - this.mean[f]) * inv[f];
    }
    return data;
  }

  /** A scaled copy of data (rows, F). */
  transform(data: Float32Array): Float32Array {
    return this.transformInPlace(Float32Array.from(data));
  }

  /** Undo the scaling in place. */
  inverseInPlace(data: Float32Array): Float32Array {
    const F = this.F;
    for (let o = 0; o < data.length; o += F) {
      for (let f = 0; f < F; f++) data[o + f] = data[o + f] * this.std[f] + this.mean[f];
    }
    return data;
  }

  toJSON(): ScalerJSON {
    return {
      kind: 'standard',
      names: [...this.names],
      mean: Array.from(this.mean),
      std: Array.from(this.std),
    };
  }

  /** Read a scaler back; names the field that is wrong. */
  static fromJSON(j: unknown, source = 'scaler'): StandardScaler {
    const o = j as Partial<ScalerJSON> | null;
    if (!o || typeof o !== 'object' || o.kind !== 'standard') {
      throw new InputError(`${source}: expected an object with kind "standard"`);
    }
    if (!Array.isArray(o.names) || !o.names.every((s) => typeof s === 'string')) {
      throw new InputError(`${source}: names: expected an array of strings`);
    }
    const nums = (k: 'mean' | 'std') => {
      const a = o[k];
      if (!Array.isArray(a) || a.length !== o.names!.length || !a.every((x) => Number.isFinite(x))) {
        throw new InputError(`${source}: ${k}: expected ${o.names!.length} finite numbers`);
      }
      return Float64Array.from(a);
    };
    const std = nums('std');
    if (std.some((s) => s <= 0)) throw new InputError(`${source}: std: expected positive numbers`);
    return new StandardScaler([...o.names], nums('mean'), std);
  }
}
