// The microkernels of the packed GEMM (gemm-core.ts): each computes one tile of C from a panel of
// A packed by packA and one or two panels of B, and stores or adds it. Pure functions of pointers,
// sizes and strides; blocking, packing and edge tiles live in gemm-core.ts.
//   4×8 (every build): A panel kc × MR, B panel kc × NR, both packed (`sgemm_4x8`); or B row k at
//     b + offs[k] (`sgemm_4x8_indirect`, SIMD builds); or C rows at scattered addresses
//     (`sgemm_4x8_scatter`, SIMD builds); `sgemm_2x8` computes rows 0 and 1 alone.
//   3×12 (relaxed-SIMD builds): A panel kc × WR, B the 12 columns of one and a half panels of NR
//     (`sgemm_3x12_low`, `sgemm_3x12_high`).
// C's rows are rsC floats apart; `accumulate` adds the tile to C rather than overwriting it.
//
// Register budget (SIMD): 8 f32x4 accumulators (4 rows × 2 vectors of 4 columns), 2 vectors of
// B, 4 broadcasts of A and one product: V8 hoists every load of a k step to the step's top, so all
// of them are live at once, 15 of the 15 xmm registers it gives wasm. A 5×8 tile, or this one
// unrolled over two steps, spills (alone in L1, simd, the loop then tested at the top: 24 and 31
// GFLOP/s against 42). With FMA there is no product register, and 3 rows × 12 columns fit: see
// tile3x12.
import { madd, at } from './simd';

export const MR = 4; // rows of a microtile
export const NR = 8; // columns of a microtile
/** A wide tile (relaxed-SIMD builds): 3 rows × 12 columns, over one and a half packed panels of
 *  B. See `tile3x12`. */
export const WR = 3, WC = 12;

/** The microkernel: the 4×8 tile at c (row stride rsC floats) = (accumulate ? c : 0) + Σ_k a_k b_kᵀ,
 *  where a is a packed panel of A (kc × 4) and b a packed panel of B (kc × 8). */
export function sgemm_4x8(kc: i32, a: usize, b: usize, c: usize, rsC: i32, accumulate: bool): void {
  tile4x8(kc, a, b, 0, false, c, rsC, accumulate, 0, false);
}

/** Rows 0 and 1 only of sgemm_4x8 or sgemm_4x8_indirect (SIMD builds), for the last rows of an M
 *  that leaves 1 or 2 (6 output channels: a 4-row tile and this, not two 4-row tiles). */
export function sgemm_2x8(kc: i32, a: usize, b: usize, offs: usize, indirect: bool, c: usize): void {
  if (indirect) tile4x8(kc, a, b, offs, true, c, NR, false, 0, true);
  else tile4x8(kc, a, b, 0, false, c, NR, false, 0, true);
}

/** The microkernel on an unpacked B panel (SIMD builds only): row k of B is the 8 floats at
 *  b + offs[k] (i32 byte offsets), e.g. a convolution tap read straight from the image. */
export function sgemm_4x8_indirect(kc: i32, a: usize, b: usize, offs: usize, c: usize, rsC: i32, accumulate: bool): void {
  tile4x8(kc, a, b, offs, true, c, rsC, accumulate, 0, false);
}

/** The microkernel adding into scattered C rows (SIMD builds only): row r of the tile is the 8
 *  floats at c + cOffs[r] (i32 byte offsets), e.g. a transposed convolution's taps added straight
 *  into the image. */
export function sgemm_4x8_scatter(kc: i32, a: usize, b: usize, c: usize, cOffs: usize): void {
  tile4x8(kc, a, b, 0, false, c, 0, true, cOffs, false);
}

/** The wide microkernel (relaxed-SIMD builds): the 3×12 tile at c (row stride rsC floats) =
 *  (accumulate ? c : 0) + Σ_k a_k b_kᵀ, a a packed 3-row panel of A, b_k the 12 columns of all of
 *  packed panel p and the low half of panel q. */
export function sgemm_3x12_low(kc: i32, a: usize, p: usize, q: usize, c: usize, rsC: i32, accumulate: bool): void {
  tile3x12(kc, a, p, q, false, c, rsC, accumulate);
}

/** sgemm_3x12_low on the high half of panel p and all of panel q. */
export function sgemm_3x12_high(kc: i32, a: usize, p: usize, q: usize, c: usize, rsC: i32, accumulate: bool): void {
  tile3x12(kc, a, p, q, true, c, rsC, accumulate);
}

// Nine accumulators where the 4×8 tile has eight, and fewer loads per multiply-add (3 of B and 3
// broadcasts of A for 9, against 2 and 4 for 8): V8 hoists all 6 loads to the step's top, 15 of its
// 15 xmm registers with no product register, which FMA does not need (plain SIMD's would spill).
// Alone in L1 on this project's Zen 5 host (Node 20, medians): 61.4 GFLOP/s against the 4×8 tile's
// 57.6 with FMA.
// @ts-ignore: decorator
@inline function tile3x12(kc: i32, a: usize, p: usize, q: usize, high: bool, c: usize, rsC: i32,
  accumulate: bool): void {
  if (ASC_FEATURE_SIMD) {
    const rs = <usize>rsC << 2;
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
    const aEnd = a + <usize>kc * (WR << 2);
    do {
      const b0 = high ? v128.load(p, 16) : v128.load(p);
      const b1 = high ? v128.load(q) : v128.load(p, 16);
      const b2 = high ? v128.load(q, 16) : v128.load(q);
      let ai = v128.load32_splat(a);
      c00 = madd(ai, b0, c00);
      c01 = madd(ai, b1, c01);
      c02 = madd(ai, b2, c02);
      ai = v128.load32_splat(a, 4);
      c10 = madd(ai, b0, c10);
      c11 = madd(ai, b1, c11);
      c12 = madd(ai, b2, c12);
      ai = v128.load32_splat(a, 8);
      c20 = madd(ai, b0, c20);
      c21 = madd(ai, b1, c21);
      c22 = madd(ai, b2, c22);
      a += WR << 2;
      p += NR << 2;
      q += NR << 2;
    } while (a < aEnd);
    storeRow12(c, c00, c01, c02, accumulate);
    storeRow12(c + rs, c10, c11, c12, accumulate);
    storeRow12(c + 2 * rs, c20, c21, c22, accumulate);
  }
}

/** One row of a wide tile: 12 floats at c, added to what is there when accumulating. */
// @ts-ignore: decorator
@inline function storeRow12(c: usize, v0: v128, v1: v128, v2: v128, accumulate: bool): void {
  storeRow8(c, v0, v1, accumulate);
  if (accumulate) v2 = f32x4.add(v2, v128.load(c, 32));
  v128.store(c, v2, 32);
}

// @ts-ignore: decorator
@inline function tile4x8(kc: i32, a: usize, b: usize, offs: usize, indirect: bool, c: usize, rsC: i32,
  accumulate: bool, cOffs: usize, half: bool): void {
  const rs = <usize>rsC << 2;
  if (ASC_FEATURE_SIMD) {
    const scatter = cOffs != 0;
    const c0 = scatter ? c + <usize>load<i32>(cOffs) : c;
    const c1 = scatter ? c + <usize>load<i32>(cOffs, 4) : c + rs;
    const c2 = scatter ? c + <usize>load<i32>(cOffs, 8) : c + 2 * rs;
    const c3 = scatter ? c + <usize>load<i32>(cOffs, 12) : c + 3 * rs;
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    // Bounded by A's address (and offs' stepped along) rather than a counter: one add fewer per
    // step (kernels alone, minima of interleaved runs: simd gradients 5-9% faster, forwards even).
    // Tested at the bottom (gemm never asks for kc = 0): V8 (Node 20) then computes the splats'
    // addresses once, not in every step, 30 instructions a step instead of 33, which the plain
    // SIMD tile needed (kernels alone, simd, medians on a Zen 5: C1 and C3 forwards and filter
    // gradients 16-20% faster, input gradients 2-3%; relaxed-simd even).
    const aEnd = at(a, kc * MR);
    let o = offs;
    do {
      const bk = indirect ? b + <usize>load<i32>(o) : b;
      const b0 = v128.load(bk);
      const b1 = v128.load(bk, 16);
      let ai = v128.load32_splat(a);
      c00 = madd(ai, b0, c00);
      c01 = madd(ai, b1, c01);
      ai = v128.load32_splat(a, 4);
      c10 = madd(ai, b0, c10);
      c11 = madd(ai, b1, c11);
      if (!half) {
        ai = v128.load32_splat(a, 8);
        c20 = madd(ai, b0, c20);
        c21 = madd(ai, b1, c21);
        ai = v128.load32_splat(a, 12);
        c30 = madd(ai, b0, c30);
        c31 = madd(ai, b1, c31);
      }
      a += MR << 2;
      if (indirect) o += 4;
      else b += NR << 2;
    } while (a < aEnd);
    // Row by row: scattered rows may overlap (neighbouring taps), so each row must read what the
    // previous one stored.
    storeRow8(c0, c00, c01, accumulate);
    storeRow8(c1, c10, c11, accumulate);
    if (!half) {
      storeRow8(c2, c20, c21, accumulate);
      storeRow8(c3, c30, c31, accumulate);
    }
  } else {
    // 32 scalar accumulators would spill, so the tile is computed as two 4×4 halves.
    scalar_4x4(kc, a, b, c, rs, accumulate);
    scalar_4x4(kc, a, b + 16, c + 16, rs, accumulate);
  }
}

/** One row of a SIMD tile: 8 floats at c, added to what is there when accumulating. */
// @ts-ignore: decorator
@inline export function storeRow8(c: usize, v0: v128, v1: v128, accumulate: bool): void {
  if (accumulate) {
    v0 = f32x4.add(v0, v128.load(c));
    v1 = f32x4.add(v1, v128.load(c, 16));
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/** Scalar half of the microkernel: columns 0..3 of the packed panel at b (row stride NR). */
// @ts-ignore: decorator
@inline function scalar_4x4(kc: i32, a: usize, b: usize, c: usize, rs: usize, accumulate: bool): void {
  let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
  let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
  let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
  let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
  for (let k = 0; k < kc; k++) {
    const b0 = load<f32>(b), b1 = load<f32>(b, 4), b2 = load<f32>(b, 8), b3 = load<f32>(b, 12);
    let ai = load<f32>(a);
    c00 += ai * b0; c01 += ai * b1; c02 += ai * b2; c03 += ai * b3;
    ai = load<f32>(a, 4);
    c10 += ai * b0; c11 += ai * b1; c12 += ai * b2; c13 += ai * b3;
    ai = load<f32>(a, 8);
    c20 += ai * b0; c21 += ai * b1; c22 += ai * b2; c23 += ai * b3;
    ai = load<f32>(a, 12);
    c30 += ai * b0; c31 += ai * b1; c32 += ai * b2; c33 += ai * b3;
    a += MR << 2;
    b += NR << 2;
  }
  storeRow4(c, c00, c01, c02, c03, accumulate);
  storeRow4(c + rs, c10, c11, c12, c13, accumulate);
  storeRow4(c + 2 * rs, c20, c21, c22, c23, accumulate);
  storeRow4(c + 3 * rs, c30, c31, c32, c33, accumulate);
}

// @ts-ignore: decorator
@inline function storeRow4(c: usize, v0: f32, v1: f32, v2: f32, v3: f32, accumulate: bool): void {
  if (accumulate) {
    v0 += load<f32>(c); v1 += load<f32>(c, 4); v2 += load<f32>(c, 8); v3 += load<f32>(c, 12);
  }
  store<f32>(c, v0); store<f32>(c, v1, 4); store<f32>(c, v2, 8); store<f32>(c, v3, 12);
}
