// The separable max pooling forward (SIMD builds; `separable` says which geometries take it). A
// window's maximum is the maximum over its rows of each row's maximum over its columns, and its
// index, the first maximum in row-major order, is the first row's among equal row maxima and, in
// that row, the first column's: so each input row's maxima along the row are computed once, for
// every output row whose windows cover that row (3×3 stride 1: three of them), and each output row
// merges those of its rows in order. Padding is a copy of each input row between -Infinity
// columns, so no window needs a border case, and the copy is where NaN is looked for. Kernels
// alone (simd, 8 or 16 × 64 planes of 56×56), against the direct path of max-pool.ts: 3×3 stride 1
// −49..59%, 5×5 stride 1 −80%, 7×7 stride 1 −85%, 4×4 stride 2 −60%, 3×3 stride 2 padding 1 −7..9%.
import { at, ld, st, staticScratch, STATIC_SCRATCH_BYTES, evens, odds, shiftLanes } from './simd';

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
 *  `later`, then the window's start). Ties keep the first (v > m); the left padding (-Infinity)
 *  wins only a window whose in-bounds elements are all -Infinity, and then the clamp at the row's
 *  start gives its first one. NaN-free rows only (the caller checks). Called with kW and sW as
 *  constants where they are usual (2 or 3, and 1 or 2), so that the taps are straight-line code. */
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
      m = evens(a, b);
      if (kW >= 2) {
        const v = odds(a, b);
        tap = later(tap, v, m, one);
        m = f32x4.pmax(m, v);
      }
      if (kW >= 3) {
        const v = evens(v128.load(p, 8), v128.load(p, 24));
        tap = later(tap, v, m, two);
        m = f32x4.pmax(m, v);
      }
      for (let kw = 3; kw < kW; kw++) {
        const q = at(p, kw);
        const v = evens(v128.load(q), v128.load(q, 16));
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

// 3×3 windows at stride 2 with padding 0 or 1 (ResNet's and AlexNet's pools) have a path of their
// own, separable too but with nothing copied and nothing in a ring: a group of 4 outputs reads its
// rows in place, and of the three input rows of an output row's windows the first is the last of
// the output row before, so only its maxima are kept, in one carry row, and each step reads two
// new rows. Every group's taps are three shuffles of four loads; the first tap column of the left
// group is the padding when pW = 1 (its lane 0 is made -Infinity, and the clamp gives the row's
// first element when every element of a window row is -Infinity). NaN-free planes only: the
// floats the windows read are summed, and a NaN sum sends the plane to the direct path. Kernels
// alone (A/B minima, simd and relaxed-simd alike), against the separable path for padding 1 and
// the direct one for padding 0: 56×56 planes −64% (2.23 → 0.79 ms per 1024 planes), 112×112 −62%,
// padding 0 on 55 and 56 columns −55%.

/** Whether maxPlane3x3s2 takes the geometry: SIMD, 3×3 undilated windows at stride 2 with padding
 *  0 or 1 along each axis, at least one group of 4 outputs a row, no window reaching past the
 *  right or bottom edge (2·Wout − pW ≤ W − 1: the last group reads up to that column; so with
 *  pW = 1 the width is even), and a carry row that fits in the static scratch. */
// @ts-ignore: decorator
@inline export function rows3x3s2(H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32): bool {
  return ASC_FEATURE_SIMD && kH == 3 && kW == 3 && sH == 2 && sW == 2 && dH == 1 && dW == 1 &&
    <u32>pH <= 1 && <u32>pW <= 1 && Wout >= 4 && 2 * Wout - pW <= W - 1 && 2 * Hout - pH <= H &&
    2 * groupWidth(Wout) <= SEP_FLOATS;
}

/** The maximum of three taps. */
// @ts-ignore: decorator
@inline function max3(t0: v128, t1: v128, t2: v128): v128 {
  return f32x4.pmax(f32x4.pmax(t0, t1), t2);
}

/** Which of three taps (0, 1 or 2) holds their first maximum (NaN-free). */
// @ts-ignore: decorator
@inline function tap3(t0: v128, t1: v128, t2: v128, one: v128, two: v128): v128 {
  return later(v128.and(f32x4.gt(t1, t0), one), t2, f32x4.pmax(t0, t1), two);
}

/** One group of 4 outputs: rows B and C of their windows from rB and rC (each at the group's first
 *  window column, 2·ow − pW), row A's maxima and their indices from the carry slot (cv, ci), where
 *  row C's go in their place; `base` holds the flat indices of row B's four window starts, `down`
 *  W in each lane. `first`: the group at column 0 with pW = 1, whose lane 0 reads the padding.
 *  `init`: row C's maxima to the carry only (the row before the first output row). Returns `sums`
 *  plus the floats read at taps 1 and 2 (every element of the windows but column 0's, which with
 *  pW = 0 the caller sums). */
// @ts-ignore: decorator
@inline function group3x3s2(y: usize, ix: usize, cv: usize, ci: usize, rB: usize, rC: usize, base: v128,
  down: v128, sums: v128, first: bool, init: bool): v128 {
  const one = i32x4.splat(1), two = i32x4.splat(2);
  const c0 = v128.load(rC), c1 = v128.load(rC, 16), c2 = v128.load(rC, 4), c3 = v128.load(rC, 20);
  let e = evens(c0, c1);
  const o = odds(c0, c1), f = odds(c2, c3);
  if (first) e = f32x4.replace_lane(e, 0, -Infinity);
  const vC = max3(e, o, f);
  const baseC = init ? base : i32x4.add(base, down);
  let iC = i32x4.add(baseC, tap3(e, o, f, one, two));
  if (first) iC = i32x4.max_s(iC, i32x4.splat(i32x4.extract_lane(baseC, 0) + 1));
  sums = f32x4.add(sums, f32x4.add(o, f));
  if (!init) {
    const b0 = v128.load(rB), b1 = v128.load(rB, 16), b2 = v128.load(rB, 4), b3 = v128.load(rB, 20);
    let eB = evens(b0, b1);
    const oB = odds(b0, b1), fB = odds(b2, b3);
    if (first) eB = f32x4.replace_lane(eB, 0, -Infinity);
    const vB = max3(eB, oB, fB);
    // Row B's index needs no clamp: its padding tap survives only in a row of -Infinity, which
    // never beats row A.
    const iB = i32x4.add(base, tap3(eB, oB, fB, one, two));
    sums = f32x4.add(sums, f32x4.add(oB, fB));
    let m = v128.load(cv), index = v128.load(ci);
    index = later(index, vB, m, iB);
    m = f32x4.pmax(m, vB);
    index = later(index, vC, m, iC);
    m = f32x4.pmax(m, vC);
    v128.store(y, m);
    v128.store(ix, index);
  }
  v128.store(cv, vC);
  v128.store(ci, iC);
  return sums;
}

/** The groups of one output row (or, with `init`, of the carry's first row): rows B and C start at
 *  input rows hB and hC; `pad`: pW = 1. Returns `sums` plus what its groups read. */
// @ts-ignore: decorator
@inline function row3x3s2(yRow: usize, iRow: usize, xp: usize, W: i32, Wout: i32, hB: i32, hC: i32,
  down: v128, sums: v128, pad: bool, init: bool): v128 {
  const pW = pad ? 1 : 0;
  const cv = sepScratch, ci = at(cv, groupWidth(Wout));
  const rB = at(xp, hB * W - pW), rC = at(xp, hC * W - pW);
  const lanes = i32x4(0, 2, 4, 6), eight = i32x4.splat(8);
  let base = i32x4.add(i32x4.splat(hB * W - pW), lanes);
  // The first group, then whole groups, then one overlapping the group before (it keeps a carry
  // slot of its own, past the last whole group's).
  sums = group3x3s2(yRow, iRow, cv, ci, rB, rC, base, down, sums, pad, init);
  let ow = 4;
  for (; ow + 4 <= Wout; ow += 4) {
    base = i32x4.add(base, eight);
    sums = group3x3s2(at(yRow, ow), at(iRow, ow), at(cv, ow), at(ci, ow), at(rB, 2 * ow), at(rC, 2 * ow),
      base, down, sums, false, init);
  }
  if (ow < Wout) {
    const g = Wout - 4;
    base = i32x4.add(i32x4.splat(hB * W + 2 * g - pW), lanes);
    sums = group3x3s2(at(yRow, g), at(iRow, g), at(cv, ow), at(ci, ow), at(rB, 2 * g), at(rC, 2 * g),
      base, down, sums, false, init);
  }
  return sums;
}

/** One plane of 3×3 stride-2 max pooling (`rows3x3s2` geometries; `pad`: pW = 1). Output row oh's
 *  window rows are 2·oh − pH and the two below (a row past the bottom is row B again, and the row
 *  above the top, row 0 again: merging a row twice changes nothing, as a repeat never wins). The
 *  carry starts as row 0's maxima. Returns false, having written the plane wrongly, when it holds
 *  a NaN (or infinities of both signs, whose sum is NaN too): the caller redoes it on the direct
 *  path. */
// @ts-ignore: decorator
@inline function plane3x3s2(yp: usize, ip: usize, xp: usize, H: i32, W: i32, Hout: i32, Wout: i32, pH: i32,
  pad: bool): bool {
  const down = i32x4.splat(W);
  let sums = row3x3s2(yp, ip, xp, W, Wout, 0, 0, down, f32x4.splat(0), pad, true);
  for (let oh = 0; oh < Hout; oh++) {
    const hB = 2 * oh - pH + 1, hC = min(hB + 1, H - 1);
    sums = row3x3s2(at(yp, oh * Wout), at(ip, oh * Wout), xp, W, Wout, hB, hC, down, sums, pad, false);
  }
  let column0: f32 = 0;
  if (!pad) {
    for (let h = 0, rows = min(2 * Hout + 1, H); h < rows; h++) column0 += ld(xp, h * W);
  }
  return column0 == column0 && !v128.any_true(f32x4.ne(sums, sums));
}

/** maxPlane3x3s2 with the padding as a constant. */
export function maxPlane3x3s2(yp: usize, ip: usize, xp: usize, H: i32, W: i32, Hout: i32, Wout: i32, pH: i32,
  pW: i32): bool {
  return pW == 1 ? plane3x3s2(yp, ip, xp, H, W, Hout, Wout, pH, true)
    : plane3x3s2(yp, ip, xp, H, W, Hout, Wout, pH, false);
}

// Same-padded stride-1 pools (k×k windows, k = 3 or 5, padding (k − 1) / 2: the output is as large
// as the input) have a path of their own too. Each output row computes the row maxima of one new
// input row (its windows' last) into a ring of k rows and merges its k rows from there in the same
// pass over its groups of 4 outputs; rows are read in place, the taps of the first and last group
// that reach into the padding shifting in -Infinity lanes, and rows above the top or below the
// bottom are the edge row again (merging a row twice changes nothing). NaN is looked for by summing
// each row's middle taps, which cover the row. Kernels alone (A/B minima, simd and relaxed-simd
// alike), against the separable path above: 3×3 on 56×56 planes −47% (4.93 → 2.61 ms per 1024
// planes), on 112×112 −46%, on 13×13 −50%; 5×5 on 28×28 −44%. Then the indices stepped on from
// group to group rather than made afresh in each: 3×3 on 56×56 −7%, 5×5 on 28×28 −4%.

/** Whether maxPlaneSame takes the geometry: SIMD, k×k undilated windows for k = 3 or 5 at stride 1
 *  with padding (k − 1) / 2 along both axes, rows of at least 12 columns (3 groups, so that only
 *  the first and last reach the padding), and a ring that fits in the static scratch. */
// @ts-ignore: decorator
@inline export function sameRows(H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32): bool {
  return ASC_FEATURE_SIMD && kH == kW && (kW == 3 || kW == 5) && sH == 1 && sW == 1 && dH == 1 && dW == 1 &&
    2 * pH == kH - 1 && 2 * pW == kW - 1 && Hout == H && Wout == W && W >= 12 &&
    2 * kH * groupWidth(W) <= SEP_FLOATS;
}

/** Tap kw (constant) of the 4 windows at columns ow − p.. of the row at xr: the floats from column
 *  ow − p + kw, -Infinity where that is outside the row (only in the `first` group, ow = 0, and the
 *  `last`, ow = W − 4). */
// @ts-ignore: decorator
@inline function tapOf(xr: usize, ow: i32, kw: i32, p: i32, first: bool, last: bool): v128 {
  if (first && kw < p) return shiftLanes(v128.load(xr), kw - p, f32x4.splat(-Infinity));
  if (last && kw > p) return shiftLanes(v128.load(at(xr, ow)), kw - p, f32x4.splat(-Infinity));
  return v128.load(at(xr, ow + kw - p));
}

/** One group of 4 outputs at column ow: the row maxima of input row hNew (at xr) to its ring slot
 *  (byte offset oNew), their flat indices from `base` (those of the group's window starts); then,
 *  with `merge`, the maxima of the window rows at ring offsets o0..o4 (in order, k of them) to y
 *  and ix. Returns `sums` plus the group's middle tap. */
// @ts-ignore: decorator
@inline function sameGroup(yRow: usize, iRow: usize, xr: usize, ow: i32, base: v128, hNew: i32, W: i32,
  ringV: usize, ringI: usize, oNew: usize, o0: usize, o1: usize, o2: usize, o3: usize, o4: usize, sums: v128,
  k: i32, p: i32, first: bool, last: bool, merge: bool): v128 {
  const v0 = tapOf(xr, ow, 0, p, first, last), v1 = tapOf(xr, ow, 1, p, first, last);
  const v2 = tapOf(xr, ow, 2, p, first, last);
  let m = f32x4.pmax(v0, v1);
  let tap = later(v128.and(f32x4.gt(v1, v0), i32x4.splat(1)), v2, m, i32x4.splat(2));
  m = f32x4.pmax(m, v2);
  if (k == 5) {
    const v3 = tapOf(xr, ow, 3, p, first, last), v4 = tapOf(xr, ow, 4, p, first, last);
    tap = later(tap, v3, m, i32x4.splat(3));
    m = f32x4.pmax(m, v3);
    tap = later(tap, v4, m, i32x4.splat(4));
    m = f32x4.pmax(m, v4);
  }
  let index = i32x4.add(base, tap);
  if (first) index = i32x4.max_s(index, i32x4.splat(hNew * W));
  v128.store(at(ringV + oNew, ow), m);
  v128.store(at(ringI + oNew, ow), index);
  sums = f32x4.add(sums, p == 1 ? v1 : v2);
  if (merge) {
    let mm = v128.load(at(ringV + o0, ow)), ii = v128.load(at(ringI + o0, ow));
    let v = v128.load(at(ringV + o1, ow));
    ii = later(ii, v, mm, v128.load(at(ringI + o1, ow)));
    mm = f32x4.pmax(mm, v);
    v = v128.load(at(ringV + o2, ow));
    ii = later(ii, v, mm, v128.load(at(ringI + o2, ow)));
    mm = f32x4.pmax(mm, v);
    if (k == 5) {
      v = v128.load(at(ringV + o3, ow));
      ii = later(ii, v, mm, v128.load(at(ringI + o3, ow)));
      mm = f32x4.pmax(mm, v);
      v = v128.load(at(ringV + o4, ow));
      ii = later(ii, v, mm, v128.load(at(ringI + o4, ow)));
      mm = f32x4.pmax(mm, v);
    }
    v128.store(at(yRow, ow), mm);
    v128.store(at(iRow, ow), ii);
  }
  return sums;
}

/** The groups of one row: the first, those between (up to column W − 5; one more at W − 8, when
 *  a gap is left before the last), and the last at W − 4. */
// @ts-ignore: decorator
@inline function sameRow(yRow: usize, iRow: usize, xp: usize, hNew: i32, W: i32, ringV: usize, ringI: usize,
  oNew: usize, o0: usize, o1: usize, o2: usize, o3: usize, o4: usize, sums: v128, k: i32, p: i32,
  merge: bool): v128 {
  const xr = at(xp, hNew * W), four = i32x4.splat(4);
  // The flat indices of the first group's window starts; the groups between step on by 4.
  const start = i32x4.add(i32x4.splat(hNew * W - p), i32x4(0, 1, 2, 3));
  let base = start;
  sums = sameGroup(yRow, iRow, xr, 0, base, hNew, W, ringV, ringI, oNew, o0, o1, o2, o3, o4, sums, k, p,
    true, false, merge);
  let ow = 4;
  for (; ow <= W - 8; ow += 4) {
    base = i32x4.add(base, four);
    sums = sameGroup(yRow, iRow, xr, ow, base, hNew, W, ringV, ringI, oNew, o0, o1, o2, o3, o4, sums, k, p,
      false, false, merge);
  }
  if (ow < W - 4) {
    sums = sameGroup(yRow, iRow, xr, W - 8, i32x4.add(start, i32x4.splat(W - 8)), hNew, W, ringV, ringI, oNew,
      o0, o1, o2, o3, o4, sums, k, p, false, false, merge);
  }
  return sameGroup(yRow, iRow, xr, W - 4, i32x4.add(start, i32x4.splat(W - 4)), hNew, W, ringV, ringI, oNew,
    o0, o1, o2, o3, o4, sums, k, p, false, true, merge);
}

/** Byte offset in the ring of window row h, clamped to the plane's rows. */
// @ts-ignore: decorator
@inline function ringSlot(h: i32, H: i32, k: i32, slotBytes: usize): usize {
  return <usize>(min(max(h, 0), H - 1) % k) * slotBytes;
}

/** One plane of a same-padded k×k stride-1 pool (`sameRows` geometries). Returns false, having
 *  written the plane wrongly, when it holds a NaN (or infinities of both signs). */
// @ts-ignore: decorator
@inline function planeSame(yp: usize, ip: usize, xp: usize, H: i32, W: i32, k: i32): bool {
  const p = k >> 1, slotBytes = <usize>groupWidth(W) << 2;
  const ringV = sepScratch, ringI = ringV + <usize>k * slotBytes;
  let sums = f32x4.splat(0);
  // Rows 0..p − 1, which the first output row's windows need before its own new row p.
  for (let h = 0; h < min(p, H); h++) {
    const o = <usize>(h % k) * slotBytes;
    sums = sameRow(0, 0, xp, h, W, ringV, ringI, o, 0, 0, 0, 0, 0, sums, k, p, false);
  }
  for (let oh = 0; oh < H; oh++) {
    const hNew = min(oh + p, H - 1), top = oh - p;
    sums = sameRow(at(yp, oh * W), at(ip, oh * W), xp, hNew, W, ringV, ringI, <usize>(hNew % k) * slotBytes,
      ringSlot(top, H, k, slotBytes), ringSlot(top + 1, H, k, slotBytes), ringSlot(top + 2, H, k, slotBytes),
      ringSlot(top + 3, H, k, slotBytes), ringSlot(top + 4, H, k, slotBytes), sums, k, p, true);
  }
  return !v128.any_true(f32x4.ne(sums, sums));
}

/** maxPlaneSame with the window size as a constant. */
export function maxPlaneSame(yp: usize, ip: usize, xp: usize, H: i32, W: i32, k: i32): bool {
  return k == 3 ? planeSame(yp, ip, xp, H, W, 3) : planeSame(yp, ip, xp, H, W, 5);
}
