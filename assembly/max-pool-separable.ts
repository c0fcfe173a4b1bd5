// The separable max pooling forward (SIMD builds; `separable` says which geometries take it). A
// window's maximum is the maximum over its rows of each row's maximum over its columns, and its
// index, the first maximum in row-major order, is the first row's among equal row maxima and, in
// that row, the first column's: so each input row's maxima along the row are computed once, for
// every output row whose windows cover that row (3×3 stride 1: three of them), and each output row
// merges those of its rows in order. Padding is a copy of each input row between -Infinity
// columns, so no window needs a border case, and the copy is where NaN is looked for. Kernels
// alone (simd, 8 or 16 × 64 planes of 56×56), against the direct path of max-pool.ts: 3×3 stride 1
// −49..59%, 5×5 stride 1 −80%, 7×7 stride 1 −85%, 4×4 stride 2 −60%, 3×3 stride 2 padding 1 −7..9%.
import { at, ld, st, staticScratch, STATIC_SCRATCH_BYTES } from './simd';

/** The separable forward's buffers, in the static scratch (simd.ts): a padded copy of one input
 *  row, the row maxima of kH input rows, and the ring offsets of one output row's rows. A
 *  geometry too wide for them takes the direct path. */
const SEP_FLOATS = STATIC_SCRATCH_BYTES >> 2;
const sepScratch = staticScratch;

/** Output columns rounded up to whole groups of 4: the width of a row of row maxima. */
// @ts-ignore: decorator
@inline function groupWidth(Wout: i32): i32 {
  return (Wout + 3) & ~3;
}

/** Floats of the padded row copy: pW of -Infinity, the row, then -Infinity as far as the last
 *  group's taps read (4 floats a tap at stride 1, 8 for a pair of taps at stride 2). */
// @ts-ignore: decorator
@inline function paddedRowFloats(W: i32, Wout: i32, kW: i32, sW: i32, pW: i32): i32 {
  return (max(groupWidth(Wout) * sW + kW + 4, pW + W) + 3) & ~3;
}

/** Whether the separable forward takes this geometry: SIMD, undilated, stride 1 or 2 along rows,
 *  and its buffers fit in the static scratch. Two geometries stay on the direct path, which was
 *  faster on them (kernels alone, simd, 8 or 16 × 64 planes of 56 or 57 columns): windows one
 *  column wide (the separable copy and ring are then most of the work: +25% at stride 1, +38% at
 *  stride 2), and 3-wide stride-2 windows without padding, whose unrolled direct rows need no
 *  border (+28%). */
// @ts-ignore: decorator
@inline export function separable(W: i32, Wout: i32, kH: i32, kW: i32, sW: i32, pW: i32, dH: i32, dW: i32): bool {
  if (!ASC_FEATURE_SIMD || dH != 1 || dW != 1 || sW > 2 || kW == 1 || (kW == 3 && sW == 2 && pW == 0)) return false;
  return <i64>paddedRowFloats(W, Wout, kW, sW, pW) + <i64>kH * (2 * groupWidth(Wout) + 1) + 8 <= SEP_FLOATS;
}

/** Writes the padded row's -Infinity columns on both sides, once before the planes of a call: each
 *  row copied in overwrites only its middle. */
export function padRowBuffer(W: i32, Wout: i32, kW: i32, sW: i32, pW: i32): void {
  const n = paddedRowFloats(W, Wout, kW, sW, pW);
  for (let i = 0; i < n; i++) st(sepScratch, i, -Infinity);
}

/** The running index after v meets the running maximum m: `candidate` (v's index) where v > m,
 *  else `index`. A candidate always comes later in the window's row-major order than the index it
 *  may replace, so its flat index (or tap offset) is the larger, and a lane-wise signed max of the
 *  index and the candidate masked by the compare picks it: two instructions instead of a blend. */
// @ts-ignore: decorator
@inline function later(index: v128, v: v128, m: v128, candidate: v128): v128 {
  return i32x4.max_s(index, v128.and(f32x4.gt(v, m), candidate));
}

/** Row maxima of input row h (already copied, padded, to rb) for every group of 4 output columns:
 *  values to rv, and to ri the flat index h·W + w of each maximum (the winning tap's offset by
 *  `later`, then the window's start). Ties keep the first (v > m); the left padding (-Infinity) wins only a window whose in-bounds
 *  elements are all -Infinity, and then the clamp at the row's start gives its first one. NaN-free
 *  rows only (the caller checks). Called with kW and sW as constants where they are usual (2 or 3,
 *  and 1 or 2), so that the taps are straight-line code. */
// @ts-ignore: decorator
@inline function rowMaxima(rv: usize, ri: usize, rb: usize, h: i32, W: i32, Wout: i32, kW: i32, sW: i32,
  pW: i32): void {
  const rowStart = i32x4.splat(h * W), step = i32x4.splat(4 * sW);
  const one = i32x4.splat(1), two = i32x4.splat(2);
  let start = i32x4.add(i32x4.splat(h * W - pW), sW == 1 ? i32x4(0, 1, 2, 3) : i32x4(0, 2, 4, 6));
  const groups = groupWidth(Wout);
  for (let ow = 0; ow < groups; ow += 4) {
    const p = at(rb, ow * sW);
    let m: v128, tap = i32x4.splat(0);
    if (sW == 1) {
      m = v128.load(p);
      if (kW >= 2) {
        const v = v128.load(p, 4);
        tap = later(tap, v, m, one);
        m = f32x4.pmax(m, v);
      }
      if (kW >= 3) {
        const v = v128.load(p, 8);
        tap = later(tap, v, m, two);
        m = f32x4.pmax(m, v);
      }
      for (let kw = 3; kw < kW; kw++) {
        const v = v128.load(at(p, kw));
        tap = later(tap, v, m, i32x4.splat(kw));
        m = f32x4.pmax(m, v);
      }
    } else {
      // A pair of taps kw, kw + 1 from 8 floats: their even lanes and their odd lanes.
      const a = v128.load(p), b = v128.load(p, 16);
      m = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
      if (kW >= 2) {
        const v = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        tap = later(tap, v, m, one);
        m = f32x4.pmax(m, v);
      }
      if (kW >= 3) {
        const v = v128.shuffle<f32>(v128.load(p, 8), v128.load(p, 24), 0, 2, 4, 6);
        tap = later(tap, v, m, two);
        m = f32x4.pmax(m, v);
      }
      for (let kw = 3; kw < kW; kw++) {
        const q = at(p, kw);
        const v = v128.shuffle<f32>(v128.load(q), v128.load(q, 16), 0, 2, 4, 6);
        tap = later(tap, v, m, i32x4.splat(kw));
        m = f32x4.pmax(m, v);
      }
    }
    v128.store(at(rv, ow), m);
    v128.store(at(ri, ow), i32x4.max_s(i32x4.add(start, tap), rowStart));
    start = i32x4.add(start, step);
  }
}

/** rowMaxima with the usual kernel widths and strides as constants. */
function rowMaximaOf(rv: usize, ri: usize, rb: usize, h: i32, W: i32, Wout: i32, kW: i32, sW: i32,
  pW: i32): void {
  if (sW == 1) {
    if (kW == 3) rowMaxima(rv, ri, rb, h, W, Wout, 3, 1, pW);
    else if (kW == 2) rowMaxima(rv, ri, rb, h, W, Wout, 2, 1, pW);
    else rowMaxima(rv, ri, rb, h, W, Wout, kW, 1, pW);
  } else {
    if (kW == 3) rowMaxima(rv, ri, rb, h, W, Wout, 3, 2, pW);
    else if (kW == 2) rowMaxima(rv, ri, rb, h, W, Wout, 2, 2, pW);
    else rowMaxima(rv, ri, rb, h, W, Wout, kW, 2, pW);
  }
}

/** Copies row xr (W floats) to rb + pW; returns false if it holds a NaN. */
// @ts-ignore: decorator
@inline function copyRowNumbers(rb: usize, xr: usize, W: i32, pW: i32): bool {
  const d = at(rb, pW);
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= W; i += 4) {
    const v = v128.load(at(xr, i));
    v128.store(at(d, i), v);
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  if (i < W) {
    if (W >= 4) {
      // The last 4 floats, overlapping the group before: nothing past the row is written.
      const v = v128.load(at(xr, W - 4));
      v128.store(at(d, W - 4), v);
      nan = v128.or(nan, f32x4.ne(v, v));
    } else {
      for (; i < W; i++) {
        const v = ld(xr, i);
        st(d, i, v);
        if (v != v) return false;
      }
    }
  }
  return !v128.any_true(nan);
}

/** One output row of the separable forward from the row maxima of its window's `rows` input rows,
 *  whose byte offsets in the ring are at `slots`, in order: whole groups of 4, then the last
 *  Wout % 4 columns as a group overlapping the one before (or lane by lane when the row is
 *  narrower than a group). Called with 1 to 3 rows as constants: the rows' merges are then
 *  straight-line code with their offsets in registers. */
// @ts-ignore: decorator
@inline function mergeRows(yRow: usize, iRow: usize, ringV: usize, ringI: usize, slots: usize, rows: i32,
  Wout: i32, kH: i32): void {
  const o0 = <usize>load<i32>(slots);
  const o1 = rows >= 2 ? <usize>load<i32>(slots, 4) : 0, o2 = rows >= 3 ? <usize>load<i32>(slots, 8) : 0;
  for (let ow = 0; ow < Wout; ow += 4) {
    const g = Wout >= 4 ? min(ow, Wout - 4) : 0;
    let m = v128.load(at(ringV + o0, g)), index = v128.load(at(ringI + o0, g));
    if (rows >= 2) {
      const v = v128.load(at(ringV + o1, g));
      index = later(index, v, m, v128.load(at(ringI + o1, g)));
      m = f32x4.pmax(m, v);
    }
    if (rows >= 3) {
      const v = v128.load(at(ringV + o2, g));
      index = later(index, v, m, v128.load(at(ringI + o2, g)));
      m = f32x4.pmax(m, v);
    }
    for (let r = 3; r < rows; r++) {
      const o = <usize>load<i32>(slots + (<usize>r << 2));
      const v = v128.load(at(ringV + o, g));
      index = later(index, v, m, v128.load(at(ringI + o, g)));
      m = f32x4.pmax(m, v);
    }
    if (Wout >= 4) {
      v128.store(at(yRow, g), m);
      v128.store(at(iRow, g), index);
    } else {
      // Lanes by a variable index, through 32 bytes past the ring offsets.
      const tmp = slots + (<usize>kH << 2);
      v128.store(tmp, m);
      v128.store(tmp, index, 16);
      for (let lane = 0; lane < Wout; lane++) {
        st(yRow, lane, ld(tmp, lane));
        store<i32>(at(iRow, lane), load<i32>(at(tmp + 16, lane)));
      }
    }
  }
}

/** One plane of max pooling, separably (undilated, stride 1 or 2 along rows): each input row's
 *  window maxima along the row are computed once, into a ring of kH rows in static scratch, and
 *  each output row merges the rows of its windows, in order (v > m, so the first row of a tie
 *  wins; a later row's flat indices are all above the earlier rows', as `later` needs).
 *  So a window's choice is the first maximum in row-major order, as in the direct path. An input
 *  row of the window grid is computed once however many windows share it (3×3 stride 1: each
 *  row serves three output rows). Returns false, having written only part of the plane, if the
 *  plane holds a NaN: the caller then redoes it on the NaN-aware direct path. */
export function maxPlaneSeparable(yp: usize, ip: usize, xp: usize, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32): bool {
  const groups = groupWidth(Wout), rowFloats = paddedRowFloats(W, Wout, kW, sW, pW);
  const rb = sepScratch, ringV = at(rb, rowFloats), ringI = at(ringV, kH * groups);
  const slots = at(ringI, kH * groups); // byte offsets into the ring of one output row's rows
  const slotBytes = groups << 2;
  let next = 0; // the first input row whose maxima are not computed yet
  for (let oh = 0; oh < Hout; oh++) {
    const hs = oh * sH - pH;
    const h0 = max(hs, 0), h1 = min(hs + kH, H);
    for (let h = max(next, h0); h < h1; h++) {
      if (!copyRowNumbers(rb, at(xp, h * W), W, pW)) return false;
      const slot = (h % kH) * slotBytes;
      rowMaximaOf(ringV + slot, ringI + slot, rb, h, W, Wout, kW, sW, pW);
    }
    next = max(next, h1);
    const rows = h1 - h0;
    for (let r = 0; r < rows; r++) store<i32>(slots + (<usize>r << 2), ((h0 + r) % kH) * slotBytes);
    const yRow = at(yp, oh * Wout), iRow = at(ip, oh * Wout);
    if (rows == 3) mergeRows(yRow, iRow, ringV, ringI, slots, 3, Wout, kH);
    else if (rows == 2) mergeRows(yRow, iRow, ringV, ringI, slots, 2, Wout, kH);
    else if (rows == 1) mergeRows(yRow, iRow, ringV, ringI, slots, 1, Wout, kH);
    else mergeRows(yRow, iRow, ringV, ringI, slots, rows, Wout, kH);
  }
  return true;
}
