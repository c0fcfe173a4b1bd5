// 2-D max and average pooling over planes, forward and backward side by side.
//
// Layout: x and dx (NC, H, W), y and dy (NC, Hout, Wout), indices (NC, Hout, Wout) i32, with
// NC = N·C planes. Every output here is OVERWRITTEN (max backward zeroes dx first, then adds where
// windows overlap, or, in the SIMD builds, writes each element once when every index lies in its
// own 2×2 stride-2 window; average backward writes each dx element once). The rules are PyTorch's
// CPU kernels:
//
// Max pooling (dilation dH, dW)
// - Window (oh, ow) covers rows oh·sH − pH + kh·dH (kh < kH), columns likewise; positions outside
//   the input are padding and never win (padding acts as -Infinity).
// - The running maximum starts at -Infinity and the index at the window's first in-bounds element,
//   so an all-negative or all -Infinity window still routes its gradient somewhere.
// - Scanning in row-major window order, a value replaces the maximum when `v > max || v != v`:
//   ties keep the first maximum, a NaN always wins (the last NaN if several).
// - indices hold h·W + w within the element's own plane. A dilated window can lie entirely in the
//   padding; it then yields -Infinity and its start position, which may be outside the plane; the
//   backward ignores indices outside [0, H·W).
//
// Average pooling (no dilation)
// - hstart = oh·sH − pH, hend = min(hstart + kH, H + pH), poolSize = (hend − hstart)·(wend − wstart);
//   then hstart = max(hstart, 0), hend = min(hend, H) (columns likewise) and the sum runs over that
//   clipped window.
// - divisor = countIncludePad ? poolSize : (hend − hstart)·(wend − wstart) after clipping.
// - A window with no in-bounds element yields 0 and receives no gradient.
// - The backward adds dy / divisor to every in-bounds element of the window.
//
// Speed: max pooling computes the outputs of a row whose window lies wholly inside the row
// ("interior" columns) four at a time in the SIMD builds when the stride is 1 or 2 (a last group
// overlapping the one before rather than a scalar tail); the few border columns and other strides
// take the scalar path; the usual 2×2 and 3×3 stride-2 windows have their own unrolled loops (2×2
// over whole planes at once when nothing is padded and the width is a multiple of 8). The
// max comparisons are branchless (random data would make every branch a coin toss), and a row is
// first computed as if it held no NaN, then again if it did (see `takes`). Average pooling is
// separable (its divisor is a row count times a column count): the forward sums each output row's
// input rows into a zero-padded row in static scratch and then sums the taps of that row (the usual
// 3-wide stride-2 windows keep those sums in registers instead); the backward gathers, each dx row
// the taps of a row of summed shares. On rows a multiple of 8 wide, the 2×2 max backward and the
// 3×3 stride-2 average backward write 16 dx elements at a time straight from registers.
import { at, ld, st, zero, copy, blend, sum, addInto, addScalar, storeInterleaved } from './simd';

/** First position start + i·step (i ≥ 0) that is ≥ 0. */
// @ts-ignore: decorator
@inline function firstInBounds(start: i32, step: i32): i32 {
  return start >= 0 ? start : start + (-start + step - 1) / step * step;
}

/** First output column ow whose window start ow·sW − pW is ≥ 0 (clamped to Wout). */
// @ts-ignore: decorator
@inline function interiorStart(Wout: i32, sW: i32, pW: i32): i32 {
  return min(Wout, (pW + sW - 1) / sW);
}

/** One past the last output column whose window end ow·sW − pW + span ≤ W (at least `lo`). */
// @ts-ignore: decorator
@inline function interiorEnd(Wout: i32, W: i32, sW: i32, pW: i32, span: i32, lo: i32): i32 {
  const room = W + pW - span;
  return room < 0 ? lo : max(lo, min(Wout, room / sW + 1));
}

/** Whether four consecutive outputs can be read as one vector: stride 1 or 2. */
// @ts-ignore: decorator
@inline function vectorStride(sW: i32): bool {
  return sW == 1 || sW == 2;
}

/** The four values at p, p + s, p + 2s, p + 3s for s = 1 or 2, reading nothing past the last. */
// @ts-ignore: decorator
@inline function load4(p: usize, s: i32): v128 {
  if (s == 1) return v128.load(p);
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7);
}

/** Lanes where v replaces the running maximum m: v > m, or v is NaN. */
// @ts-ignore: decorator
@inline function wins(v: v128, m: v128): v128 {
  return v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
}

// The SIMD loops first run on numbers alone (`nan` false): the mask is v > m without the NaN half
// of `wins`, and the new maximum f32x4.pmax(m, v) = `m < v ? v : m`, one instruction instead of a
// bitselect's three (kernels alone, simd: 2×2 s2 −11%, 3×3 s2 −17..20%, 3×3 s1 −6%). Meanwhile
// they sum every float they load; a NaN makes that sum NaN (so do infinities of both signs), and
// then the same outputs are computed again with `nan` true, by `wins` at every step.

/** Lanes where v replaces the running maximum m. */
// @ts-ignore: decorator
@inline function takes(v: v128, m: v128, nan: bool): v128 {
  return nan ? wins(v, m) : f32x4.gt(v, m);
}

/** The running maximum after v, given takes(v, m, nan). */
// @ts-ignore: decorator
@inline function after(v: v128, m: v128, take: v128, nan: bool): v128 {
  return nan ? blend(v, m, take) : f32x4.pmax(m, v);
}

/** Whether a NaN-free pass's sums of the loaded floats are free of NaN (its outputs stand). */
// @ts-ignore: decorator
@inline function numbersOnly(sums: v128): bool {
  return !v128.any_true(f32x4.ne(sums, sums));
}

/** An i32 that orders like the float with these bits (−0 and +0 equal); NaNs are handled apart. */
// @ts-ignore: decorator
@inline function orderKey(bits: i32): i32 {
  return (bits ^ ((bits >> 31) & 0x7fffffff)) + (bits >>> 31);
}

/** Scalar max over window rows [h0, h1) step dH, columns [w0, w1) step dW of the plane at xp;
 *  writes the maximum to y and its flat index to idx. The running maximum is compared as an
 *  integer key and chosen with integer selects (cmov): a float compare-and-branch would
 *  mispredict on every other element, and float selects chain through slow GPR↔XMM moves.
 *  A NaN gets the largest key, so no number displaces it and only a later NaN does. */
// @ts-ignore: decorator
@inline function maxWindow(y: usize, idx: usize, xp: usize, W: i32,
  h0: i32, h1: i32, dH: i32, w0: i32, w1: i32, dW: i32): void {
  let bits = 0xff800000 as i32; // -Infinity
  let key = orderKey(bits);
  let index = h0 * W + w0;
  for (let h = h0; h < h1; h += dH) {
    for (let w = w0; w < w1; w += dW) {
      const i = h * W + w;
      const vb = load<i32>(at(xp, i));
      const nan = <i32>(ld(xp, i) != ld(xp, i));
      const vk = select<i32>(i32.MAX_VALUE, orderKey(vb), nan);
      const take = <i32>(vk > key) | nan;
      key = select<i32>(vk, key, take);
      bits = select<i32>(vb, bits, take);
      index = select<i32>(i, index, take);
    }
  }
  store<i32>(y, bits);
  store<i32>(idx, index);
}

/** Four 2×2 stride-2 windows whose top rows start at r0 and bottom rows at r1, their top-left
 *  elements at the flat indices base0 (bottom-left: base1): the maxima to y, their indices to ix.
 *  Each input row's four windows are the even/odd lanes of 8 floats, and the compare masks (−1
 *  where the later element wins) double as index offsets. Returns the sum of the floats it read,
 *  for a pass without `nan` (see `takes`). */
// @ts-ignore: decorator
@inline function group2x2(y: usize, ix: usize, r0: usize, r1: usize, base0: v128, base1: v128, nan: bool): v128 {
  const a0 = v128.load(r0), b0 = v128.load(r0, 16);
  const a1 = v128.load(r1), b1 = v128.load(r1, 16);
  const e0 = v128.shuffle<f32>(a0, b0, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, b0, 1, 3, 5, 7);
  const e1 = v128.shuffle<f32>(a1, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(a1, b1, 1, 3, 5, 7);
  const t0 = takes(o0, e0, nan), t1 = takes(o1, e1, nan);
  const m0 = after(o0, e0, t0, nan), m1 = after(o1, e1, t1, nan);
  const t = takes(m1, m0, nan);
  v128.store(y, after(m1, m0, t, nan));
  v128.store(ix, blend(i32x4.sub(base1, t1), i32x4.sub(base0, t0), t));
  return nan ? a0 : f32x4.add(f32x4.add(a0, b0), f32x4.add(a1, b1));
}

/** The 4-output groups of one row of 2×2 stride-2 windows from ow up to owB, whose top-left
 *  elements are the flat indices base0 (one vector, the first group's) of the plane at xp.
 *  Returns false when a pass without `nan` met a NaN (see `takes`). */
// @ts-ignore: decorator
@inline function maxRow2x2(yRow: usize, iRow: usize, xp: usize, W: i32, base0: v128, ow: i32, owB: i32,
  nan: bool): bool {
  const r0 = at(xp, i32x4.extract_lane(base0, 0)), r1 = at(r0, W);
  const eight = i32x4.splat(8);
  let base1 = i32x4.add(base0, i32x4.splat(W));
  let sums = f32x4.splat(0);
  for (let j = 0; ow + 4 <= owB; ow += 4, j += 8) {
    const read = group2x2(at(yRow, ow), at(iRow, ow), at(r0, j), at(r1, j), base0, base1, nan);
    if (!nan) sums = f32x4.add(sums, read);
    base0 = i32x4.add(base0, eight);
    base1 = i32x4.add(base1, eight);
  }
  return nan || numbersOnly(sums);
}

/** A whole plane of 2×2 stride-2 windows, unpadded and undilated, whose width W is a multiple of
 *  8: every output row is W / 8 whole groups and has no border columns, so the rows run back to
 *  back in one loop, and a plane (not a row) is redone when it holds a NaN (kernels alone on P1's
 *  56-wide planes: 0.62 → 0.40 ms). Returns false when a pass without `nan` met a NaN. */
// @ts-ignore: decorator
@inline function maxPlane2x2(yp: usize, ip: usize, xp: usize, W: i32, Hout: i32, nan: bool): bool {
  const rowBytes = <usize>W << 2, eight = i32x4.splat(8), down = i32x4.splat(W);
  let base0 = i32x4(0, 2, 4, 6), base1 = i32x4.add(base0, down);
  let sums = f32x4.splat(0);
  let r0 = xp, y = yp, ix = ip;
  for (let oh = 0; oh < Hout; oh++) {
    for (const end = r0 + rowBytes; r0 < end; r0 += 32, y += 16, ix += 16) {
      const read = group2x2(y, ix, r0, r0 + rowBytes, base0, base1, nan);
      if (!nan) sums = f32x4.add(sums, read);
      base0 = i32x4.add(base0, eight);
      base1 = i32x4.add(base1, eight);
    }
    // Past the bottom row of this output row's windows: the next pair of rows.
    r0 += rowBytes;
    base0 = i32x4.add(base0, down);
    base1 = i32x4.add(base1, down);
  }
  return nan || numbersOnly(sums);
}

/** Outputs ow..end−1 (end − ow ≥ 4) of one row, 4 at a time; when the count is not a multiple of 4
 *  the last group overlaps the one before it (recomputing the same values) rather than leaving a
 *  scalar tail. Window rows h0..h1 (step dH) lie inside the plane xp, and so do the groups'
 *  columns. Returns false when a pass without `nan` met a NaN (see `takes`). */
// @ts-ignore: decorator
@inline function maxGroups(yRow: usize, iRow: usize, xp: usize, W: i32, h0: i32, h1: i32, dH: i32,
  ow: i32, end: i32, kW: i32, sW: i32, pW: i32, dW: i32, nan: bool): bool {
  const lanes = sW == 1 ? i32x4(0, 1, 2, 3) : i32x4(0, 2, 4, 6);
  const three = kW == 3 && sW == 2 && dW == 1;
  let sums = f32x4.splat(0);
  for (let o = ow; o < end; o += 4) {
    const g = min(o, end - 4), ws = g * sW - pW;
    // Each window row is reduced on its own from its first element, then merged into the running
    // result: the rows' chains are independent, and merging an earlier result with a later one by
    // the same rule keeps "first maximum, last NaN".
    let m = f32x4.splat(-Infinity);
    let index = i32x4.add(i32x4.splat(h0 * W + ws), lanes);
    for (let h = h0; h < h1; h += dH) {
      let i = h * W + ws;
      let rm: v128, ri: v128;
      if (three) {
        // 3 taps at stride 2 (ResNet's 3×3 s2 pool) from 4 loads: floats 0..7 hold taps 0 and 1 as
        // their even and odd lanes, floats 2..8 tap 2. The offset of the winning tap (0, 1 or 2)
        // is built from the masks, as in the 2×2 path.
        const p = at(xp, i);
        const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 8), d = v128.load(p, 20);
        const v0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), v1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        const v2 = v128.shuffle<f32>(c, d, 0, 2, 5, 7);
        const t1 = takes(v1, v0, nan);
        rm = after(v1, v0, t1, nan);
        const t2 = takes(v2, rm, nan);
        rm = after(v2, rm, t2, nan);
        ri = blend(i32x4.splat(i + 2), i32x4.sub(i32x4.splat(i), t1), t2);
        ri = i32x4.add(ri, lanes);
        if (!nan) sums = f32x4.add(sums, f32x4.add(f32x4.add(a, b), v2));
      } else {
        rm = load4(at(xp, i), sW);
        ri = i32x4.add(i32x4.splat(i), lanes);
        if (!nan) sums = f32x4.add(sums, rm);
        for (let kw = 1; kw < kW; kw++) {
          i += dW;
          const v = load4(at(xp, i), sW);
          const take = takes(v, rm, nan);
          rm = after(v, rm, take, nan);
          ri = blend(i32x4.add(i32x4.splat(i), lanes), ri, take);
          if (!nan) sums = f32x4.add(sums, v);
        }
      }
      const take = takes(rm, m, nan);
      m = after(rm, m, take, nan);
      index = blend(ri, index, take);
    }
    v128.store(at(yRow, g), m);
    v128.store(at(iRow, g), index);
  }
  return nan || numbersOnly(sums);
}

export function maxpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  indices: usize, // (NC, Hout, Wout) i32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const span = (kW - 1) * dW + 1;
  const owA = interiorStart(Wout, sW, pW), owB = interiorEnd(Wout, W, sW, pW, span, owA);
  const plane2x2 = kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 && dH == 1 && dW == 1 &&
    (W & 7) == 0 && Wout == W >> 1;
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    if (ASC_FEATURE_SIMD && plane2x2) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (!maxPlane2x2(yp, ip, xp, W, Hout, false)) maxPlane2x2(yp, ip, xp, W, Hout, true);
      continue;
    }
    for (let oh = 0; oh < Hout; oh++) {
      const hs = oh * sH - pH;
      const h0 = firstInBounds(hs, dH), h1 = min(hs + (kH - 1) * dH + 1, H);
      const o = (p * Hout + oh) * Wout;
      const yRow = at(y, o), iRow = at(indices, o);
      let ow = 0;
      for (; ow < owA; ow++) {
        const ws = ow * sW - pW;
        maxWindow(at(yRow, ow), at(iRow, ow), xp, W, h0, h1, dH, firstInBounds(ws, dW), min(ws + span, W), dW);
      }
      if (ASC_FEATURE_SIMD) {
        if (vectorStride(sW)) {
          if (kH == 2 && kW == 2 && sW == 2 && dH == 1 && dW == 1 && h1 - h0 == 2) {
            // The common 2×2 stride-2 window, both rows inside.
            const base0 = i32x4.add(i32x4.splat(h0 * W + ow * 2 - pW), i32x4(0, 2, 4, 6));
            if (!maxRow2x2(yRow, iRow, xp, W, base0, ow, owB, false)) {
              maxRow2x2(yRow, iRow, xp, W, base0, ow, owB, true);
            }
            ow += (owB - ow) & ~3;
          }
          if (owB - ow >= 4) {
            if (!maxGroups(yRow, iRow, xp, W, h0, h1, dH, ow, owB, kW, sW, pW, dW, false)) {
              maxGroups(yRow, iRow, xp, W, h0, h1, dH, ow, owB, kW, sW, pW, dW, true);
            }
            ow = owB;
          }
        }
      }
      for (; ow < Wout; ow++) {
        const ws = ow * sW - pW;
        maxWindow(at(yRow, ow), at(iRow, ow), xp, W, h0, h1, dH, firstInBounds(ws, dW), min(ws + span, W), dW);
      }
    }
  }
}

/** dx of one plane whose indices each lie in their own 2×2 stride-2 window (the windows of an
 *  unpadded 2×2 pool, W a multiple of 8 and Wout = W / 2, Hout = H / 2 rounded down): the windows
 *  tile the plane, so every element is written once, without a zeroing pass, 4 windows (16
 *  elements) at a time: dy where its window's index names it, 0 elsewhere, and 0 in the row that
 *  no window covers (H odd). dy + 0 stands for the scatter's 0 + dy (−0 becomes +0). Returns false
 *  when some index lies elsewhere (indices of another geometry), having written the plane wrongly:
 *  the caller then scatters it. */
// @ts-ignore: decorator
@inline function maxBackwardPlane2x2(dxp: usize, dyp: usize, ip: usize, W: i32, H: i32, Hout: i32): bool {
  const rowBytes = <usize>W << 2, eight = i32x4.splat(8), down = i32x4.splat(W);
  const one = i32x4.splat(1), belowRight = i32x4.splat(W + 1);
  let base = i32x4(0, 2, 4, 6), inWindows = i32x4.splat(-1);
  let d = dxp, y = dyp, ix = ip;
  for (let oh = 0; oh < Hout; oh++) {
    for (const end = d + rowBytes; d < end; d += 32, y += 16, ix += 16) {
      const off = i32x4.sub(v128.load(ix), base), g = f32x4.add(v128.load(y), f32x4.splat(0));
      const m00 = i32x4.eq(off, i32x4.splat(0)), m01 = i32x4.eq(off, one);
      const m10 = i32x4.eq(off, down), m11 = i32x4.eq(off, belowRight);
      inWindows = v128.and(inWindows, v128.or(v128.or(m00, m01), v128.or(m10, m11)));
      const t0 = v128.and(g, m00), t1 = v128.and(g, m01), b0 = v128.and(g, m10), b1 = v128.and(g, m11);
      storeInterleaved(d, t0, t1);
      storeInterleaved(d + rowBytes, b0, b1);
      base = i32x4.add(base, eight);
    }
    // Past the bottom row of this output row's windows: the next pair of rows.
    d += rowBytes;
    base = i32x4.add(base, down);
  }
  if (H & 1) zero(d, W);
  return i32x4.all_true(inWindows);
}

export function maxpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  indices: usize, // (NC, Hout, Wout) i32, from the forward
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32): void {
  const HW = H * W, P = Hout * Wout;
  const plane2x2 = (W & 7) == 0 && Wout == W >> 1 && Hout == H >> 1;
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * HW), dyp = at(dy, p * P), ip = at(indices, p * P);
    if (ASC_FEATURE_SIMD && plane2x2 && maxBackwardPlane2x2(dxp, dyp, ip, W, H, Hout)) continue;
    // Zeroing plane by plane keeps the plane in cache for the scatter that follows.
    zero(dxp, HW);
    for (let i = 0; i < P; i++) {
      const index = load<i32>(at(ip, i));
      if (<u32>index < <u32>HW) st(dxp, index, ld(dxp, index) + ld(dyp, i));
    }
  }
}

/** Static scratch for the average kernels' row buffers: the ABI passes pooling no scratch, and a
 *  few KB in the data segment (well below the host heap at 64 KiB) hold rows of any usual width.
 *  A plane too wide for it takes the direct path. Kernels run one at a time, so one buffer serves. */
const SCRATCH_FLOATS = 2048;
const scratch = memory.data(SCRATCH_FLOATS << 2, 16);

/** Rows of the separable average kernels are padded by this many zeros on each side, so window
 *  taps reaching past either end (and vector overhang) read zeros. */
// @ts-ignore: decorator
@inline function rowPad(kW: i32): i32 {
  return (kW + 11) & ~3;
}

/** The window's divisor splits into a row factor and a column factor (both counts with or without
 *  the padding); each is exact in f32, and so is their product. */
// @ts-ignore: decorator
@inline function avgCount(ps: i32, pe: i32, lo: i32, hi: i32, countIncludePad: i32): i32 {
  return countIncludePad ? pe - ps : hi - lo;
}

/** Writes the column factor of every output column to cols[0, Wout); a column with no in-bounds
 *  element gets 1 (its sum is 0, or its share goes nowhere). */
function columnCounts(cols: usize, W: i32, Wout: i32, kW: i32, sW: i32, pW: i32, countIncludePad: i32): void {
  for (let ow = 0; ow < Wout; ow++) {
    const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
    const c = avgCount(pws, pwe, max(pws, 0), min(pwe, W), countIncludePad);
    st(cols, ow, <f32>max(c, 1));
  }
}

/** Whether the window grid stays inside the padded plane (floor mode), so padded rows hold it. */
// @ts-ignore: decorator
@inline function floorGrid(n: i32, nOut: i32, k: i32, s: i32, pad: i32): bool {
  return (nOut - 1) * s + k <= n + 2 * pad;
}

/** Scalar sum of x over rows [h0, h1), columns [w0, w1) of the plane at xp. */
// @ts-ignore: decorator
@inline function windowSum(xp: usize, W: i32, h0: i32, h1: i32, w0: i32, w1: i32): f32 {
  let s: f32 = 0;
  for (let h = h0; h < h1; h++) {
    s += <f32>sum(at(xp, h * W + w0), w1 - w0);
  }
  return s;
}

/** Row r (< n) of a ring of n rows counted from row `start` (< n), without the integer division
 *  of `%` (sumRows runs once per row; the average backward kernel alone took 1-2% less). */
// @ts-ignore: decorator
@inline function ringRow(start: i32, r: i32, n: i32): i32 {
  const i = start + r;
  return i < n ? i : i - n;
}

/** dst[i] = Σ rows[r][i] for i < n, over `count` (1 ≤ count ≤ ringRows) rows; row r starts at
 *  base + ringRow(start, r, ringRows)·step (start < ringRows). Up to three rows are added in one
 *  pass. */
function sumRows(dst: usize, base: usize, step: i32, start: i32, count: i32, ringRows: i32, n: i32): void {
  const a = at(base, start * step);
  if (count == 1) {
    copy(dst, a, n);
    return;
  }
  const b = at(base, ringRow(start, 1, ringRows) * step);
  const c = count > 2 ? at(base, ringRow(start, 2, ringRows) * step) : 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (c) {
      for (; i + 4 <= n; i += 4) {
        v128.store(at(dst, i), f32x4.add(f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))), v128.load(at(c, i))));
      }
    } else {
      for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
    }
  }
  if (c) {
    for (; i < n; i++) st(dst, i, ld(a, i) + ld(b, i) + ld(c, i));
  } else {
    for (; i < n; i++) st(dst, i, ld(a, i) + ld(b, i));
  }
  for (let r = 3; r < count; r++) addInto(dst, at(base, ringRow(start, r, ringRows) * step), n);
}

/** Sums of kW taps at stride sW (1 or 2) of the row at p, for four consecutive windows. At stride 2
 *  one pair of loads serves two taps: its even lanes are one tap, its odd lanes the next. */
// @ts-ignore: decorator
@inline function tapSums(p: usize, kW: i32, sW: i32): v128 {
  let s = f32x4.splat(0);
  if (sW == 1) {
    for (let kw = 0; kw < kW; kw++) s = f32x4.add(s, v128.load(at(p, kw)));
    return s;
  }
  for (let kw = 0; kw < kW; kw += 2) {
    const a = v128.load(at(p, kw)), b = v128.load(at(p, kw), 16);
    s = f32x4.add(s, v128.shuffle<f32>(a, b, 0, 2, 4, 6));
    if (kw + 1 < kW) s = f32x4.add(s, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
  }
  return s;
}

/** Σ over `count` (1..3) rows (stride `row` bytes) of the 4 floats at p. */
// @ts-ignore: decorator
@inline function rowSums4(p: usize, row: usize, count: i32): v128 {
  let v = v128.load(p);
  if (count > 1) v = f32x4.add(v, v128.load(p + row));
  if (count > 2) v = f32x4.add(v, v128.load(p + 2 * row));
  return v;
}

/** rowSums4 of columns c..c+3 of rows of W floats from r0, columns outside [0, W) counting as
 *  zeros (c ≥ −1, W ≥ 4): a vector from inside the row, moved to its columns. */
// @ts-ignore: decorator
@inline function columnSums4(r0: usize, W: i32, count: i32, c: i32): v128 {
  const from = c < 0 ? 0 : min(c, W - 4);
  const v = rowSums4(at(r0, from), <usize>W << 2, count);
  const z = f32x4.splat(0), shift = c - from;
  if (shift == 0) return v;
  if (shift == -1) return v128.shuffle<f32>(z, v, 0, 4, 5, 6);
  if (shift == 1) return v128.shuffle<f32>(v, z, 1, 2, 3, 4);
  if (shift == 2) return v128.shuffle<f32>(v, z, 2, 3, 4, 5);
  if (shift == 3) return v128.shuffle<f32>(v, z, 3, 4, 5, 6);
  return z;
}

/** Outputs ow..ow+3 of 3-wide stride-2 windows whose first tap is lane 0 of a: a, b and next are
 *  the column sums of 12 consecutive columns. Taps 0 and 1 are the even and odd lanes of a and b,
 *  tap 2 the even lanes one further, the last from next. */
// @ts-ignore: decorator
@inline function storeGroup3s2(yRow: usize, ow: i32, a: v128, b: v128, next: v128, cols: usize, rows: v128): void {
  const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6), odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  const s = f32x4.add(f32x4.add(even, odd), v128.shuffle<f32>(even, next, 1, 2, 3, 4));
  v128.store(at(yRow, ow), f32x4.div(s, f32x4.mul(v128.load(at(cols, ow)), rows)));
}

/** One output row of 3-wide stride-2 windows (padding pW ≤ 1) straight from its `count` (1..3)
 *  input rows at r0, the usual 3×3 s2 pool: no row of sums stored and read back, and each group's
 *  last vector is the next group's first (kernel alone on P2's planes, simd, A/B minima: 0.88 ms
 *  by the separable path, 0.69 ms so). */
// @ts-ignore: decorator
@inline function avgRow3s2(yRow: usize, r0: usize, W: i32, count: i32, Wout: i32, pW: i32, cols: usize,
  rows: v128): void {
  const row = <usize>W << 2;
  let a = columnSums4(r0, W, count, -pW);
  let ow = 0;
  // Groups whose 12 columns all lie inside the row, then those that reach its end.
  for (; ow + 4 <= Wout && 2 * ow - pW + 12 <= W; ow += 4) {
    const p = at(r0, 2 * ow - pW);
    const b = rowSums4(p + 16, row, count), next = rowSums4(p + 32, row, count);
    storeGroup3s2(yRow, ow, a, b, next, cols, rows);
    a = next;
  }
  for (; ow + 4 <= Wout; ow += 4) {
    const c0 = 2 * ow - pW;
    const b = columnSums4(r0, W, count, c0 + 4), next = columnSums4(r0, W, count, c0 + 8);
    storeGroup3s2(yRow, ow, a, b, next, cols, rows);
    a = next;
  }
  if (ow < Wout) {
    // The last group overlaps the one before it (the same values again) rather than a scalar tail.
    ow = Wout - 4;
    const c0 = 2 * ow - pW;
    storeGroup3s2(yRow, ow, columnSums4(r0, W, count, c0), columnSums4(r0, W, count, c0 + 4),
      columnSums4(r0, W, count, c0 + 8), cols, rows);
  }
}

/** One output row of 3-wide stride-2 windows with one padding column, the row W (a multiple of 8)
 *  wide: each group of 4 outputs sums 8 whole columns of its `count` rows, and a window's first
 *  tap is the odd column before its middle, the last odd lane of the group before (zeros before
 *  the first: the padding). No shifted or clamped vectors at the row's ends, as avgRow3s2 needs for
 *  other widths (kernel alone on P2's 56-wide planes, both builds, A/B minima: 0.58 → 0.43 ms). */
// @ts-ignore: decorator
@inline function avgRow3s2p1(yRow: usize, r0: usize, W: i32, count: i32, cols: usize, rows: v128): void {
  const row = <usize>W << 2;
  let before = f32x4.splat(0);
  for (let ow = 0, p = r0; ow < W >> 1; ow += 4, p += 32) {
    const a = rowSums4(p, row, count), b = rowSums4(p + 16, row, count);
    const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6), odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
    const s = f32x4.add(f32x4.add(v128.shuffle<f32>(before, odd, 3, 4, 5, 6), even), odd);
    v128.store(at(yRow, ow), f32x4.div(s, f32x4.mul(v128.load(at(cols, ow)), rows)));
    before = odd;
  }
}

export function avgpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  // Separable: the in-bounds rows of an output row's windows are summed column by column into a
  // zero-padded row (each input element loaded once per output row instead of once per window),
  // then the windows sum kW taps of that row (avgRow3s2 does both at once for 3-wide stride-2
  // windows). cols holds the column factors of the divisors.
  const pad = rowPad(kW), cols = scratch, row = at(scratch, (Wout + 3) & ~3);
  const mid = at(row, pad), rowLen = pad + W + pW + pad;
  if (!floorGrid(W, Wout, kW, sW, pW) || pW > pad || ((Wout + 3) & ~3) + rowLen > SCRATCH_FLOATS) {
    avgForwardDirect(y, x, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad);
    return;
  }
  columnCounts(cols, W, Wout, kW, sW, pW, countIncludePad);
  zero(row, rowLen);
  const first = at(mid, -pW); // padded column 0: window ow starts at first + ow·sW
  const three = kW == 3 && sW == 2 && pW <= 1 && W >= 4 && Wout >= 4;
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      const yRow = at(y, (p * Hout + oh) * Wout);
      if (h0 >= h1) {
        zero(yRow, Wout);
        continue;
      }
      const rows = <f32>avgCount(phs, phe, h0, h1, countIncludePad);
      if (ASC_FEATURE_SIMD && three && h1 - h0 <= 3) {
        const r0 = at(xp, h0 * W), count = h1 - h0, rv = f32x4.splat(rows);
        if (pW == 1 && (W & 7) == 0) {
          if (count == 3) avgRow3s2p1(yRow, r0, W, 3, cols, rv);
          else avgRow3s2p1(yRow, r0, W, count, cols, rv);
          continue;
        }
        // The usual rows (3 of them, one padding column) with those constants folded in.
        if (count == 3 && pW == 1) avgRow3s2(yRow, r0, W, 3, Wout, 1, cols, rv);
        else avgRow3s2(yRow, r0, W, count, Wout, pW, cols, rv);
        continue;
      }
      sumRows(mid, xp, W, h0, h1 - h0, H, W);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        if (vectorStride(sW) && Wout >= 4) {
          const r = f32x4.splat(rows);
          // The last group overlaps the one before it rather than leaving a scalar tail.
          for (let o = 0; o < Wout; o += 4) {
            ow = min(o, Wout - 4);
            const s = tapSums(at(first, ow * sW), kW, sW);
            v128.store(at(yRow, ow), f32x4.div(s, f32x4.mul(v128.load(at(cols, ow)), r)));
          }
          ow = Wout;
        }
      }
      for (; ow < Wout; ow++) {
        const tp = at(first, ow * sW);
        let s: f32 = 0;
        for (let kw = 0; kw < kW; kw++) s += ld(tp, kw);
        st(yRow, ow, s / (ld(cols, ow) * rows));
      }
    }
  }
}

/** One output at a time, for planes wider than the scratch rows (or a grid past the padding). */
function avgForwardDirect(y: usize, x: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      for (let ow = 0; ow < Wout; ow++) {
        const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        const empty = h0 >= h1 || w0 >= w1;
        const div = <f32>(avgCount(phs, phe, h0, h1, countIncludePad) * avgCount(pws, pwe, w0, w1, countIncludePad));
        st(y, (p * Hout + oh) * Wout + ow, empty ? 0 : windowSum(xp, W, h0, h1, w0, w1) / div);
      }
    }
  }
}

/** dx at 8 columns from w for stride 2, from the column sums S (padded row, S[ow] at sp + ow).
 *  Padded column c = w + pW takes S[m − j] over taps kw = c − 2(m − j): with c = 2m an even tap
 *  count ⌈kW/2⌉, with c = 2m + 1 an odd one ⌊kW/2⌋. So 8 columns are 4 even and 4 odd sums,
 *  interleaved, the first of them even or odd as c is. */
// @ts-ignore: decorator
@inline function spreadStride2(dxRow: usize, w: i32, sp: usize, pW: i32, kW: i32): void {
  const c = w + pW, m = c >> 1;
  const evenTaps = (kW + 1) >> 1, oddTaps = kW >> 1;
  let a = f32x4.splat(0), b = f32x4.splat(0);
  if (kW == 3) {
    // The usual 3-wide window, unrolled: even columns take two taps, odd columns one.
    const s0 = v128.load(at(sp, m));
    if ((c & 1) == 0) {
      a = f32x4.add(s0, v128.load(at(sp, m - 1)));
      b = s0;
    } else {
      a = s0;
      b = f32x4.add(v128.load(at(sp, m + 1)), s0);
    }
  } else if ((c & 1) == 0) {
    for (let j = 0; j < evenTaps; j++) a = f32x4.add(a, v128.load(at(sp, m - j)));
    for (let j = 0; j < oddTaps; j++) b = f32x4.add(b, v128.load(at(sp, m - j)));
  } else {
    for (let j = 0; j < oddTaps; j++) a = f32x4.add(a, v128.load(at(sp, m - j)));
    for (let j = 0; j < evenTaps; j++) b = f32x4.add(b, v128.load(at(sp, m + 1 - j)));
  }
  storeInterleaved(at(dxRow, w), a, b);
}

export function avgpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  // Gathered, not scattered: each dx element is the sum of the shares dy / divisor of the windows
  // covering it, so it is written once (no zeroing pass, no read-modify-write). Separable again:
  // the shares of the (at most K) output rows covering input row h are summed column by column
  // into S, then each input column sums the entries of S whose windows cover it. The share rows
  // of the last K output rows are kept in a ring, so each dy element is divided once.
  const K = (kH + sH - 1) / sH;
  const pad = rowPad(kW), len = pad + Wout + pad, colLen = (Wout + 3) & ~3;
  if (!floorGrid(W, Wout, kW, sW, pW) || colLen + (K + 1) * len > SCRATCH_FLOATS) {
    avgBackwardDirect(dx, dy, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad);
    return;
  }
  const cols = scratch, ring = at(scratch, colLen), total = at(ring, K * len);
  columnCounts(cols, W, Wout, kW, sW, pW, countIncludePad);
  // The usual 3×3 stride-2 pool (padding 1) on rows of whole groups of 8: from registers.
  if (ASC_FEATURE_SIMD && kH == 3 && kW == 3 && sH == 2 && sW == 2 && pH == 1 && pW == 1 && (W & 7) == 0 &&
    Wout == W >> 1 && Hout == (H + 1) >> 1) {
    for (let p = 0; p < NC; p++) {
      avgBackwardPlane3s2p1(at(dx, p * H * W), at(dy, p * Hout * Wout), H, W, Hout, cols, countIncludePad);
    }
    return;
  }
  zero(ring, (K + 1) * len);
  // Other widths of it with its geometry as constants: its row arithmetic's integer divisions
  // become shifts, its branches on the geometry fold (kernel alone on P2's planes, simd: 1.35 →
  // 1.16 ms).
  if (kH == 3 && kW == 3 && sH == 2 && sW == 2 && pH == 1 && pW == 1) {
    avgBackwardPlanes(dx, dy, NC, H, W, Hout, Wout, 3, 3, 2, 2, 1, 1, countIncludePad, cols, ring, total, 2,
      len, pad);
  } else {
    avgBackwardPlanes(dx, dy, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad, cols, ring, total, K,
      len, pad);
  }
}

/** Shares dy / divisor of the 4 outputs at k of the output row dyRow (row factor rows), plus 0 so
 *  that −0 becomes +0, as in PyTorch's gradient, zeroed and then added to. */
// @ts-ignore: decorator
@inline function shares4(dyRow: usize, k: i32, cols: usize, rows: v128): v128 {
  const share = f32x4.div(v128.load(at(dyRow, k)), f32x4.mul(v128.load(at(cols, k)), rows));
  return f32x4.add(share, f32x4.splat(0));
}

/** dx of one plane of the 3×3 stride-2 pool padded by one row and column, W a multiple of 8 (so
 *  Wout = W / 2, whole groups of 4): input row 2i is the middle row of output row i's windows
 *  alone, and row 2i + 1 the bottom of row i's and the top of row i + 1's; columns likewise. So
 *  with S the shares, row 2i of dx is S[i][k] at column 2k and S[i][k] + S[i][k + 1] at 2k + 1, and
 *  row 2i + 1 the same of S[i] + S[i + 1] (a share past the last window is 0): every element
 *  written once, from registers, 16 at a time (kernel alone on P2's planes, simd, minima: the
 *  general path 1.14 ms, this one 0.49 ms). */
// @ts-ignore: decorator
@inline function avgBackwardPlane3s2p1(dxp: usize, dyp: usize, H: i32, W: i32, Hout: i32, cols: usize,
  countIncludePad: i32): void {
  const Wout = W >> 1, rowBytes = <usize>W << 2, none = f32x4.splat(0);
  for (let i = 0; i < Hout; i++) {
    const phs = 2 * i - 1, phe = min(phs + 3, H + 1), last = i + 1 == Hout;
    const rows = f32x4.splat(<f32>avgCount(phs, phe, max(phs, 0), min(phe, H), countIncludePad));
    const nhs = phs + 2, nhe = min(nhs + 3, H + 1);
    const rowsNext = f32x4.splat(<f32>avgCount(nhs, nhe, nhs, min(nhe, H), countIncludePad));
    const dyRow = at(dyp, i * Wout), dyNext = at(dyRow, Wout);
    const top = at(dxp, 2 * i * W), odd = 2 * i + 1 < H;
    let s = shares4(dyRow, 0, cols, rows);
    let t = last ? s : f32x4.add(s, shares4(dyNext, 0, cols, rowsNext));
    for (let k = 0, d = top; k < Wout; k += 4, d += 32) {
      let sn = none, tn = none;
      if (k + 4 < Wout) {
        sn = shares4(dyRow, k + 4, cols, rows);
        tn = last ? sn : f32x4.add(sn, shares4(dyNext, k + 4, cols, rowsNext));
      }
      const s2 = f32x4.add(s, v128.shuffle<f32>(s, sn, 1, 2, 3, 4));
      storeInterleaved(d, s, s2);
      if (odd) {
        const t2 = f32x4.add(t, v128.shuffle<f32>(t, tn, 1, 2, 3, 4));
        storeInterleaved(d + rowBytes, t, t2);
      }
      s = sn;
      t = tn;
    }
  }
}

/** avgpool2d_backward's planes after its set-up: cols holds the column divisors, ring K share rows
 *  and total one summed row, each len floats after pad zeros. */
// @ts-ignore: decorator
@inline function avgBackwardPlanes(dx: usize, dy: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32, cols: usize, ring: usize,
  total: usize, K: i32, len: i32, pad: i32): void {
  for (let p = 0; p < NC; p++) {
    const dyp = at(dy, p * Hout * Wout), dxp = at(dx, p * H * W);
    let ready = 0; // output rows [0, ready) have their shares in the ring
    for (let h = 0; h < H; h++) {
      const dxRow = at(dxp, h * W);
      // Output rows oh with oh·sH ≤ h + pH < oh·sH + kH.
      const a = h + pH - kH + 1;
      const lo = a > 0 ? (a + sH - 1) / sH : 0, hi = min(Hout - 1, (h + pH) / sH);
      if (lo > hi) {
        zero(dxRow, W);
        continue;
      }
      for (; ready <= hi; ready++) {
        const phs = ready * sH - pH, phe = min(phs + kH, H + pH);
        const r = <f32>avgCount(phs, phe, max(phs, 0), min(phe, H), countIncludePad);
        const share = at(ring, (ready % K) * len + pad), dyRow = at(dyp, ready * Wout);
        let ow = 0;
        if (ASC_FEATURE_SIMD) {
          const rv = f32x4.splat(r);
          for (; ow + 4 <= Wout; ow += 4) v128.store(at(share, ow), shares4(dyRow, ow, cols, rv));
        }
        for (; ow < Wout; ow++) st(share, ow, ld(dyRow, ow) / (ld(cols, ow) * r) + 0);
      }
      // S: the one share row itself, or the sum of several.
      const slot = lo % K;
      let sp = at(ring, slot * len + pad);
      if (hi > lo) {
        sp = at(total, pad);
        sumRows(sp, at(ring, pad), len, slot, hi - lo + 1, K, Wout);
      }
      let w = 0;
      if (ASC_FEATURE_SIMD) {
        if (sW == 2 && W >= 8) {
          // The last group overlaps the one before it rather than leaving a scalar tail.
          for (; w < W; w += 8) spreadStride2(dxRow, min(w, W - 8), sp, pW, kW);
        } else if (sW == 1) {
          for (; w + 4 <= W; w += 4) {
            let s = f32x4.splat(0);
            for (let kw = 0; kw < kW; kw++) s = f32x4.add(s, v128.load(at(sp, w + pW - kw)));
            v128.store(at(dxRow, w), s);
          }
        }
      }
      // Padded column c = q·sW + r takes the taps kw = r, r + sW, … of windows q, q − 1, …
      const c = w + pW;
      let q = c / sW, r = c - q * sW;
      for (; w < W; w++) {
        let s: f32 = 0;
        for (let kw = r, j = q; kw < kW; kw += sW, j--) s += ld(sp, j);
        st(dxRow, w, s);
        if (++r == sW) {
          r = 0;
          q++;
        }
      }
    }
  }
}

/** Zero, then scatter each window's share, for planes wider than the scratch rows. */
function avgBackwardDirect(dx: usize, dy: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  zero(dx, NC * H * W);
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      for (let ow = 0; ow < Wout; ow++) {
        const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        if (h0 >= h1 || w0 >= w1) continue;
        const div = <f32>(avgCount(phs, phe, h0, h1, countIncludePad) * avgCount(pws, pwe, w0, w1, countIncludePad));
        const share = ld(dy, (p * Hout + oh) * Wout + ow) / div;
        for (let h = h0; h < h1; h++) addScalar(at(dxp, h * W + w0), share, w1 - w0);
      }
    }
  }
}
