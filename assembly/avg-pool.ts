// 2-D average pooling over planes, forward and backward side by side (max pooling: max-pool.ts).
//
// Layout: x and dx (NC, H, W), y and dy (NC, Hout, Wout), with NC = N·C planes. Every output here
// is OVERWRITTEN (the backward writes each dx element once). The rules are PyTorch's CPU kernels
// (no dilation):
// - hstart = oh·sH − pH, hend = min(hstart + kH, H + pH), poolSize = (hend − hstart)·(wend − wstart);
//   then hstart = max(hstart, 0), hend = min(hend, H) (columns likewise) and the sum runs over that
//   clipped window.
// - divisor = countIncludePad ? poolSize : (hend − hstart)·(wend − wstart) after clipping.
// - A window with no in-bounds element yields 0 and receives no gradient.
// - The backward adds dy / divisor to every in-bounds element of the window.
//
// Speed: the pooling is separable (its divisor is a row count times a column count): the forward
// sums each output row's input rows into a zero-padded row in static scratch and then sums the
// taps of that row (the usual 3-wide stride-2 windows keep those sums in registers instead); the
// backward gathers, each dx row the taps of a row of summed shares. On rows a multiple of 8 wide,
// the 3×3 stride-2 backward writes 16 dx elements at a time straight from registers. The 2×2
// stride-2 pool without padding computes groups of 4 outputs from registers (avgPlanes2x2), and
// its backward, whose windows tile the plane, writes each group's shares to 16 dx elements
// (avgBackwardPlanes2x2).
// Rows too wide for the scratch go one window at a time (avgDirect).
import {
  at, ld, st, zero, copy, sum, addInto, addScalar, storeInterleaved, vectorStride, staticScratch, evens, odds,
  shiftLanes,
} from './simd';

/** The average kernels' row buffers, in the static scratch (simd.ts): a few KB hold rows of any
 *  usual width. A plane too wide for them takes the direct path. */
const SCRATCH_FLOATS = 2048;
const scratch = staticScratch;

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
    s = f32x4.add(s, evens(a, b));
    if (kw + 1 < kW) s = f32x4.add(s, odds(a, b));
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
  return shiftLanes(v, c - from, f32x4.splat(0));
}

/** Outputs ow..ow+3 of 3-wide stride-2 windows whose first tap is lane 0 of a: a, b and next are
 *  the column sums of 12 consecutive columns. Taps 0 and 1 are the even and odd lanes of a and b,
 *  tap 2 the even lanes one further, the last from next. */
// @ts-ignore: decorator
@inline function storeGroup3s2(yRow: usize, ow: i32, a: v128, b: v128, next: v128, cols: usize, rows: v128): void {
  const even = evens(a, b), odd = odds(a, b);
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
    const even = evens(a, b), odd = odds(a, b);
    const s = f32x4.add(f32x4.add(v128.shuffle<f32>(before, odd, 3, 4, 5, 6), even), odd);
    v128.store(at(yRow, ow), f32x4.div(s, f32x4.mul(v128.load(at(cols, ow)), rows)));
    before = odd;
  }
}

/** Whether the 2×2 group paths take the pool (in SIMD builds, which the callers test where they
 *  call, so that the scalar build never compiles those paths): 2×2 windows at stride 2 without
 *  padding, on rows of at least one group of 4 outputs. */
// @ts-ignore: decorator
@inline function groups2x2(kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, Wout: i32): bool {
  return kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 && Wout >= 4;
}

/** 2×2 stride-2 windows without padding, on rows of at least one group (Wout ≥ 4): each group of
 *  4 outputs from 8 floats of two rows (column sums, then even plus odd columns), the last group of
 *  a row overlapping the one before. Every window is whole, so its divisor is 4 either way, and
 *  the sums are added in the separable path's order (the outputs are bit for bit its own). Kernels
 *  alone (simd, 8 or 16 × 64 planes) against that path: 28×28 −65%, 27×27 −66%, 56×56 −60%. */
// @ts-ignore: decorator
@inline function avgPlanes2x2(y: usize, x: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32): void {
  const quarter = f32x4.splat(0.25);
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W), yp = at(y, p * Hout * Wout);
    for (let oh = 0; oh < Hout; oh++) {
      const r0 = at(xp, 2 * oh * W), r1 = at(r0, W), yRow = at(yp, oh * Wout);
      for (let ow = 0; ow < Wout; ow += 4) {
        const g = min(ow, Wout - 4), c = <usize>g << 3;
        const a = f32x4.add(v128.load(r0 + c), v128.load(r1 + c));
        const b = f32x4.add(v128.load(r0 + c, 16), v128.load(r1 + c, 16));
        const s = f32x4.add(evens(a, b), odds(a, b));
        v128.store(at(yRow, g), f32x4.mul(s, quarter));
      }
    }
  }
}

export function avgpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  if (ASC_FEATURE_SIMD && groups2x2(kH, kW, sH, sW, pH, pW, Wout)) {
    avgPlanes2x2(y, x, NC, H, W, Hout, Wout);
    return;
  }
  // Separable: the in-bounds rows of an output row's windows are summed column by column into a
  // zero-padded row (each input element loaded once per output row instead of once per window),
  // then the windows sum kW taps of that row (avgRow3s2 does both at once for 3-wide stride-2
  // windows). cols holds the column factors of the divisors.
  const pad = rowPad(kW), cols = scratch, row = at(scratch, (Wout + 3) & ~3);
  const mid = at(row, pad), rowLen = pad + W + pW + pad;
  if (!floorGrid(W, Wout, kW, sW, pW) || pW > pad || ((Wout + 3) & ~3) + rowLen > SCRATCH_FLOATS) {
    avgDirect(y, x, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad, false);
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

/** One window at a time, for planes wider than the scratch rows (or a grid past the padding): the
 *  forward gathers each window's mean into y (0 for a window with no in-bounds element); the
 *  backward zeroes dx, then scatters each dy / divisor over its window. `backward` is a constant
 *  at both calls, so each compiles to a loop of its own. */
// @ts-ignore: decorator
@inline function avgDirect(out: usize, inp: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32, backward: bool): void {
  if (backward) zero(out, NC * H * W);
  for (let p = 0; p < NC; p++) {
    const plane = at(backward ? out : inp, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      for (let ow = 0; ow < Wout; ow++) {
        const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        const o = (p * Hout + oh) * Wout + ow;
        if (h0 >= h1 || w0 >= w1) {
          if (!backward) st(out, o, 0);
          continue;
        }
        const div = <f32>(avgCount(phs, phe, h0, h1, countIncludePad) * avgCount(pws, pwe, w0, w1, countIncludePad));
        if (backward) {
          const share = ld(inp, o) / div;
          for (let h = h0; h < h1; h++) addScalar(at(plane, h * W + w0), share, w1 - w0);
        } else {
          st(out, o, windowSum(plane, W, h0, h1, w0, w1) / div);
        }
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
  if (ASC_FEATURE_SIMD && groups2x2(kH, kW, sH, sW, pH, pW, Wout) && Wout == W >> 1 && Hout == H >> 1) {
    avgBackwardPlanes2x2(dx, dy, NC, H, W, Hout, Wout);
    return;
  }
  const K = (kH + sH - 1) / sH;
  const pad = rowPad(kW), len = pad + Wout + pad, colLen = (Wout + 3) & ~3;
  if (!floorGrid(W, Wout, kW, sW, pW) || colLen + (K + 1) * len > SCRATCH_FLOATS) {
    avgDirect(dx, dy, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad, true);
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

/** dx of 2×2 stride-2 windows without padding, on rows of at least one group (Wout ≥ 4): the
 *  windows tile the plane, so each dx element is its one window's share dy / 4 (+ 0, so that −0
 *  becomes +0), and each group of 4 shares goes to 8 columns of two rows from registers, the last
 *  group of a row overlapping the one before; an odd width's last column and an odd height's last
 *  row are in no window and get 0. Kernels alone (simd, A/B minima per 1024 planes) against the
 *  gathering path below: 28×28 0.53 → 0.074 ms, 27×27 0.49 → 0.082, 56×56 1.55 → 0.24. */
// @ts-ignore: decorator
@inline function avgBackwardPlanes2x2(dx: usize, dy: usize, NC: i32, H: i32, W: i32, Hout: i32, Wout: i32): void {
  const quarter = f32x4.splat(0.25), none = f32x4.splat(0), rowBytes = <usize>W << 2;
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * H * W), dyp = at(dy, p * Hout * Wout);
    for (let i = 0; i < Hout; i++) {
      const dyRow = at(dyp, i * Wout), top = at(dxp, 2 * i * W);
      for (let k = 0; k < Wout; k += 4) {
        const g = min(k, Wout - 4);
        const share = f32x4.add(f32x4.mul(v128.load(at(dyRow, g)), quarter), none);
        storeInterleaved(at(top, 2 * g), share, share);
        storeInterleaved(at(top, 2 * g) + rowBytes, share, share);
      }
      if (W & 1) {
        st(top, W - 1, 0);
        st(top + rowBytes, W - 1, 0);
      }
    }
    if (H & 1) zero(at(dxp, (H - 1) * W), W);
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
