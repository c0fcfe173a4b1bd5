// Single-precision GEMM, packed and register-blocked in the manner of BLIS / GotoBLAS.
//
// Contract of `sgemm`: C[M×N] = A·B (accumulate = 0, C overwritten) or C += A·B (accumulate = 1).
//   A: element (i, k) at A + 4·(i·rsA + k·csA)    any strides: a transpose is just swapped strides
//   B: element (k, j) at B + 4·(k·rsB + j·csB)
//   C: element (i, j) at C + 4·(i·rsC + j)         rows may be padded, columns are contiguous
//   scratch: sgemm_scratch_bytes(M, N, K) bytes, no alignment required, clobbered.
//
// Structure: the K dimension is cut into blocks of at most KC, M into blocks of at most MC rows
// and N into blocks of at most NC columns. For each (N-block, K-block) a block of B is packed
// into panels of NR = 8 columns (kc rows of 8 contiguous floats); for each M-block within it, a
// block of A is packed into panels of MR = 4 rows (kc groups of 4 floats). Both are zero-padded at
// the edges, so the microkernel `sgemm_4x8` always computes a full 4×8 tile from two unit-stride
// streams; partial tiles go through a small buffer and only their valid part reaches C. Block
// sizes are balanced (K = 576 becomes 3 × 192, not 256 + 256 + 64) so that no block is tiny.
//
// Register budget (SIMD): 8 f32x4 accumulators (4 rows × 2 vectors of 4 columns), 2 vectors of
// B and one broadcast of A: 11 of the ~15 xmm registers V8 gives wasm; a larger tile spills.
import { madd, at, ld, st, zero, copy, ceilDiv } from './simd';

const MR = 4; // rows of a microtile
const NR = 8; // columns of a microtile
const MC = 128; // rows of A per packed block: MC·KC floats (128 KB) stay in L2
const KC = 256; // depth per block: a KC×NR panel of B (8 KB) stays in L1
const NC = 2048; // columns of B per packed block: KC·NC floats (2 MB) stay in L2/L3
const TILE = MR * NR;

// @ts-ignore: decorator
@inline function roundUp(n: i32, m: i32): i32 {
  return ceilDiv(n, m) * m;
}

/** Balanced block length: the sizes of ceil(n / max) blocks that differ by at most `unit`. */
// @ts-ignore: decorator
@inline function blockLength(n: i32, max: i32, unit: i32): i32 {
  return roundUp(ceilDiv(n, ceilDiv(n, max)), unit);
}

function packedAFloats(M: i32, K: i32): i32 {
  return roundUp(min(M, MC), MR) * min(K, KC);
}

function packedBFloats(N: i32, K: i32): i32 {
  return min(K, KC) * roundUp(min(N, NC), NR);
}

/** Bytes of scratch `sgemm(M, N, K, ...)` needs: packed A block, packed B block, one tile. */
export function sgemm_scratch_bytes(M: i32, N: i32, K: i32): i32 {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  return (packedAFloats(M, K) + packedBFloats(N, K) + TILE) << 2;
}

/** Packs the mc×kc block of A at `a` into panels of MR rows: dst[(i/MR·kc + k)·MR + i%MR]. */
function packA(dst: usize, a: usize, rsA: i32, csA: i32, mc: i32, kc: i32): void {
  const cs = <usize>csA << 2;
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    let a0 = at(a, i * rsA);
    if (rows == MR) {
      const rs = <usize>rsA << 2;
      for (let k = 0; k < kc; k++) {
        store<f32>(dst, load<f32>(a0));
        store<f32>(dst, load<f32>(a0 + rs), 4);
        store<f32>(dst, load<f32>(a0 + 2 * rs), 8);
        store<f32>(dst, load<f32>(a0 + 3 * rs), 12);
        a0 += cs;
        dst += MR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) st(dst, r, r < rows ? ld(a0, r * rsA) : 0);
        a0 += cs;
        dst += MR << 2;
      }
    }
  }
}

/** Packs the kc×nc block of B at `b` into panels of NR columns: dst[(j/NR·kc + k)·NR + j%NR]. */
function packB(dst: usize, b: usize, rsB: i32, csB: i32, kc: i32, nc: i32): void {
  const rs = <usize>rsB << 2;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let b0 = at(b, j * csB);
    if (cols == NR && csB == 1) {
      for (let k = 0; k < kc; k++) {
        if (ASC_FEATURE_SIMD) {
          v128.store(dst, v128.load(b0));
          v128.store(dst, v128.load(b0, 16), 16);
        } else {
          copy(dst, b0, NR);
        }
        b0 += rs;
        dst += NR << 2;
      }
    } else if (cols == NR) {
      const cs = <usize>csB << 2;
      for (let k = 0; k < kc; k++) {
        let p = b0;
        for (let c = 0; c < NR; c++) {
          st(dst, c, load<f32>(p));
          p += cs;
        }
        b0 += rs;
        dst += NR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let c = 0; c < NR; c++) st(dst, c, c < cols ? ld(b0, c * csB) : 0);
        b0 += rs;
        dst += NR << 2;
      }
    }
  }
}

/** The microkernel: the 4×8 tile at c (row stride rsC floats) = (accumulate ? c : 0) + Σ_k a_k b_kᵀ,
 *  where a is a packed panel of A (kc × 4) and b a packed panel of B (kc × 8). */
function sgemm_4x8(kc: i32, a: usize, b: usize, c: usize, rsC: i32, accumulate: bool): void {
  const rs = <usize>rsC << 2;
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(b);
      const b1 = v128.load(b, 16);
      let ai = v128.load32_splat(a);
      c00 = madd(ai, b0, c00);
      c01 = madd(ai, b1, c01);
      ai = v128.load32_splat(a, 4);
      c10 = madd(ai, b0, c10);
      c11 = madd(ai, b1, c11);
      ai = v128.load32_splat(a, 8);
      c20 = madd(ai, b0, c20);
      c21 = madd(ai, b1, c21);
      ai = v128.load32_splat(a, 12);
      c30 = madd(ai, b0, c30);
      c31 = madd(ai, b1, c31);
      a += MR << 2;
      b += NR << 2;
    }
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + rs));
      c11 = f32x4.add(c11, v128.load(c + rs, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * rs));
      c21 = f32x4.add(c21, v128.load(c + 2 * rs, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * rs));
      c31 = f32x4.add(c31, v128.load(c + 3 * rs, 16));
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + rs, c10);
    v128.store(c + rs, c11, 16);
    v128.store(c + 2 * rs, c20);
    v128.store(c + 2 * rs, c21, 16);
    v128.store(c + 3 * rs, c30);
    v128.store(c + 3 * rs, c31, 16);
  } else {
    // 32 scalar accumulators would spill, so the tile is computed as two 4×4 halves.
    scalar_4x4(kc, a, b, c, rs, accumulate);
    scalar_4x4(kc, a, b + 16, c + 16, rs, accumulate);
  }
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

/** All microtiles of one packed (mc × kc) A block times one packed (kc × nc) B block. */
function macroKernel(mc: i32, nc: i32, kc: i32, ap: usize, bp: usize, c: usize, rsC: i32,
  accumulate: bool, tile: usize): void {
  for (let j = 0; j < nc; j += NR) {
    const n = min(NR, nc - j);
    const bPanel = at(bp, j * kc);
    for (let i = 0; i < mc; i += MR) {
      const m = min(MR, mc - i);
      const aPanel = at(ap, i * kc);
      const cTile = at(c, i * rsC + j);
      if (m == MR && n == NR) {
        sgemm_4x8(kc, aPanel, bPanel, cTile, rsC, accumulate);
      } else {
        sgemm_4x8(kc, aPanel, bPanel, tile, NR, false);
        for (let r = 0; r < m; r++) {
          const src = at(tile, r * NR), dst = at(cTile, r * rsC);
          for (let q = 0; q < n; q++) st(dst, q, (accumulate ? ld(dst, q) : 0) + ld(src, q));
        }
      }
    }
  }
}

export function sgemm(M: i32, N: i32, K: i32,
  A: usize, rsA: i32, csA: i32, // (M, K) f32, strided
  B: usize, rsB: i32, csB: i32, // (K, N) f32, strided
  C: usize, rsC: i32, // (M, N) f32, row stride rsC
  accumulate: i32, scratch: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) for (let i = 0; i < M; i++) zero(at(C, i * rsC), N);
    return;
  }
  const ap = scratch;
  const bp = at(ap, packedAFloats(M, K));
  const tile = at(bp, packedBFloats(N, K));
  const mcMax = blockLength(M, MC, MR), kcMax = blockLength(K, KC, 1), ncMax = blockLength(N, NC, NR);
  for (let jc = 0; jc < N; jc += ncMax) {
    const nc = min(ncMax, N - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min(kcMax, K - pc);
      packB(bp, at(B, pc * rsB + jc * csB), rsB, csB, kc, nc);
      for (let ic = 0; ic < M; ic += mcMax) {
        const mc = min(mcMax, M - ic);
        packA(ap, at(A, ic * rsA + pc * csA), rsA, csA, mc, kc);
        macroKernel(mc, nc, kc, ap, bp, at(C, ic * rsC + jc), rsC, accumulate != 0 || pc > 0, tile);
      }
    }
  }
}
