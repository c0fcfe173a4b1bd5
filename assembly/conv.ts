// 2-D convolution (PyTorch's conv2d, NCHW) as GEMMs over packed im2col, forward and backward side
// by side.
//
// Geometry (the ABI's 16 integers): N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW,
// groups. With g = groups, Cg = Cin/g input channels and Og = Cout/g output channels per group,
// K = Cg·kH·kW and P = Hout·Wout, per group gi, the batch folded into one GEMM dimension:
//   forward          Y_g (Og, N·P)  = W_g (Og, K) · col(x_g) (K, N·P) + b_g      y OVERWRITTEN
//   backward_input   dX_g           = col2im(W_gᵀ (K, Og) · dY_g (Og, N·P))      dx OVERWRITTEN
//   backward_filter  dW_g (Og, K)  += dY_g (Og, N·P) · col(x_g)ᵀ (N·P, K)         dw ACCUMULATED
//   backward_bias    db (C)        += Σ_{n, p} dy                                 db ACCUMULATED
//   add_channel_bias y (N, C, HW)  += b (C)
// Layouts: x (N, Cin, H, W), y (N, Cout, Hout, Wout), w (Cout, Cg, kH, kW), b (Cout) or 0.
// In SIMD builds col is never stored. The three GEMMs address x (or dx) through a table of tap
// offsets into a "split input" (im2col.ts): x itself when unpadded with stride 1, else a copy of
// it zero-padded and split by column phase, in which the 8 positions of a panel within one output
// row are 8 consecutive floats for every tap. The forward reads such panels in place (others are
// copied from the split input); the filter gradient transposes its colᵀ panels from it; the input
// gradient's GEMM adds each 4-tap × 8-position tile of Wᵀ·dY into a zeroed split image of dx
// (a col2im inside the GEMM), whose inside is then copied out to dx. gemm's per-image C and A
// blocks address y and dy in NCHW directly.
// The scalar build packs col with bounds checks (im2colRun, tapRun) and, for the input gradient,
// stores the GEMM's (K, nb·P) product for a chunk of nb images, then col2im.
// Scratch (conv2d_scratch_bytes): a descriptor area, then the tap offsets and the split input (SIMD;
// the input gradient then also its taps reordered and the weights to match, kwMajorTaps) or the col
// chunk or the filter gradient's staging area (scalar), then the GEMM's packing area.
// A 1×1, stride-1, unpadded convolution needs no im2col: the GEMMs read x and write dx directly.
// Depthwise convolutions (Cg = 1, groups > 1) skip the GEMM (depthwise.ts) but share the split
// input and tap offsets in SIMD builds (most 3×3 ones at padding 1 read x in place instead). So does
// the filter gradient of a convolution with a single input channel (Cin = 1, groups = 1: LeNet's
// first layer), whose M = Cout rows and K = kH·kW taps are too few for the GEMM to pay for
// transposing its panels: output channels read one plane.
import { gemm, gemm_scratch_bytes, stridedB, scatterC, packStrided, DESCRIPTOR_BYTES, KC } from './gemm-core';
import { NR } from './gemm-tiles';
import {
  convInput, directPanels, tapOffsets, needsSplit, splitRow, splitInput, mergeSplit, packIm2col, packIm2colT,
  col2im,
} from './im2col';
import {
  depthwiseTaps, depthwisePlanes, depthwiseInput, gatherInput, gatherPlaneFloats, FORWARD, INPUT, FILTER,
} from './depthwise';
import { depthwiseRows } from './depthwise-rows';
import {
  inPlace3x3s2, taps3x3p1, depthwise3x3s2, depthwiseFilter3x3s2, inPlace3x3s1, depthwise3x3s1,
  depthwiseFilter3x3s1,
} from './depthwise-3x3';
import { at, ld, st, zero, fill, addInto, addScalar, sum } from './simd';

/** Whether the convolution is a plain matrix product over channels (no im2col needed). */
// @ts-ignore: decorator
@inline function isPointwise(H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32): bool {
  return kH == 1 && kW == 1 && sH == 1 && sW == 1 && pH == 0 && pW == 0 && Hout == H && Wout == W;
}

/** Images per input-gradient chunk: enough for about COLS columns, so that small images share
 *  one GEMM while the (K, nb·P) col chunk stays near L2's size. */
const COLS = 1024;
// @ts-ignore: decorator
@inline function chunkImages(N: i32, P: i32): i32 {
  return max(1, min(N, COLS / max(P, 1)));
}

/** packIm2colT's staging area: NR taps × at most KC positions. */
const TMP_BYTES = NR * KC * 4;

/** Bytes of n 4-byte elements (floats, or i32 offsets), rounded up to 16 so that the scratch
 *  area after them stays aligned. */
// @ts-ignore: decorator
@inline function alignedBytes(n: i32): i32 {
  return ((n << 2) + 15) & ~15;
}

/** Bytes of packIm2col's tap offsets. */
// @ts-ignore: decorator
@inline function tapsBytes(K: i32): i32 {
  return alignedBytes(K);
}

/** Bytes of split input (im2col.ts) per chunk of images: the split of a chunk is still in L2 when
 *  the GEMM reads it (splitting C3's whole batch first took 8% of its forward; in chunks, C3's three
 *  ops take 4-8% less time than that, measured on the kernels). */
const SPLIT_CHUNK_BYTES = 512 * 1024;

/** Floats of one image's split input. */
// @ts-ignore: decorator
@inline function splitImageFloats(Cin: i32, H: i32, W: i32, sW: i32, pH: i32, pW: i32): i32 {
  return Cin * (H + 2 * pH) * splitRow(W, sW, pW);
}

/** Images per chunk of the SIMD builds' loop over the batch: all of them when x is its own split
 *  (or in the scalar build), else as many as fill SPLIT_CHUNK_BYTES (at least one). */
// @ts-ignore: decorator
@inline function splitImages(N: i32, Cin: i32, H: i32, W: i32, sW: i32, pH: i32, pW: i32): i32 {
  if (!ASC_FEATURE_SIMD || !needsSplit(sW, pH, pW)) return N;
  return max(1, min(N, SPLIT_CHUNK_BYTES / (splitImageFloats(Cin, H, W, sW, pH, pW) << 2)));
}

/** Bytes of the split input of one chunk of images, when there is one. */
// @ts-ignore: decorator
@inline function splitBytes(N: i32, Cin: i32, H: i32, W: i32, sW: i32, pH: i32, pW: i32): i32 {
  if (!ASC_FEATURE_SIMD || !needsSplit(sW, pH, pW)) return 0;
  const images = splitImages(N, Cin, H, W, sW, pH, pW);
  return alignedBytes(images * splitImageFloats(Cin, H, W, sW, pH, pW));
}

/** Bytes before the filter gradient's split input: its tap offsets (SIMD) or staging area. */
// @ts-ignore: decorator
@inline function filterTmpBytes(K: i32): i32 {
  return ASC_FEATURE_SIMD ? tapsBytes(K) : TMP_BYTES;
}

/** In SIMD builds, the source of the packers' direct reads for N images at x: when x is not its
 *  own split, writes their split input at `split` (`padded`: a chunk after the first, see
 *  splitInput); returns the split input. */
function splitForDirect(split: usize, x: usize, N: i32, Cin: i32, H: i32, W: i32, sW: i32, pH: i32,
  pW: i32, padded: bool): usize {
  if (!ASC_FEATURE_SIMD) return 0;
  if (!needsSplit(sW, pH, pW)) return x;
  splitInput(split, x, N * Cin, H, W, sW, pH, pW, padded);
  return split;
}

/** Points a group's ConvInput at group g of the split input xs (SIMD builds). */
function directGroup(desc: usize, xs: usize, g: i32, Cin: i32, Cg: i32, H: i32, W: i32, sW: i32,
  pH: i32, pW: i32): usize {
  if (!ASC_FEATURE_SIMD) return desc;
  const row = splitRow(W, sW, pW), plane = (H + 2 * pH) * row;
  return directPanels(desc, at(xs, g * Cg * plane), Cin * plane, row);
}

/** Bytes of the col chunk. */
// @ts-ignore: decorator
@inline function colBytes(K: i32, cols: i32): i32 {
  return alignedBytes(K * cols);
}

/** The input gradient's taps in the order (c, kw, kh), kh fastest: the tap offsets `taps` (in
 *  tapOffsets' order (c, kh, kw)) to `order`, and w (Cout, K) to `wt` with its columns to match.
 *  A scattered tile adds its 4 rows (4 taps) into dx one after another, each reading what the one
 *  before stored; with kw fastest those rows are 1 float apart, so every load but the first
 *  partly overlaps a store still in flight and waits for it (no store-to-load forwarding), while
 *  taps a row apart do not overlap. Kernels alone (simd, A/B minima): C2 0.94 -> 0.60 ms, C4
 *  1.08 -> 0.77, C1 -6%, C3 -2% (its stride-2 split already parts neighbouring taps). */
function kwMajorTaps(order: usize, wt: usize, taps: usize, w: usize, Cout: i32, Cg: i32, kH: i32, kW: i32): void {
  const T = kH * kW, K = Cg * T;
  for (let c = 0; c < Cg; c++) {
    for (let kw = 0; kw < kW; kw++) {
      for (let kh = 0; kh < kH; kh++) {
        const to = c * T + kw * kH + kh, from = c * T + kh * kW + kw;
        store<i32>(order + (<usize>to << 2), load<i32>(taps + (<usize>from << 2)));
        for (let o = 0; o < Cout; o++) st(wt, o * K + to, ld(w, o * K + from));
      }
    }
  }
}

/** Where the input gradient's ScatterC sits in the descriptor area, after its StridedB. */
const SCATTER_AT = 48;

export function conv2d_scratch_bytes(N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32,
  Wout: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
  groups: i32): i32 {
  const K = Cin / groups * kH * kW, Og = Cout / groups, P = Hout * Wout;
  const cols = chunkImages(N, P) * P;
  const split = splitBytes(N, Cin, H, W, sW, pH, pW);
  const forward = tapsBytes(K) + split + gemm_scratch_bytes(Og, N * P, K);
  const filter = filterTmpBytes(K) + split + gemm_scratch_bytes(Og, K, N * P);
  let input = gemm_scratch_bytes(K, N * P, Og); // straight into dx, all images in one GEMM
  if (!isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW)) {
    input = ASC_FEATURE_SIMD
      ? tapsBytes(K) * 2 + alignedBytes(Cout * K) + split + input
      : colBytes(K, cols) + gemm_scratch_bytes(K, cols, Og);
  }
  if (ASC_FEATURE_SIMD && Cin / groups == 1 && groups > 1 &&
    gatherInput(Cin, Cout, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW)) {
    input = max(input, tapsBytes(K) * 2 + (gatherPlaneFloats(Hout, Wout, kH, kW, pH, pW, dH, dW) << 2));
  }
  return DESCRIPTOR_BYTES + max(input, max(forward, filter));
}

export function conv2d_forward(y: usize, // (N, Cout, Hout, Wout) f32, overwritten
  x: usize, // (N, Cin, H, W) f32
  w: usize, // (Cout, Cin/groups, kH, kW) f32
  b: usize, // (Cout) f32, or 0 for no bias
  scratch: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32): void {
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout, HW = H * W;
  const depthwise = Cg == 1 && groups > 1;
  if (depthwise && !depthwiseRows(Wout)) {
    for (let i = 0; i < N * Cout; i++) fill(at(y, i * P), b ? ld(b, i % Cout) : 0, P);
    depthwiseTaps(FORWARD, y, x, w, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  const pointwise = !depthwise && isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW);
  // Bias first, then the product accumulates onto it: no second pass over y. (Depthwise rows start
  // their sums from the bias themselves.)
  if (b && !depthwise) for (let i = 0; i < N * Cout; i++) fill(at(y, i * P), ld(b, i % Cout), P);
  const offsets = scratch + DESCRIPTOR_BYTES;
  const split = offsets + tapsBytes(K), gemmScratch = split + splitBytes(N, Cin, H, W, sW, pH, pW);
  if (pointwise) {
    for (let g = 0; g < groups; g++) {
      // Columns n·P + p of the product land in plane (n, g·Og + row) of y.
      gemm(Og, N * P, K, at(w, g * Og * K), K, 1, K, 0,
        packStrided, stridedB(scratch, at(x, g * Cg * HW), HW, 1, HW, Cin * HW),
        at(y, g * Og * P), P, P, Cout * P, b != 0, gemmScratch);
    }
    return;
  }
  if (depthwise && inPlace3x3s2(W, kH, kW, sH, sW, pH, pW, dH, dW)) {
    depthwise3x3s2(y, x, w, b, split, N, Cin, H, W, Cout, Hout, Wout);
    return;
  }
  if (depthwise && inPlace3x3s1(W, kH, kW, sH, sW, pH, pW, dH, dW)) {
    depthwise3x3s1(y, x, w, b, split, N, Cin, H, W, Cout);
    return;
  }
  if (ASC_FEATURE_SIMD) tapOffsets(offsets, Cg, H, W, kH, kW, sW, pH, pW, dH, dW);
  if (ASC_FEATURE_SIMD && depthwise) {
    depthwisePlanes(FORWARD, y, x, w, b, offsets, split, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW);
    return;
  }
  const nb = splitImages(N, Cin, H, W, sW, pH, pW);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0), xn = at(x, n0 * Cin * HW), yn = at(y, n0 * Cout * P);
    const xs = splitForDirect(split, xn, images, Cin, H, W, sW, pH, pW, n0 > 0);
    for (let g = 0; g < groups; g++) {
      const desc = directGroup(convInput(scratch, ASC_FEATURE_SIMD ? offsets : 0, at(xn, g * Cg * HW), Cin * HW,
        Cg, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW), xs, g, Cin, Cg, H, W, sW, pH, pW);
      gemm(Og, images * P, K, at(w, g * Og * K), K, 1, K, 0, packIm2col, desc,
        at(yn, g * Og * P), P, P, Cout * P, b != 0, gemmScratch);
    }
  }
}

export function conv2d_backward_input(dx: usize, // (N, Cin, H, W) f32, overwritten
  dy: usize, // (N, Cout, Hout, Wout) f32
  w: usize, // (Cout, Cin/groups, kH, kW) f32
  scratch: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32): void {
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout, HW = H * W;
  const depthwise = Cg == 1 && groups > 1;
  if (depthwise && !depthwiseRows(Wout)) {
    zero(dx, N * Cin * HW);
    depthwiseTaps(INPUT, dy, dx, w, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  const pointwise = !depthwise && isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW);
  const desc = scratch, col = scratch + DESCRIPTOR_BYTES;
  // Wᵀ: element (k, o) of the (K, Og) matrix is w[o·K + k]; dY's columns n·P + p run over images.
  if (pointwise) {
    for (let g = 0; g < groups; g++) {
      gemm(K, N * P, Og, at(w, g * Og * K), 1, K, Og, 0,
        packStrided, stridedB(desc, at(dy, g * Og * P), P, 1, P, Cout * P),
        at(dx, g * Cg * HW), HW, HW, Cin * HW, false, col);
    }
    return;
  }
  if (ASC_FEATURE_SIMD) {
    // No col: the GEMM adds each tile of Wᵀ·dY (4 taps × 8 positions of one output row) straight
    // into the split image of dx (im2col.ts), where a tap of 8 positions is 8 consecutive floats;
    // its taps (the rows of Wᵀ) run in kwMajorTaps' order.
    const taps = col, split = taps + tapsBytes(K), order = split + splitBytes(N, Cin, H, W, sW, pH, pW);
    const wt = order + tapsBytes(K), gemmScratch = wt + alignedBytes(Cout * K);
    const row = splitRow(W, sW, pW), plane = (H + 2 * pH) * row;
    tapOffsets(taps, Cg, H, W, kH, kW, sW, pH, pW, dH, dW);
    if (depthwise) {
      depthwiseInput(dx, dy, w, taps, split, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
      return;
    }
    kwMajorTaps(order, wt, taps, w, Cout, Cg, kH, kW);
    const scatter = scatterC(desc + SCATTER_AT, order, Hout, Wout, Cin * plane, sH * row);
    const nb = splitImages(N, Cin, H, W, sW, pH, pW);
    for (let n0 = 0; n0 < N; n0 += nb) {
      const images = min(nb, N - n0), dxn = at(dx, n0 * Cin * HW);
      const dxs = needsSplit(sW, pH, pW) ? split : dxn;
      zero(dxs, images * Cin * plane);
      for (let g = 0; g < groups; g++) {
        gemm(K, images * P, Og, at(wt, g * Og * K), 1, K, Og, 0,
          packStrided, stridedB(desc, at(dy, (n0 * Cout + g * Og) * P), P, 1, P, Cout * P),
          at(dxs, g * Cg * plane), 0, images * P, 0, true, gemmScratch, scatter);
      }
      if (dxs != dxn) mergeSplit(dxn, dxs, images * Cin, H, W, sW, pH, pW);
    }
    return;
  }
  zero(dx, N * Cin * HW);
  const nb = chunkImages(N, P);
  const gemmScratch = col + colBytes(K, nb * P);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0), cols = images * P;
    for (let g = 0; g < groups; g++) {
      gemm(K, cols, Og, at(w, g * Og * K), 1, K, Og, 0,
        packStrided, stridedB(desc, at(dy, (n0 * Cout + g * Og) * P), P, 1, P, Cout * P),
        col, cols, cols, 0, false, gemmScratch);
      for (let i = 0; i < images; i++) {
        col2im(at(dx, ((n0 + i) * Cin + g * Cg) * HW), at(col, i * P), cols,
          Cg, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
      }
    }
  }
}

export function conv2d_backward_filter(dw: usize, // (Cout, Cin/groups, kH, kW) f32, accumulated
  x: usize, // (N, Cin, H, W) f32
  dy: usize, // (N, Cout, Hout, Wout) f32
  scratch: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32): void {
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout, HW = H * W;
  const depthwise = Cg == 1 && groups > 1, single = Cg == 1 && groups == 1 && depthwiseRows(Wout);
  if (depthwise && !depthwiseRows(Wout)) {
    depthwiseTaps(FILTER, dy, x, dw, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  // SIMD builds transpose panels straight from the split input through the tap offsets; the
  // scalar build gathers each tap's run into a staging area first.
  const tmp = scratch + DESCRIPTOR_BYTES;
  const split = tmp + filterTmpBytes(K), gemmScratch = split + splitBytes(N, Cin, H, W, sW, pH, pW);
  if (depthwise && Og == 1 && W >= 8 && taps3x3p1(2, kH, kW, sH, sW, pH, pW, dH, dW)) {
    depthwiseFilter3x3s2(dw, x, dy, split, N, Cin, H, W, Hout, Wout);
    return;
  }
  if (depthwise && Og == 1 && W >= 8 && taps3x3p1(1, kH, kW, sH, sW, pH, pW, dH, dW)) {
    depthwiseFilter3x3s1(dw, x, dy, N, Cin, H, W);
    return;
  }
  if (ASC_FEATURE_SIMD) tapOffsets(tmp, Cg, H, W, kH, kW, sW, pH, pW, dH, dW);
  if (ASC_FEATURE_SIMD && (depthwise || single)) {
    depthwisePlanes(FILTER, dy, x, dw, 0, tmp, split, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW);
    return;
  }
  const nb = splitImages(N, Cin, H, W, sW, pH, pW);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0), xn = at(x, n0 * Cin * HW);
    const xs = splitForDirect(split, xn, images, Cin, H, W, sW, pH, pW, n0 > 0);
    for (let g = 0; g < groups; g++) {
      const desc = directGroup(convInput(scratch, tmp, at(xn, g * Cg * HW), Cin * HW, Cg, H, W, Hout, Wout,
        kH, kW, sH, sW, pH, pW, dH, dW), xs, g, Cin, Cg, H, W, sW, pH, pW);
      // dY_g's depth index n·P + p runs over images: A blocks of P with a stride of one image.
      gemm(Og, K, images * P, at(dy, (n0 * Cout + g * Og) * P), P, 1, P, Cout * P, packIm2colT, desc,
        at(dw, g * Og * K), K, K, 0, true, gemmScratch);
    }
  }
}

export function conv2d_backward_bias(db: usize, // (C) f32, accumulated
  dy: usize, // (N, C, HW) f32
  N: i32, C: i32, HW: i32): void {
  if (HW == 1) {
    // Linear's bias gradient: rows of dy are contiguous over channels.
    for (let n = 0; n < N; n++) addInto(db, at(dy, n * C), C);
    return;
  }
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) s += sum(at(dy, (n * C + c) * HW), HW);
    st(db, c, <f32>(<f64>ld(db, c) + s));
  }
}

export function add_channel_bias(y: usize, // (N, C, HW) f32, added into
  b: usize, // (C) f32
  N: i32, C: i32, HW: i32): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) addScalar(at(y, (n * C + c) * HW), ld(b, c), HW);
  }
}
