// Inverted dropout and ReLU over flat f32 arrays (the element-wise layers with a mask).
// The dropout mask is never stored: element i of a call is kept iff hash(seed, offset + i) >= p * 2^32,
// a counter-based hash, so forward and backward (and any thread, any batch split) regenerate the same
// mask from (seed, offset). Kept elements are scaled by 1/(1-p); dropped ones are 0.

/** Seed premix (murmur3 fmix32 of the seed), computed once per call. */
@inline function seedMix(seed: u32): u32 {
  let h = seed ^ 0x5bd1e995;
  h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16;
  return h;
}

/** 32-bit hash of (premixed seed, index): fmix32 of a Weyl step. */
@inline export function dropHash(s: u32, i: u32): u32 {
  let h = s + i * 0x9e3779b9;
  h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16;
  return h;
}

/** The same hash on 4 consecutive indices i..i+3. */
@inline function dropHash4(s: u32, i: u32): v128 {
  let h = i32x4.add(i32x4.splat(<i32>s), i32x4.mul(i32x4.add(i32x4.splat(<i32>i), i32x4(0, 1, 2, 3)), i32x4.splat(<i32>0x9e3779b9)));
  h = v128.xor(h, i32x4.shr_u(h, 16)); h = i32x4.mul(h, i32x4.splat(<i32>0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13)); h = i32x4.mul(h, i32x4.splat(<i32>0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** The integer threshold for drop probability p: keep iff hash >= thr. */
@inline export function dropThreshold(p: f32): u32 {
  return <u32>min<f64>(<f64>p * 4294967296.0, 4294967295.0);
}

/** y = x * keep(i) / (1 - p), i = offset + element index. Used for both forward and backward (dx from dy). */
export function dropout_apply(n: i32, p: f32, seed: u32, offset: u32, x: usize, y: usize): void {
  const s = seedMix(seed), thr = dropThreshold(p);
  const inv: f32 = 1 / (1 - p);
  const invv = f32x4.splat(inv), thrv = i32x4.splat(<i32>thr);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) { // 4 lanes: keep mask from the hash, scaled multiply
    const o = <usize>i << 2;
    const keep = i32x4.ge_u(dropHash4(s, offset + <u32>i), thrv);
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), invv), keep));
  }
  for (let i = n4; i < n; i++) { // tail
    const o = <usize>i << 2;
    store<f32>(y + o, dropHash(s, offset + <u32>i) >= thr ? load<f32>(x + o) * inv : 0);
  }
}

/** The mask itself (1/(1-p) or 0) for n elements, e.g. for a layer that multiplies by a given mask. */
export function dropout_mask(n: i32, p: f32, seed: u32, offset: u32, out: usize): void {
  const s = seedMix(seed), thr = dropThreshold(p);
  const inv: f32 = 1 / (1 - p);
  const invv = f32x4.splat(inv), thrv = i32x4.splat(<i32>thr);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) // 4 lanes: 1/(1-p) where kept
    v128.store(out + (<usize>i << 2), v128.and(invv, i32x4.ge_u(dropHash4(s, offset + <u32>i), thrv)));
  for (let i = n4; i < n; i++) store<f32>(out + (<usize>i << 2), dropHash(s, offset + <u32>i) >= thr ? inv : 0);
}

/** y = max(x, 0) (y may alias x). */
export function relu_forward(n: i32, x: usize, y: usize): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(y + (<usize>i << 2), f32x4.pmax(v128.load(x + (<usize>i << 2)), zero));
  for (let i = n4; i < n; i++) store<f32>(y + (<usize>i << 2), max<f32>(load<f32>(x + (<usize>i << 2)), 0));
}

/** dx = dy where y > 0 else 0 (from the forward OUTPUT y; dx may alias dy). */
export function relu_backward(n: i32, y: usize, dy: usize, dx: usize): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}
