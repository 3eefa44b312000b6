type Typed = Float64Array | Float32Array | Int32Array | Int16Array | Uint8Array;

/** A copy of `a` with `len` entries (its first `len` when shorter), new entries set to `fill`. */
export function resized<A extends Typed>(a: A, len: number, fill = 0): A {
  const b = new (a.constructor as new (n: number) => A)(len);
  if (fill !== 0 && len > a.length) b.fill(fill, a.length);
  b.set(a.length > len ? a.subarray(0, len) : a);
  return b;
}
