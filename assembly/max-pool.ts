// 2-D max pooling over planes, forward and backward side by side (average pooling: avg-pool.ts).
//
// Layout: x and dx (NC, H, W), y and dy (NC, Hout, Wout), indices (NC, Hout, Wout) i32, with
// NC = N·C planes. Every output here is OVERWRITTEN: the backward zeroes dx first, then adds where
// windows overlap, or, in the SIMD builds, writes each element once when every index lies in its
// own 2×2 stride-2 window. The rules are PyTorch's CPU kernels (dilation dH, dW):
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
// Speed: 2×2 stride-2 windows without padding run in unrolled groups of 4 outputs, over whole
// planes at once when the width is a multiple of 8, row by row (the last group overlapping the one
// before) otherwise. Other undilated windows at row stride 1 or 2 run separably
// (max-pool-separable.ts; `separable` lists the few measured faster on the direct path), 3×3
// windows at stride 2 with padding 0 or 1, and same-padded 3×3 and 5×5 windows at stride 1, on
// paths of their own there (`rows3x3s2`, `sameRows`). The
// direct path computes the outputs of a row whose window lies wholly inside the row ("interior"
// columns) four at a time in the SIMD builds when the stride is 1 or 2 (a last group overlapping
// the one before rather than a scalar tail), 3-wide stride-2 windows unrolled; the few border
// columns and other strides take the scalar path. The comparisons are branchless (random data
// would make every branch a coin toss), and a row or plane is first computed as if it held no NaN,
// then again if it did (see `takes`); a plane with a NaN leaves the separable path for the direct
// one. On rows a multiple of 8 wide, the 2×2 backward writes 16 dx elements at a time straight
// from registers.
import { at, ld, st, zero, blend, storeInterleaved, vectorStride, evens, odds } from './simd';
import {
  separable, padRowBuffer, maxPlaneSeparable, rows3x3s2, maxPlane3x3s2, sameRows, maxPlaneSame,
} from './max-pool-separable';

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
  const e0 = evens(a0, b0), o0 = odds(a0, b0);
  const e1 = evens(a1, b1), o1 = odds(a1, b1);
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

/** maxPlane2x2 for any width whose rows hold at least one group (Wout ≥ 4): each row's last
 *  group (its last 4 outputs, overlapping the one before when Wout is not a multiple of 4) apart
 *  from the groups before, whose indices step on by 8 from the row's first, and rows start afresh
 *  (an odd width's last column is in no window). Kernels alone (simd, 64×32 planes) against the
 *  direct path's rows with scalar tails: 28×28 −72%, 27×27 −58%, 12×12 −83%; then the last group
 *  apart rather than a clamped start and indices made afresh in every group: 28×28 −16%, 57×57
 *  −20%, 12×12 −13%. Returns false when a pass without `nan` met a NaN. */
// @ts-ignore: decorator
@inline function maxPlane2x2Rows(yp: usize, ip: usize, xp: usize, W: i32, Wout: i32, Hout: i32, nan: bool): bool {
  const down = i32x4.splat(W), lanes = i32x4(0, 2, 4, 6), eight = i32x4.splat(8), last = Wout - 4;
  let sums = f32x4.splat(0);
  for (let oh = 0; oh < Hout; oh++) {
    const top = 2 * oh * W, r0 = at(xp, top), r1 = at(r0, W);
    const y = at(yp, oh * Wout), ix = at(ip, oh * Wout);
    let base0 = i32x4.add(i32x4.splat(top), lanes), base1 = i32x4.add(base0, down);
    let ow = 0;
    for (; ow < last; ow += 4) {
      const read = group2x2(at(y, ow), at(ix, ow), at(r0, 2 * ow), at(r1, 2 * ow), base0, base1, nan);
      if (!nan) sums = f32x4.add(sums, read);
      base0 = i32x4.add(base0, eight);
      base1 = i32x4.add(base1, eight);
    }
    base0 = i32x4.add(i32x4.splat(top + 2 * last), lanes);
    const read = group2x2(at(y, last), at(ix, last), at(r0, 2 * last), at(r1, 2 * last), base0,
      i32x4.add(base0, down), nan);
    if (!nan) sums = f32x4.add(sums, read);
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
        const v0 = evens(a, b), v1 = odds(a, b);
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
  const window2x2 = kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 && dH == 1 && dW == 1;
  const plane2x2 = window2x2 && (W & 7) == 0, rows2x2 = window2x2 && !plane2x2 && Wout >= 4;
  const three = rows3x3s2(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
  const same = sameRows(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
  const sep = !window2x2 && !three && !same && separable(W, Wout, kH, kW, sW, pW, dH, dW);
  if (ASC_FEATURE_SIMD && sep) padRowBuffer(W, Wout, kW, sW, pW);
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    if (ASC_FEATURE_SIMD && plane2x2) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (!maxPlane2x2(yp, ip, xp, W, Hout, false)) maxPlane2x2(yp, ip, xp, W, Hout, true);
      continue;
    }
    if (ASC_FEATURE_SIMD && rows2x2) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (!maxPlane2x2Rows(yp, ip, xp, W, Wout, Hout, false)) maxPlane2x2Rows(yp, ip, xp, W, Wout, Hout, true);
      continue;
    }
    if (ASC_FEATURE_SIMD && three) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (maxPlane3x3s2(yp, ip, xp, H, W, Hout, Wout, pH, pW)) continue;
    }
    if (ASC_FEATURE_SIMD && same) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (maxPlaneSame(yp, ip, xp, H, W, kW)) continue;
    }
    if (ASC_FEATURE_SIMD && sep) {
      const yp = at(y, p * Hout * Wout), ip = at(indices, p * Hout * Wout);
      if (maxPlaneSeparable(yp, ip, xp, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW)) continue;
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
