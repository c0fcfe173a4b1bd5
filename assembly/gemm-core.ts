// The packed GEMM every matrix kernel runs on, in the manner of BLIS / GotoBLAS. Not part of the
// ABI (index.ts does not re-export this file): sgemm (gemm.ts, which linear uses) and conv call
// `gemm`.
//
// Contract of `gemm`: C = A·B (accumulate = 0, C overwritten) or C += A·B (accumulate = 1), C M×N.
//   A: element (i, k) at A + 4·(i·rsA + (k / aBlock)·aStride + (k % aBlock)·csA). With aBlock = K
//      this is a plain strided matrix (a transpose is swapped strides); a smaller aBlock lets K
//      run over several images (the filter gradient folds the batch into K this way).
//   B: never read here; `packB(dst, srcs, b, k0, kc, j0, nc)` writes rows k0..k0+kc and columns
//      j0..j0+nc of B into dst as panels of NR columns: dst[((j−j0)/NR·kc + k−k0)·NR + (j−j0)%NR],
//      and srcs[panel] = 0; columns past nc may hold anything (their products only reach the
//      tile buffer, lane by lane, and are dropped there). Or, in SIMD builds, it may leave a panel
//      unpacked: srcs[panel] = an address s such that row k of the panel is the 8 floats at
//      s + offs[k − k0], where offs (i32 byte offsets, shared by the block's such panels) is what
//      it returns (0 when no panel is unpacked). `b` is whatever the packer reads (a descriptor
//      in scratch). A block of rows it is asked for never straddles two A blocks.
//   C: element (i, j) at C + 4·(i·rsC + (j / cBlock)·cStride + j % cBlock): with cBlock = N a
//      plain matrix; a smaller cBlock puts the columns of each image into its own NCHW plane.
//      Or, in SIMD builds, `scatter` (a ScatterC) maps each (tap, position) element to its own
//      address in an image (C is then that image's base; rsC and the blocks are unused) and the
//      product is always ADDED there, since different taps land on the same pixels.
//   scratch: gemm_scratch_bytes(M, N, K) bytes, clobbered.
//
// Structure: N is cut into blocks of at most NC columns, K into blocks of at most KC (and at A
// block edges), M into blocks of at most MC rows. Per (N-block, K-block) B is packed once; per
// M-block A is packed into panels of MR = 4 rows (kc groups of 4 floats). Both are zero-padded,
// so the microkernel `sgemm_4x8` always computes a full 4×8 tile from two unit-stride streams;
// tiles at the edges (or straddling two C blocks) go through a small buffer and only their valid
// part reaches C. Block sizes are balanced (K = 576 becomes 3 × 192, not 256 + 256 + 64).
// Unpacked panels go through `sgemm_4x8_indirect`, the same tile with row k of B at
// s + offs[k]: a convolution reads its interior windows from the image this way, no copy of the
// block. Each of its tiles' steps then loads an offset and adds it, which the packed tile does
// not, so when an M block has PACK_ROWS rows or more, such a panel is first copied into a buffer
// that stays in L1 (`packPanel`) and its many tiles run packed. A
// scattered C goes through `sgemm_4x8_scatter`, whose tile rows are added at c + cOffs[r]: the
// transposed convolution adds its taps into the image this way, no col2im.
// Wide tiles (relaxed-SIMD builds, M ≥ PACK_ROWS, C not scattered): A is packed into panels of 3
// rows (the last one or two of 4 when M is not a multiple of 3), B's panels are taken three at a
// time (unpacked ones all copied), and each 3-row panel runs two 3×12 tiles over them,
// `sgemm_3x12_low` and `sgemm_3x12_high`; the 4-row panels run 4×8 tiles as above. The
// microkernels, and the register budget that shapes them, are in gemm-tiles.ts.
import { at, ld, st, copy, ceilDiv } from './simd';
import {
  MR, NR, WR, WC, sgemm_4x8, sgemm_2x8, sgemm_4x8_indirect, sgemm_4x8_scatter, sgemm_3x12_low, sgemm_3x12_high,
  storeRow8,
} from './gemm-tiles';

const MC = 128; // rows of A per packed block: MC·KC floats (128 KB) stay in L2
export const KC = 256; // depth per block: a KC×NR panel of B (8 KB) stays in L1
const NC = 2048; // columns of B per packed block: KC·NC floats (2 MB) stay in L2/L3
/** Panels of B per strip of wide tiles: two wide tiles span three panels. */
const STRIP = 3;
const TILE = WR * WC; // floats of the tile buffer, enough for a 4×8 tile too
/** Rows of an M block from which an unpacked panel is copied before its tiles run (see the
 *  header). Conv forward kernels alone, A/B minima, simd and relaxed: 64 output channels (C1, C3)
 *  4-9% faster, 24 and 32 up to 3%; with the threshold lower, 16 (C4) lost 2% and 8 lost 15%. */
const PACK_ROWS = 24;

/** Packs rows k0..k0+kc, columns j0..j0+nc of some B into `dst` (layout in the header). */
export type PackB = (dst: usize, srcs: usize, b: usize, k0: i32, kc: i32, j0: i32, nc: i32) => usize;

// @ts-ignore: decorator
@inline function roundUp(n: i32, m: i32): i32 {
  return ceilDiv(n, m) * m;
}

/** Balanced block length: the sizes of ceil(n / max) blocks that differ by at most `unit`. */
// @ts-ignore: decorator
@inline function blockLength(n: i32, max: i32, unit: i32): i32 {
  return roundUp(ceilDiv(n, ceilDiv(n, max)), unit);
}

/** Floats of the packed A block, with one vector to spare: packA's 3-row panels are stored a
 *  vector (4 floats) at a time, 3 floats apart, so the last one reaches 1 float past the block. */
function packedAFloats(M: i32, K: i32): i32 {
  return roundUp(min(M, MC), MR) * min(K, KC) + 4;
}

function packedBFloats(N: i32, K: i32): i32 {
  return min(K, KC) * roundUp(min(N, NC), NR);
}

/** Bytes of scratch `gemm(M, N, K, ...)` needs: packed A block, packed B block, a strip of panels
 *  (packPanel's), one tile, and the B block's panel sources. */
export function gemm_scratch_bytes(M: i32, N: i32, K: i32): i32 {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  return (packedAFloats(M, K) + packedBFloats(N, K) + STRIP * KC * NR + TILE + ceilDiv(min(N, NC), NR)) << 2;
}

/** Whether gemm runs wide tiles (3×12) on an M of this many rows: in relaxed-SIMD builds, when C is
 *  not scattered and M is tall enough that B's unpacked panels are copied anyway (PACK_ROWS). */
// @ts-ignore: decorator
@inline function isWide(M: i32, scatter: usize): bool {
  return ASC_FEATURE_RELAXED_SIMD && !scatter && M >= PACK_ROWS;
}

/** Rows of the panel of A starting at row i of an M block of mc rows: MR, or with wide tiles 3,
 *  except that the last one or two panels take 4 when mc is not a multiple of 3 (mc ≥ 6 is
 *  3a + 4b rows). */
// @ts-ignore: decorator
@inline function panelRows(mc: i32, i: i32, wide: bool): i32 {
  if (!wide) return MR;
  return i < wideRows(mc) ? WR : MR;
}

/** Rows of an M block of mc rows that wide tiles cover (the rest take 4×8 tiles). */
// @ts-ignore: decorator
@inline function wideRows(mc: i32): i32 {
  const r = mc % WR;
  return mc - (r == 0 ? 0 : r == 1 ? MR : 2 * MR);
}

/** Rows r0..r3 of a 4×4 block (one vector each) as its columns: returns column `c`. */
// @ts-ignore: decorator
@inline export function transposeColumn(r0: v128, r1: v128, r2: v128, r3: v128, c: i32): v128 {
  // Interleave pairs of rows, then pairs of those: two shuffles per output vector.
  if (c == 0) return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), 0, 1, 4, 5);
  if (c == 1) return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), 2, 3, 6, 7);
  if (c == 2) return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), v128.shuffle<f32>(r2, r3, 2, 6, 3, 7), 0, 1, 4, 5);
  return v128.shuffle<f32>(v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), v128.shuffle<f32>(r2, r3, 2, 6, 3, 7), 2, 3, 6, 7);
}

/** Packs the mc×kc block of A at `a` into panels of h rows, h = panelRows (MR, or 3 and then
 *  MR with wide tiles): the panel of rows i..i+h at dst + 4·i·kc holds row i + r, column k at
 *  [k·h + r] (rows past mc are zeros). */
function packA(dst: usize, a: usize, rsA: i32, csA: i32, mc: i32, kc: i32, wide: bool): void {
  const cs = <usize>csA << 2, rs = <usize>rsA << 2;
  for (let i = 0; i < mc; ) {
    const h = panelRows(mc, i, wide), rows = min(h, mc - i), step = <usize>h << 2;
    let a0 = at(a, i * rsA);
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      // Stored a vector at a time, h floats apart: with h = 3 each vector's last lane is overwritten
      // by the next (packedAFloats leaves room for the last).
      if (rows == h && rsA == 1 && i + 4 <= mc) {
        // The rows are adjacent floats (A is a transpose): one vector per k (with h = 3, its last
        // lane is row i + 3, inside the block).
        for (; k < kc; k++) {
          v128.store(dst, v128.load(a0));
          a0 += cs;
          dst += step;
        }
      } else if (csA == 1) {
        // Rows run along k: 4×4 blocks transposed in registers, zero rows below the panel's.
        const z = f32x4.splat(0);
        for (; k + 4 <= kc; k += 4) {
          const r0 = v128.load(a0), r1 = rows > 1 ? v128.load(a0 + rs) : z;
          const r2 = rows > 2 ? v128.load(a0 + 2 * rs) : z, r3 = rows > 3 ? v128.load(a0 + 3 * rs) : z;
          v128.store(dst, transposeColumn(r0, r1, r2, r3, 0));
          v128.store(dst + step, transposeColumn(r0, r1, r2, r3, 1));
          v128.store(dst + 2 * step, transposeColumn(r0, r1, r2, r3, 2));
          v128.store(dst + 3 * step, transposeColumn(r0, r1, r2, r3, 3));
          a0 += 4 * cs;
          dst += 4 * step;
        }
      }
    }
    if (rows == MR) {
      for (; k < kc; k++) {
        store<f32>(dst, load<f32>(a0));
        store<f32>(dst, load<f32>(a0 + rs), 4);
        store<f32>(dst, load<f32>(a0 + 2 * rs), 8);
        store<f32>(dst, load<f32>(a0 + 3 * rs), 12);
        a0 += cs;
        dst += step;
      }
    } else {
      for (; k < kc; k++) {
        for (let r = 0; r < h; r++) st(dst, r, r < rows ? ld(a0, r * rsA) : 0);
        a0 += cs;
        dst += step;
      }
    }
    i += h;
  }
}


/** The unpacked panel at src (row k: the 8 floats at src + offs[k]) as a packed one at dst (SIMD). */
function packPanel(dst: usize, src: usize, offs: usize, kc: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let k = 0; k < kc; k++) {
      const s = src + <usize>load<i32>(offs + (<usize>k << 2)), d = at(dst, k * NR);
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
    }
  }
}

/** All microtiles of one packed (mc × kc) A block times one packed (kc × nc) B block whose first
 *  column is column j0 of C; c points at row 0 of the block, column 0 of C. With a ScatterC
 *  `scatter`, c is C's base and `rows` points at the block's first row offset instead. With `wide`
 *  (isWide), B's panels are taken three at a time and A's 3-row panels run wide tiles on them. */
function macroKernel(mc: i32, nc: i32, kc: i32, ap: usize, bp: usize, srcs: usize, offs: usize,
  c: usize, rsC: i32, j0: i32, cBlock: i32, cStride: i32, accumulate: bool, tile: usize,
  scatter: usize, rows: usize, buf: usize, wide: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD && wide) {
    const m3 = wideRows(mc), panelBytes = <usize>(KC * NR) << 2;
    for (let j = 0; j < nc; j += STRIP * NR) {
      // The strip's panels, unpacked ones copied into buf; a strip short of panels at the end of
      // the block repeats its last (those columns are past nc and never reach C).
      let p0: usize = 0, p1: usize = 0, p2: usize = 0;
      for (let s = 0; s < STRIP; s++) {
        let panel: usize;
        if (j + s * NR < nc) {
          panel = at(bp, (j + s * NR) * kc);
          const src = load<usize>(srcs + (<usize>((j + s * NR) / NR) << 2));
          if (src) {
            panel = buf + <usize>s * panelBytes;
            packPanel(panel, src, offs, kc);
          }
        } else {
          panel = s == 1 ? p0 : p1;
        }
        if (s == 0) p0 = panel;
        else if (s == 1) p1 = panel;
        else p2 = panel;
      }
      for (let i = 0; i < m3; i += WR) {
        const aPanel = at(ap, i * kc);
        for (let half = 0; half < 2; half++) {
          const col = j + half * WC;
          if (col >= nc) break;
          const n = min(WC, nc - col);
          const blk = (j0 + col) / cBlock, off = j0 + col - blk * cBlock;
          const whole = n == WC && off + WC <= cBlock;
          const cTile = whole ? at(c, i * rsC + blk * cStride + off) : tile;
          if (half == 0) sgemm_3x12_low(kc, aPanel, p0, p1, cTile, whole ? rsC : WC, whole && accumulate);
          else sgemm_3x12_high(kc, aPanel, p1, p2, cTile, whole ? rsC : WC, whole && accumulate);
          if (!whole) storeTile(tile, WC, WR, n, c, i, rsC, j0 + col, cBlock, cStride, accumulate, 0, 0);
        }
      }
      // The last one or two 4-row panels, panel by panel (now packed).
      if (m3 < mc) {
        for (let s = 0; s < STRIP && j + s * NR < nc; s++) {
          panelTiles(m3, mc, min(NR, nc - j - s * NR), kc, ap, s == 0 ? p0 : s == 1 ? p1 : p2, 0, offs,
            c, rsC, j0 + j + s * NR, cBlock, cStride, accumulate, tile, 0, 0, 0, false);
        }
      }
    }
    return;
  }
  // A scattered C's position (image sn, output row soh, column sow) of column j0 + j, stepped
  // along with j rather than divided out per panel.
  const sc = changetype<ScatterC>(scatter);
  let sn = 0, soh = 0, sow = 0;
  if (scatter) {
    const P = sc.Hout * sc.Wout;
    sn = j0 / P;
    soh = (j0 - sn * P) / sc.Wout;
    sow = j0 - sn * P - soh * sc.Wout;
  }
  for (let j = 0; j < nc; j += NR) {
    const n = min(NR, nc - j);
    let bPanel = at(bp, j * kc), src = load<usize>(srcs + (<usize>(j / NR) << 2));
    if (ASC_FEATURE_SIMD && src && mc >= PACK_ROWS) {
      packPanel(buf, src, offs, kc);
      bPanel = buf;
      src = 0;
    }
    let cPanel: usize = 0;
    if (scatter) {
      cPanel = at(c, sn * sc.imageStride + soh * sc.rowStride + sow);
      const whole = n == NR && sow + NR <= sc.Wout;
      sow += NR;
      while (sow >= sc.Wout) {
        sow -= sc.Wout;
        if (++soh == sc.Hout) {
          soh = 0;
          sn++;
        }
      }
      panelTiles(0, mc, n, kc, ap, bPanel, src, offs, c, rsC, j0 + j, cBlock, cStride, accumulate, tile,
        scatter, rows, cPanel, whole);
    } else {
      panelTiles(0, mc, n, kc, ap, bPanel, src, offs, c, rsC, j0 + j, cBlock, cStride, accumulate, tile,
        0, 0, 0, false);
    }
  }
}

/** Rows i0..mc (4-row panels of A from i0) of one panel of B, n ≤ NR columns from column col of C:
 *  bPanel packed, or (src ≠ 0) unpacked at src. With a ScatterC, cPanel is the panel's address in
 *  C and `whole` whether all its columns lie in one output row; without, both are worked out here. */
function panelTiles(i0: i32, mc: i32, n: i32, kc: i32, ap: usize, bPanel: usize, src: usize, offs: usize,
  c: usize, rsC: i32, col: i32, cBlock: i32, cStride: i32, accumulate: bool, tile: usize,
  scatter: usize, rows: usize, cPanel: usize, whole: bool): void {
  if (!scatter) {
    const blk = col / cBlock, off = col - blk * cBlock;
    cPanel = at(c, blk * cStride + off);
    whole = n == NR && off + NR <= cBlock;
  }
  for (let i = i0; i < mc; i += MR) {
    const m = min(MR, mc - i);
    const aPanel = at(ap, i * kc);
    if (m == MR && whole) {
      if (scatter) sgemm_4x8_scatter(kc, aPanel, bPanel, cPanel, rows + (<usize>i << 2));
      else if (src) sgemm_4x8_indirect(kc, aPanel, src, offs, at(cPanel, i * rsC), rsC, accumulate);
      else sgemm_4x8(kc, aPanel, bPanel, at(cPanel, i * rsC), rsC, accumulate);
      continue;
    }
    if (ASC_FEATURE_SIMD && m <= 2) sgemm_2x8(kc, aPanel, src ? src : bPanel, offs, src != 0, tile);
    else if (src) sgemm_4x8_indirect(kc, aPanel, src, offs, tile, NR, false);
    else sgemm_4x8(kc, aPanel, bPanel, tile, NR, false);
    if (ASC_FEATURE_SIMD) {
      if (whole) {
        // Fewer than MR rows of a whole panel: row by row, 8 floats at a time.
        for (let r = 0; r < m; r++) {
          const dst = scatter ? cPanel + <usize>load<i32>(rows + (<usize>(i + r) << 2)) : at(cPanel, (i + r) * rsC);
          const t = at(tile, r * NR);
          storeRow8(dst, v128.load(t), v128.load(t, 16), accumulate);
        }
        continue;
      }
    }
    storeTile(tile, NR, m, n, c, i, rsC, col, cBlock, cStride, accumulate, scatter, rows);
  }
}

/** The m × n corner of a tile buffer (row stride ldt floats) to rows i.., columns col.. of C
 *  (added when accumulating), element by element: for tiles past N or straddling two C blocks. */
function storeTile(tile: usize, ldt: i32, m: i32, n: i32, c: usize, i: i32, rsC: i32, col: i32,
  cBlock: i32, cStride: i32, accumulate: bool, scatter: usize, rows: usize): void {
  for (let q = 0; q < n; q++) {
    let base: usize;
    if (scatter) {
      base = scatterColumn(scatter, c, col + q);
    } else {
      const b = (col + q) / cBlock;
      base = at(c, i * rsC + b * cStride + col + q - b * cBlock);
    }
    for (let r = 0; r < m; r++) {
      const dst = scatter ? base + <usize>load<i32>(rows + (<usize>(i + r) << 2)) : at(base, r * rsC);
      const v = ld(tile, r * ldt + q);
      store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
    }
  }
}

/** A C whose columns are the positions j = n·Hout·Wout + oh·Wout + ow of a convolution's output
 *  and whose rows are its taps: element (i, j) at C + 4·(n·imageStride + oh·rowStride + ow) +
 *  rowOffs[i] (bytes). Consecutive columns within one output row are consecutive floats of every
 *  C row. */
@unmanaged export class ScatterC {
  rowOffs: usize;
  Hout: i32;
  Wout: i32;
  imageStride: i32;
  rowStride: i32;
}

/** Writes a ScatterC descriptor at `at_` and returns its address. */
export function scatterC(at_: usize, rowOffs: usize, Hout: i32, Wout: i32, imageStride: i32, rowStride: i32): usize {
  const d = changetype<ScatterC>(at_);
  d.rowOffs = rowOffs;
  d.Hout = Hout;
  d.Wout = Wout;
  d.imageStride = imageStride;
  d.rowStride = rowStride;
  return at_;
}

/** Address of column j of a ScatterC's row 0 before its row offset. */
// @ts-ignore: decorator
@inline function scatterColumn(desc: usize, c: usize, j: i32): usize {
  const d = changetype<ScatterC>(desc);
  const P = d.Hout * d.Wout, n = j / P, p = j - n * P, oh = p / d.Wout;
  return at(c, n * d.imageStride + oh * d.rowStride + p - oh * d.Wout);
}

export function gemm(M: i32, N: i32, K: i32,
  A: usize, rsA: i32, csA: i32, aBlock: i32, aStride: i32,
  packB: PackB, b: usize,
  C: usize, rsC: i32, cBlock: i32, cStride: i32,
  accumulate: bool, scratch: usize, scatter: usize = 0): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) st(C, i * rsC + j / cBlock * cStride + j % cBlock, 0);
      }
    }
    return;
  }
  const ap = scratch;
  const bp = at(ap, packedAFloats(M, K));
  const buf = at(bp, packedBFloats(N, K)), tile = at(buf, STRIP * KC * NR), srcs = at(tile, TILE);
  const wide = isWide(M, scatter);
  const mcMax = blockLength(M, MC, MR), ncMax = blockLength(N, NC, NR);
  const aLen = min(aBlock, K), kcMax = blockLength(aLen, KC, 1);
  for (let jc = 0; jc < N; jc += ncMax) {
    const nc = min(ncMax, N - jc);
    for (let kb = 0; kb < K; kb += aLen) {
      const aBase = at(A, kb / aLen * aStride);
      const kLen = min(aLen, K - kb);
      for (let pc = 0; pc < kLen; pc += kcMax) {
        const kc = min(kcMax, kLen - pc);
        const offs = packB(bp, srcs, b, kb + pc, kc, jc, nc);
        for (let ic = 0; ic < M; ic += mcMax) {
          const mc = min(mcMax, M - ic);
          packA(ap, at(aBase, ic * rsA + pc * csA), rsA, csA, mc, kc, wide);
          const rows = scatter ? changetype<ScatterC>(scatter).rowOffs + (<usize>ic << 2) : 0;
          macroKernel(mc, nc, kc, ap, bp, srcs, offs, scatter ? C : at(C, ic * rsC), rsC, jc, cBlock, cStride,
            accumulate || kb + pc > 0, tile, scatter, rows, buf, wide);
        }
      }
    }
  }
}

/** A strided B for `packStrided`, kept in scratch: element (k, j) at
 *  p + 4·(k·rs + (j / block)·blockStride + (j % block)·cs). A block smaller than N lets the
 *  columns run over the planes of several images (conv's input gradient reads dy so). */
@unmanaged export class StridedB {
  p: usize;
  rs: i32;
  cs: i32;
  block: i32;
  blockStride: i32;
}

/** Bytes kept at the start of the scratch for descriptors (a ConvInput, 80 bytes, or a StridedB
 *  and a ScatterC), a multiple of 16 so that what follows stays aligned. */
export const DESCRIPTOR_BYTES = 96;

/** Writes a StridedB descriptor at `at_` and returns its address. */
export function stridedB(at_: usize, p: usize, rs: i32, cs: i32, block: i32, blockStride: i32): usize {
  const d = changetype<StridedB>(at_);
  d.p = p;
  d.rs = rs;
  d.cs = cs;
  d.block = block;
  d.blockStride = blockStride;
  return at_;
}

/** srcs[] of a B block of nc columns whose panels are all packed. */
export function noSources(srcs: usize, nc: i32): void {
  memory.fill(srcs, 0, <usize>ceilDiv(nc, NR) << 2);
}

/** Rows k..k+3 of a B panel (row stride NR) from 4 consecutive k of each of its 8 columns, v0..v7
 *  (one vector per column): two 4×4 register transposes. */
// @ts-ignore: decorator
@inline export function storeTransposed(d: usize, v0: v128, v1: v128, v2: v128, v3: v128, v4: v128,
  v5: v128, v6: v128, v7: v128): void {
  v128.store(d, transposeColumn(v0, v1, v2, v3, 0));
  v128.store(d, transposeColumn(v4, v5, v6, v7, 0), 16);
  v128.store(d, transposeColumn(v0, v1, v2, v3, 1), 32);
  v128.store(d, transposeColumn(v4, v5, v6, v7, 1), 48);
  v128.store(d, transposeColumn(v0, v1, v2, v3, 2), 64);
  v128.store(d, transposeColumn(v4, v5, v6, v7, 2), 80);
  v128.store(d, transposeColumn(v0, v1, v2, v3, 3), 96);
  v128.store(d, transposeColumn(v4, v5, v6, v7, 3), 112);
}

/** One full panel of B whose NR columns are each contiguous along k, column q at src + 4·q·cs:
 *  dst[k·NR + q] = src[q·cs + k] for k < kc, in 4×4 register transposes. */
export function packTransposed(dst: usize, src: usize, cs: i32, kc: i32): void {
  const s = <usize>cs << 2;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 4 <= kc; k += 4) {
      const p = at(src, k);
      storeTransposed(at(dst, k * NR), v128.load(p), v128.load(p + s), v128.load(p + 2 * s), v128.load(p + 3 * s),
        v128.load(p + 4 * s), v128.load(p + 5 * s), v128.load(p + 6 * s), v128.load(p + 7 * s));
    }
  }
  for (; k < kc; k++) {
    for (let q = 0; q < NR; q++) st(dst, k * NR + q, ld(src, q * cs + k));
  }
}

/** PackB for a StridedB: panels inside one block take the fast paths (a row copy when columns
 *  are contiguous, register transposes when each column is); the rest go element by element. */
export function packStrided(dst: usize, srcs: usize, desc: usize, k0: i32, kc: i32, j0: i32, nc: i32): usize {
  const d = changetype<StridedB>(desc);
  noSources(srcs, nc);
  const rs = d.rs, cs = d.cs;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const blk = (j0 + j) / d.block, off = j0 + j - blk * d.block;
    const b0 = at(d.p, k0 * rs + blk * d.blockStride + off * cs);
    if (cols == NR && off + NR <= d.block && cs == 1) {
      for (let k = 0; k < kc; k++) {
        const src = at(b0, k * rs), row = at(dst, k * NR);
        if (ASC_FEATURE_SIMD) {
          v128.store(row, v128.load(src));
          v128.store(row, v128.load(src, 16), 16);
        } else {
          copy(row, src, NR);
        }
      }
    } else if (cols == NR && off + NR <= d.block && rs == 1) {
      packTransposed(dst, b0, cs, kc);
    } else {
      // Strided both ways, past N, or straddling two blocks: each column's own address.
      for (let c = 0; c < NR; c++) {
        let src: usize = 0;
        if (c < cols) {
          const col = j0 + j + c, b = col / d.block;
          src = at(d.p, k0 * rs + b * d.blockStride + (col - b * d.block) * cs);
        }
        for (let k = 0; k < kc; k++) st(dst, k * NR + c, src ? ld(src, k * rs) : 0);
      }
    }
    dst = at(dst, kc * NR);
  }
  return 0;
}

