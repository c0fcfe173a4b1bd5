// Build selection and the small helpers every kernel file shares.
//
// The same source compiles to three modules: relaxed-simd, simd and scalar. Code that uses v128
// sits under `if (ASC_FEATURE_SIMD)`, which the compiler resolves at compile time, so the scalar
// build never sees it; `madd` is the one place where the relaxed build differs from plain SIMD.
// Pointers are byte offsets into the imported memory; element indices are i32 and are turned into
// byte offsets here, once.

/** 0 scalar, 1 simd, 2 relaxed-simd: tells the host which build it loaded. */
export function backend_id(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return 2;
  if (ASC_FEATURE_SIMD) return 1;
  return 0;
}

/** a·b + c on four f32 lanes. The relaxed build lets the engine fuse it (one rounding, FMA on
 *  x86 with FMA3); plain SIMD multiplies then adds. Only call it under `if (ASC_FEATURE_SIMD)`. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Of the 8 floats a0..a3 b0..b3, the even ones: a0 a2 b0 b2. Only under `if (ASC_FEATURE_SIMD)`. */
// @ts-ignore: decorator
@inline export function evens(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}

/** Of the 8 floats a0..a3 b0..b3, the odd ones: a1 a3 b1 b3. Only under `if (ASC_FEATURE_SIMD)`. */
// @ts-ignore: decorator
@inline export function odds(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

/** The 4 floats of v moved n lanes, toward lane 0 for n > 0 and away from it for n < 0, `fill` in
 *  the lanes they leave (all of them from |n| = 4). Only under `if (ASC_FEATURE_SIMD)`. */
// @ts-ignore: decorator
@inline export function shiftLanes(v: v128, n: i32, fill: v128): v128 {
  if (n == 0) return v;
  if (n == -1) return v128.shuffle<f32>(fill, v, 0, 4, 5, 6);
  if (n == 1) return v128.shuffle<f32>(v, fill, 1, 2, 3, 4);
  if (n == 2) return v128.shuffle<f32>(v, fill, 2, 3, 4, 5);
  if (n == 3) return v128.shuffle<f32>(v, fill, 3, 4, 5, 6);
  if (n == -2) return v128.shuffle<f32>(fill, v, 0, 1, 4, 5);
  if (n == -3) return v128.shuffle<f32>(fill, v, 0, 1, 2, 4);
  return fill;
}

/** The 8 floats a0 b0 a1 b1 a2 b2 a3 b3 at d: the lanes of a and b interleaved. */
// @ts-ignore: decorator
@inline export function storeInterleaved(d: usize, a: v128, b: v128): void {
  v128.store(d, v128.shuffle<f32>(a, b, 0, 4, 1, 5));
  v128.store(d, v128.shuffle<f32>(a, b, 2, 6, 3, 7), 16);
}

/** Lane-wise `mask ? a : b` for masks whose lanes are all ones or all zeros (comparison results).
 *  The relaxed build uses laneselect (one blend instruction on x86); plain SIMD a bitselect. */
// @ts-ignore: decorator
@inline export function blend(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** Static scratch for kernels whose ABI passes none (avg-pool.ts and max-pool-separable.ts, which
 *  never run at once): this many bytes past the module's static data. heap_base() reports its end,
 *  so the host's heap starts above it; unlike memory.data it adds nothing to the module's size. */
export const STATIC_SCRATCH_BYTES = 32 << 10;
export const staticScratch: usize = (__heap_base + 15) & ~15;

/** Byte address of f32 element `i` of the buffer at `p`. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** f32 element `i` of the buffer at `p`. */
// @ts-ignore: decorator
@inline export function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

/** Writes f32 element `i` of the buffer at `p`. */
// @ts-ignore: decorator
@inline export function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/** Below this many floats, zero and copy run a loop: V8 makes memory.fill and memory.copy calls
 *  out of the compiled code, which cost more than a short run itself (splitting the input of a
 *  stride-2 depthwise convolution, with two such calls per row, took 26% less time without them). */
const SHORT = 64;

/** Sets `n` f32 elements at `p` to zero. */
// @ts-ignore: decorator
@inline export function zero(p: usize, n: i32): void {
  if (n >= SHORT) {
    memory.fill(p, 0, <usize>n << 2);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), i32x4.splat(0));
  }
  for (; i < n; i++) st(p, i, 0);
}

/** Copies `n` f32 elements from `src` to `dst` (non-overlapping). */
// @ts-ignore: decorator
@inline export function copy(dst: usize, src: usize, n: i32): void {
  if (n >= SHORT) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  }
  for (; i < n; i++) st(dst, i, ld(src, i));
}

/** dst[i] += src[i] for i < n. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
    }
  }
  for (; i < n; i++) st(dst, i, ld(dst, i) + ld(src, i));
}

/** dst[i·ds] += a · src[i·ss] for i < n; vectorized when both strides are 1. */
export function axpy(dst: usize, ds: i32, src: usize, ss: i32, a: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (ds == 1 && ss == 1) {
      const av = f32x4.splat(a);
      for (; i + 4 <= n; i += 4) v128.store(at(dst, i), madd(av, v128.load(at(src, i)), v128.load(at(dst, i))));
    }
  }
  for (; i < n; i++) st(dst, i * ds, ld(dst, i * ds) + a * ld(src, i * ss));
}

/** Σ a[i·sa] · b[i·sb] for i < n, in f32; vectorized when both strides are 1. */
export function dot(a: usize, sa: i32, b: usize, sb: i32, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    if (sa == 1 && sb == 1) {
      let acc = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) acc = madd(v128.load(at(a, i)), v128.load(at(b, i)), acc);
      s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
        f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    }
  }
  for (; i < n; i++) s += ld(a, i * sa) * ld(b, i * sb);
  return s;
}

/** p[i] = v for i < n. */
export function fill(p: usize, v: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), vv);
  }
  for (; i < n; i++) st(p, i, v);
}

/** p[i] += v for i < n. */
export function addScalar(p: usize, v: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), f32x4.add(v128.load(at(p, i)), vv));
  }
  for (; i < n; i++) st(p, i, ld(p, i) + v);
}

const SUM_BLOCK = 1024;

/** Σ p[i] for i < n, in f64: the SIMD builds add blocks of up to SUM_BLOCK elements in sixteen f32
 *  partial sums (four vectors) and each block's total in f64, so long sums (a bias gradient over a
 *  batch of large planes) keep their precision without giving up vector adds. */
export function sum(p: usize, n: i32): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    // Four chains of dependent adds rather than one, so that loads, not add latency, bound it
    // (conv2d_backward_bias alone on LeNet's first layer, both builds: 30 → 15 µs).
    while (i + 16 <= n) {
      const end = min(n & ~15, i + SUM_BLOCK);
      let acc = f32x4.splat(0), acc1 = acc, acc2 = acc, acc3 = acc;
      for (; i < end; i += 16) {
        acc = f32x4.add(acc, v128.load(at(p, i)));
        acc1 = f32x4.add(acc1, v128.load(at(p, i), 16));
        acc2 = f32x4.add(acc2, v128.load(at(p, i), 32));
        acc3 = f32x4.add(acc3, v128.load(at(p, i), 48));
      }
      acc = f32x4.add(f32x4.add(acc, acc1), f32x4.add(acc2, acc3));
      s += <f64>(f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
        f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    }
  }
  for (; i < n; i++) s += <f64>ld(p, i);
  return s;
}

/** Smallest integer ≥ a / b for a ≥ 0, b > 0. */
// @ts-ignore: decorator
@inline export function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

/** Whether four consecutive pooling outputs read inputs that one vector (stride 1) or two (stride
 *  2) hold: the strides the pooling kernels vectorize. */
// @ts-ignore: decorator
@inline export function vectorStride(sW: i32): bool {
  return sW == 1 || sW == 2;
}
