// Depthwise 3×3 convolutions at padding 1, undilated (MobileNet's layers), that read their planes
// in place, row by row, instead of through a split plane (depthwise.ts states the contract; conv.ts
// chooses the forward and filter gradient, depthwise.ts the input gradient): the forward at stride
// 2 (forward3x3s2) and, on rows of 56 or more, at stride 1 (forward3x3s1, which serves the input
// gradient at stride 1 too), the filter gradient at both strides (filterRows3x3s2,
// depthwiseFilter3x3s1) and the input gradient at stride 2, gathered by rows and column phases
// straight into dx (input3x3s2).
import { at, ld, zero, copy, madd, storeInterleaved, evens, odds, shiftLanes } from './simd';
import { tapAt, newLanes, maddNew, addLanes, forward16 } from './depthwise-rows';

/** 3×3 taps at stride s along both axes and padding 1, undilated: MobileNet's depthwise layers
 *  (s = 1) and its downsampling ones (s = 2). */
// @ts-ignore: decorator
@inline export function taps3x3p1(s: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32,
  dW: i32): bool {
  return ASC_FEATURE_SIMD && kH == 3 && kW == 3 && sH == s && sW == s && pH == 1 && pW == 1 && dH == 1 &&
    dW == 1;
}

/** Whether a depthwise forward runs on forward3x3s2: taps3x3p1 at stride 2 on rows of at least 16.
 *  Narrower rows, mostly the last group's copy, measured from 31% slower to 26% faster (kernels
 *  alone, A/B minima, 9 and 13 wide). */
// @ts-ignore: decorator
@inline export function inPlace3x3s2(W: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  dH: i32, dW: i32): bool {
  return W >= 16 && taps3x3p1(2, kH, kW, sH, sW, pH, pW, dH, dW);
}

/** Whether a depthwise forward, and the input gradient gathered from it, runs on forward3x3s1: 3×3
 *  taps at stride 1 and padding 1, undilated (MobileNet's depthwise layers), rows of at least 56.
 *  It gains with the groups of a row that are not its first or last (kernels alone, A/B minima, 8
 *  images × 64 channels, simd): 40 wide +12%, 48 −3%, 56 (D1) −10%, 64 −23%, 80 −27%, 112 −31%. */
// @ts-ignore: decorator
@inline export function inPlace3x3s1(W: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  dH: i32, dW: i32): bool {
  return W >= 56 && taps3x3p1(1, kH, kW, sH, sW, pH, pW, dH, dW);
}

/** Bytes into forward3x3s1's `work` of its row of zeros, after two tables of 9 offsets. */
export const ZEROS_AT = 80;

/** The place of forward3x3s1's tap t: tap 8 − t's when `flip`. */
// @ts-ignore: decorator
@inline function place3x3(t: i32, flip: bool): i32 {
  return flip ? 8 - t : t;
}

/** forward16 for the first (`left`) or last group of 16 of a row of forward3x3s1: the taps of the
 *  left column take their first 4 floats from columns 0..2 after a zero (column −1 is padding),
 *  those of the right column their last 4 from columns W − 3 .. W − 1 before a zero. */
// @ts-ignore: decorator
@inline function edge16(d: usize, p: usize, wc: usize, b: v128, offs: usize, left: bool, flip: bool): void {
  const z = f32x4.splat(0);
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = 0; t < 9; t++) {
    const q = p + tapAt(offs, t), wt = v128.load32_splat(wc + (<usize>t << 2)), kw = place3x3(t, flip) % 3;
    a0 = madd(wt, left && kw == 0 ? shiftLanes(v128.load(q, 4), -1, z) : v128.load(q), a0);
    a1 = madd(wt, v128.load(q, 16), a1);
    a2 = madd(wt, v128.load(q, 32), a2);
    a3 = madd(wt, !left && kw == 2 ? shiftLanes(v128.load(q, 44), 1, z) : v128.load(q, 48), a3);
  }
  v128.store(d, a0);
  v128.store(d, a1, 16);
  v128.store(d, a2, 32);
  v128.store(d, a3, 48);
}

/**
 * One plane yp (H, W ≥ 17) = bias + the 3×3 taps (weights wc; tap t at tap 8 − t's place when
 * `flip`, as the input gradient gathered from dy needs) at stride 1, padding 1, of the plane xp
 * (H, W), read in place rather than from a padded copy (which took a third of D1's forward, kernels
 * alone). Rows inside the plane run forward16 on the taps' offsets in x; the first and last rows on
 * the addresses of their three input rows, a row of zeros past the plane (W floats of `work` from
 * ZEROS_AT, zeroed by the caller). The first and last groups of 16 of a row, whose taps reach a
 * column of padding, run on edge16; a last group overlaps the one before when W is not a multiple
 * of 16. Same taps, same order, same zeros as the split plane, so the same sums.
 */
export function forward3x3s1(yp: usize, xp: usize, wc: usize, bias: f32, work: usize, H: i32, W: i32,
  flip: bool): void {
  if (!ASC_FEATURE_SIMD) return;
  const offs = work, ends = work + 40, zeros = work + ZEROS_AT, b = f32x4.splat(bias);
  for (let t = 0; t < 9; t++) {
    const u = place3x3(t, flip);
    store<i32>(offs + (<usize>t << 2), ((u / 3 - 1) * W + u % 3 - 1) << 2);
  }
  for (let oh = 0; oh < H; oh++) {
    const yRow = at(yp, oh * W);
    let base: usize = at(xp, oh * W), taps = offs;
    if (oh == 0 || oh == H - 1) {
      // Rows past the plane are zeros: each tap's address, from column 0.
      for (let t = 0; t < 9; t++) {
        const u = place3x3(t, flip), r = oh - 1 + u / 3;
        store<i32>(ends + (<usize>t << 2), <i32>(r >= 0 && r < H ? at(xp, r * W) : zeros) + ((u % 3 - 1) << 2));
      }
      base = 0;
      taps = ends;
    }
    edge16(yRow, base, wc, b, taps, true, flip);
    let ow = 16;
    for (; ow + 17 <= W; ow += 16) forward16(at(yRow, ow), at(base, ow), wc, b, taps, 9);
    edge16(at(yRow, W - 16), at(base, W - 16), wc, b, taps, false, flip);
  }
}

/** FORWARD of depthwisePlanes where inPlace3x3s1: y = bias + the taps of x, each plane read in place
 *  once per output channel. `work` is the split buffer (at least two padded planes), which has room
 *  for forward3x3s1's tables and zeros. */
export function depthwise3x3s1(y: usize, x: usize, w: usize, b: usize, work: usize, N: i32, Cin: i32,
  H: i32, W: i32, Cout: i32): void {
  const Og = Cout / Cin, P = H * W;
  zero(work + ZEROS_AT, W);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      forward3x3s1(at(y, (n * Cout + co) * P), at(x, (n * Cin + co / Og) * P), at(w, co * 9),
        b ? ld(b, co) : 0, work, H, W, false);
    }
  }
}

/**
 * dw += Σ dy · the taps of x for a depthwise convolution with taps3x3p1 at stride 1 and one output
 * channel per input channel, rows of 8 or more, each plane read in place: for each row of taps, 3
 * sums over the output rows whose input row lies inside the plane, 4 outputs at a time from 3
 * overlapping loads of that row; the first group of a row takes its padding column by a shuffle
 * with zero, and so does the last (which, when W is not a multiple of 4, overlaps the one before
 * and counts only its new lanes). Reading x in place saves filterTaps' padded copy: kernels alone,
 * A/B minima, 8 images × 64 channels, simd / relaxed-simd: 56×56 (D1) −40% / −32%, 57×57 −43% /
 * −34%, 28×28 −37% / −35%, 14×14 −47% / −49%, 9×9 −48% / −50%, 112×112 (2 images) −49% / −39%.
 * Between the edges, groups of 8 outputs go into two sets of three sums (a for the first 4, b for
 * the next), so that each sum waits on the FMA two steps back rather than one: with three sums,
 * relaxed-simd's loop was bound by the FMA's latency and about 18% slower than simd's multiply and
 * add on D1. Kernels alone, A/B minima, relaxed-simd / simd: D1 −19% / −1%, 57×57 −21% / +2%,
 * 28×28 −26% / −6%, 14×14 −13% / −1%, 112×112 −29% / 0%, 9×9 (no group of 8) +3% / +2%.
 */
export function depthwiseFilter3x3s1(dw: usize, x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  const z = f32x4.splat(0), P = H * W;
  for (let p = 0; p < N * C; p++) {
    const dwc = at(dw, (p % C) * 9), dyp = at(dy, p * P), xp = at(x, p * P);
    for (let kh = 0; kh < 3; kh++) {
      let a0 = z, a1 = z, a2 = z, b0 = z, b1 = z, b2 = z;
      for (let oh = kh == 0 ? 1 : 0, end = kh == 2 ? H - 1 : H; oh < end; oh++) {
        const d = at(dyp, oh * W), r = at(xp, (oh - 1 + kh) * W);
        let g = v128.load(d), v = v128.load(r), ow = 4;
        a0 = madd(g, shiftLanes(v, -1, z), a0);
        a1 = madd(g, v, a1);
        a2 = madd(g, v128.load(r, 4), a2);
        for (; ow + 9 <= W; ow += 8) {
          const q = at(r, ow), h = v128.load(at(d, ow), 16);
          g = v128.load(at(d, ow));
          a0 = madd(g, v128.load(q - 4), a0);
          a1 = madd(g, v128.load(q), a1);
          a2 = madd(g, v128.load(q, 4), a2);
          b0 = madd(h, v128.load(q, 12), b0);
          b1 = madd(h, v128.load(q, 16), b1);
          b2 = madd(h, v128.load(q, 20), b2);
        }
        if (ow + 5 <= W) {
          const q = at(r, ow);
          g = v128.load(at(d, ow));
          a0 = madd(g, v128.load(q - 4), a0);
          a1 = madd(g, v128.load(q), a1);
          a2 = madd(g, v128.load(q, 4), a2);
          ow += 4;
        }
        const q = at(r, W - 4), m = newLanes(W - ow);
        g = v128.load(at(d, W - 4));
        v = v128.load(q);
        a0 = maddNew(g, v128.load(q - 4), a0, m);
        a1 = maddNew(g, v, a1, m);
        a2 = maddNew(g, shiftLanes(v, 1, z), a2, m);
      }
      addLanes(dwc, 3 * kh, f32x4.add(a0, b0));
      addLanes(dwc, 3 * kh + 1, f32x4.add(a1, b1));
      addLanes(dwc, 3 * kh + 2, f32x4.add(a2, b2));
    }
  }
}

/** Outputs ow..ow+3 of one output row: acc (which holds the bias and the row of taps above) plus
 *  the taps (weights w3..w5, splatted) of the input row of their centre, v0 v1 = its columns
 *  2·ow..2·ow+7, l1 = column 2·ow − 1 in lane 3; then, when `two`, the taps (w6..w8) of the row
 *  below, u0 u1 and l2 likewise, whose taps w0..w2 also start the same outputs of the next output
 *  row (from the bias b), stored at c. Without the row below (the padding under an odd height),
 *  its taps multiply zeros, as the split plane's padding would. Tap order and arithmetic are
 *  forward16's, so the sums are the same. */
// @ts-ignore: decorator
@inline function forwardGroup3x3s2(y: usize, c: usize, acc: v128, v0: v128, v1: v128, l1: v128, two: bool,
  u0: v128, u1: v128, l2: v128, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128,
  w7: v128, w8: v128, b: v128): void {
  const e = evens(v0, v1), o = odds(v0, v1);
  acc = madd(w3, v128.shuffle<f32>(l1, o, 3, 4, 5, 6), acc);
  acc = madd(w4, e, acc);
  acc = madd(w5, o, acc);
  if (two) {
    const e2 = evens(u0, u1), o2 = odds(u0, u1);
    const m2 = v128.shuffle<f32>(l2, o2, 3, 4, 5, 6);
    acc = madd(w6, m2, acc);
    acc = madd(w7, e2, acc);
    acc = madd(w8, o2, acc);
    let next = madd(w0, m2, b);
    next = madd(w1, e2, next);
    v128.store(c, madd(w2, o2, next));
  } else {
    const z = f32x4.splat(0);
    acc = madd(w6, z, acc);
    acc = madd(w7, z, acc);
    acc = madd(w8, z, acc);
  }
  v128.store(y, acc);
}

/**
 * One output plane yp (Hout, Wout) = bias + the 3×3 taps (weights wc) at stride 2, padding 1, of
 * the input plane xp (H, W ≥ 8), read in place: no split plane. Of 8 consecutive input floats the
 * even and odd ones are two taps' columns for 4 outputs, and the odd ones moved up a lane (the last
 * odd float before them in lane 0) are the third's. Input row 2·oh + 1 is the last row of output
 * row oh's windows and the first of row oh + 1's, so it is read once: its first-row taps start row
 * oh + 1's sums in a carry row (two rows of `work`, taking turns, so that the last group of a row,
 * which overlaps the one before it when the row's end is not 8 floats on, still reads what the row
 * above left). That last group's inputs are copied first, with zeros past the row, into 24 floats
 * of `work`; `work` holds 2·⌈Wout/4⌉·4 + 24 floats. The weights stay in registers (loaded for
 * each group instead: D2 10–16% slower). Against the split plane, kernels alone (A/B minima, simd
 * and relaxed-simd), 8 images × 64 channels: D2's 56×56 planes −43..52%, 112×112 −49..54%, 28×28
 * −26..34%, 17×17 −5..+4%; two output channels per input channel on 56×56 −18..32%.
 */
function forward3x3s2(yp: usize, xp: usize, wc: usize, bias: f32, work: usize, H: i32, W: i32,
  Hout: i32, Wout: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  const b = f32x4.splat(bias), z = f32x4.splat(0), span = (Wout + 3) & ~3;
  const tail = work + (<usize>(2 * span) << 2);
  const w0 = v128.load32_splat(wc), w1 = v128.load32_splat(wc, 4), w2 = v128.load32_splat(wc, 8);
  const w3 = v128.load32_splat(wc, 12), w4 = v128.load32_splat(wc, 16), w5 = v128.load32_splat(wc, 20);
  const w6 = v128.load32_splat(wc, 24), w7 = v128.load32_splat(wc, 28), w8 = v128.load32_splat(wc, 32);
  // Row −1 is padding: its taps multiply zeros.
  const c0 = madd(w2, z, madd(w1, z, madd(w0, z, b)));
  for (let ow = 0; ow < Wout; ow += 4) v128.store(at(work, ow), c0);
  for (let oh = 0; oh < Hout; oh++) {
    const r1 = at(xp, 2 * oh * W), two = 2 * oh + 1 < H, r2 = two ? at(r1, W) : r1;
    const cin = at(work, (oh & 1) * span), cout = at(work, (~oh & 1) * span), yRow = at(yp, oh * Wout);
    let l1 = z, l2 = z, ow = 0;
    for (; 2 * ow + 8 <= W; ow += 4) {
      const q1 = at(r1, 2 * ow), q2 = at(r2, 2 * ow);
      const v0 = v128.load(q1), v1 = v128.load(q1, 16), u0 = v128.load(q2), u1 = v128.load(q2, 16);
      forwardGroup3x3s2(at(yRow, ow), at(cout, ow), v128.load(at(cin, ow)), v0, v1, l1, two, u0, u1, l2,
        w0, w1, w2, w3, w4, w5, w6, w7, w8, b);
      l1 = v1;
      l2 = u1;
    }
    if (ow < Wout) {
      // The last 4 outputs again, from columns 2·o − 1 .. 2·o + 7 of both rows, zero past W.
      const o = Wout - 4, from = 2 * o - 1, n = min(9, W - from);
      zero(tail, 24);
      copy(at(tail, 3), at(r1, from), n);
      copy(at(tail, 15), at(r2, from), n);
      forwardGroup3x3s2(at(yRow, o), at(cout, o), v128.load(at(cin, o)),
        v128.load(tail, 16), v128.load(tail, 32), v128.load(tail), two,
        v128.load(tail, 64), v128.load(tail, 80), v128.load(tail, 48),
        w0, w1, w2, w3, w4, w5, w6, w7, w8, b);
    }
  }
}

/**
 * dwc[tA..tA+2] += Σ dy row oh · x row 2·oh + c, one row of 3×3 stride-2 padding-1 taps of one plane,
 * over the output rows whose x row lies inside the plane (the rest is padding); with `below`, also
 * dwc[0..2] += Σ dy row oh + 1 · the same x rows, which are the top rows of output row oh + 1's
 * windows. x is read in place (H, W ≥ 8), as forward3x3s2 reads it: of 8 floats of a row, the
 * even and odd ones are the middle and right taps' columns for 4 outputs, and the odd ones moved up
 * a lane the left tap's. The last group of a row, when the row's end is not 8 floats on, reads a
 * copy (12 floats of `work`, zeros past the row) and counts only the lanes not yet counted.
 */
function filterRows3x3s2(dwc: usize, tA: i32, below: bool, dyp: usize, xp: usize, c: i32, work: usize,
  H: i32, W: i32, Hout: i32, Wout: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  const z = f32x4.splat(0), end = (W >> 3) << 2, o = Wout - 4, mask = newLanes(Wout - end);
  let a0 = z, a1 = z, a2 = z, b0 = z, b1 = z, b2 = z;
  for (let oh = 0; oh < Hout && 2 * oh + c < H; oh++) {
    const r = at(xp, (2 * oh + c) * W), d = at(dyp, oh * Wout), d2 = at(d, Wout), two = below && oh + 1 < Hout;
    let l = z;
    for (let ow = 0; ow < end; ow += 4) {
      const q = at(r, 2 * ow), v0 = v128.load(q), v1 = v128.load(q, 16);
      const e = evens(v0, v1), od = odds(v0, v1), m = v128.shuffle<f32>(l, od, 3, 4, 5, 6);
      const g = v128.load(at(d, ow));
      a0 = madd(g, m, a0);
      a1 = madd(g, e, a1);
      a2 = madd(g, od, a2);
      if (two) {
        const h = v128.load(at(d2, ow));
        b0 = madd(h, m, b0);
        b1 = madd(h, e, b1);
        b2 = madd(h, od, b2);
      }
      l = v1;
    }
    if (end < Wout) {
      // Outputs o..o+3 again, from columns 2·o − 1 .. 2·o + 7, zero past W.
      zero(work, 12);
      copy(at(work, 3), at(r, 2 * o - 1), min(9, W - 2 * o + 1));
      const v0 = v128.load(work, 16), v1 = v128.load(work, 32);
      const e = evens(v0, v1), od = odds(v0, v1), m = v128.shuffle<f32>(v128.load(work), od, 3, 4, 5, 6);
      const g = v128.load(at(d, o));
      a0 = maddNew(g, m, a0, mask);
      a1 = maddNew(g, e, a1, mask);
      a2 = maddNew(g, od, a2, mask);
      if (two) {
        const h = v128.load(at(d2, o));
        b0 = maddNew(h, m, b0, mask);
        b1 = maddNew(h, e, b1, mask);
        b2 = maddNew(h, od, b2, mask);
      }
    }
  }
  addLanes(dwc, tA, a0);
  addLanes(dwc, tA + 1, a1);
  addLanes(dwc, tA + 2, a2);
  if (below) {
    addLanes(dwc, 0, b0);
    addLanes(dwc, 1, b1);
    addLanes(dwc, 2, b2);
  }
}

/** FILTER of depthwisePlanes where taps3x3p1 at stride 2, Og = 1 and W ≥ 8: dw += Σ dy · the taps
 *  of x, each plane read in place, its even rows (the taps' middle row) in one pass and its odd
 *  rows (the bottom row of one output row's windows and the top row of the next's) in another. Each
 *  tap's lanes add the same products in the same order as filterTaps over the split plane, whose
 *  copy it saves: kernels alone, A/B minima, 8 images × 64 channels, simd / relaxed-simd: 56×56
 *  (D2) −41% / −43%, 57×57 −37% / −33%, 23×23 −17% / −12%, 17×17 −5% / +1%, 9 to 15 wide −8..+3% /
 *  −17..25%, 8 wide −57% / −58%; 112×112 (2 images, a plane past L1) −5% / −11%. */
export function depthwiseFilter3x3s2(dw: usize, x: usize, dy: usize, work: usize, N: i32, C: i32, H: i32,
  W: i32, Hout: i32, Wout: i32): void {
  for (let p = 0; p < N * C; p++) {
    const dwc = at(dw, (p % C) * 9), dyp = at(dy, p * Hout * Wout), xp = at(x, p * H * W);
    filterRows3x3s2(dwc, 3, false, dyp, xp, 0, work, H, W, Hout, Wout);
    filterRows3x3s2(dwc, 6, true, dyp, xp, 1, work, H, W, Hout, Wout);
  }
}

/** dx rows e (even, 2·i) and o (odd, 2·i + 1, when `two`), columns 2·j..2·j+7, of a depthwise
 *  3×3 stride-2 padding-1 convolution: a = dy[i][j..j+3], an = dy[i][j+1..j+4], A and An the same
 *  of dy row i + 1 (zeros past dy). An even column 2·j takes the centre column's taps of dy column
 *  j, an odd one 2·j + 1 the right column's of j and the left column's of j + 1; rows likewise.
 *  Each sum adds its products in tap order, as inputPlane's scatter does. With `short` (an odd W,
 *  at the row's end) the 8th column is past the row: 7 are stored. */
// @ts-ignore: decorator
@inline function inputGroup3x3s2(e: usize, o: usize, a: v128, an: v128, A: v128, An: v128, two: bool,
  short: bool, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128,
  w8: v128): void {
  storeColumns(e, f32x4.mul(w4, a), madd(w5, a, f32x4.mul(w3, an)), short);
  if (two) {
    storeColumns(o, madd(w7, a, f32x4.mul(w1, A)), madd(w8, a, madd(w6, an, madd(w2, A, f32x4.mul(w0, An)))),
      short);
  }
}

/** Even columns ev and odd columns od interleaved at d: 8 floats, or 7 when `short`. */
// @ts-ignore: decorator
@inline function storeColumns(d: usize, ev: v128, od: v128, short: bool): void {
  if (!short) {
    storeInterleaved(d, ev, od);
    return;
  }
  const lo = v128.shuffle<f32>(ev, od, 0, 4, 1, 5), hi = v128.shuffle<f32>(ev, od, 2, 6, 3, 7);
  v128.store(d, lo);
  v128.store(d, v128.shuffle<f32>(lo, hi, 3, 4, 5, 6), 12);
}

/**
 * The input gradient dxp (H, W ≥ 7) of a depthwise convolution with taps3x3p1 at stride 2 from one
 * plane of dy (Hout, Wout ≥ 4), weights wc, gathered rather than scattered: dx row 2·i takes dy row
 * i's centre-row taps, row 2·i + 1 the bottom row's of dy row i and the top row's of row i + 1, and
 * each 4 dy values of a row give 8 dx columns (inputGroup3x3s2), so every dx element is written
 * once, straight into dx. Past dy's last row and column it multiplies zeros (`zeros`: Wout floats),
 * so the weights must be finite. Against the scatter into a split plane (inputPlane), kernels
 * alone, A/B minima, 8 images × 64 channels, simd / relaxed-simd: 56×56 (D2) −69% / −79%, 57×57
 * −81% / −82%, 112×112 (2 images) −76% / −77%, 17×17 −89%; 7 to 13 wide −84..93%.
 */
export function input3x3s2(dxp: usize, dyp: usize, wc: usize, zeros: usize, H: i32, W: i32, Hout: i32,
  Wout: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  const z = f32x4.splat(0), short = W & 1;
  const w0 = v128.load32_splat(wc), w1 = v128.load32_splat(wc, 4), w2 = v128.load32_splat(wc, 8);
  const w3 = v128.load32_splat(wc, 12), w4 = v128.load32_splat(wc, 16), w5 = v128.load32_splat(wc, 20);
  const w6 = v128.load32_splat(wc, 24), w7 = v128.load32_splat(wc, 28), w8 = v128.load32_splat(wc, 32);
  for (let i = 0; i < Hout; i++) {
    const d = at(dyp, i * Wout), dn = i + 1 < Hout ? at(d, Wout) : zeros;
    const e = at(dxp, 2 * i * W), o = at(e, W), two = 2 * i + 1 < H;
    let j = 0;
    for (; j + 5 <= Wout; j += 4) {
      inputGroup3x3s2(at(e, 2 * j), at(o, 2 * j), v128.load(at(d, j)), v128.load(at(d, j + 1)),
        v128.load(at(dn, j)), v128.load(at(dn, j + 1)), two, false, w0, w1, w2, w3, w4, w5, w6, w7, w8);
    }
    // dy's last 4 columns (again, when Wout − j < 4), their right neighbours a zero moved in.
    const l = Wout - 4, a = v128.load(at(d, l)), A = v128.load(at(dn, l));
    inputGroup3x3s2(at(e, 2 * l), at(o, 2 * l), a, shiftLanes(a, 1, z), A, shiftLanes(A, 1, z), two,
      short != 0, w0, w1, w2, w3, w4, w5, w6, w7, w8);
  }
}

/** FORWARD of depthwisePlanes where inPlace3x3s2: y = bias + the taps of x, each plane read in place
 *  once per output channel. `work` is the split buffer, which has room for forward3x3s2's rows. */
export function depthwise3x3s2(y: usize, x: usize, w: usize, b: usize, work: usize, N: i32, Cin: i32,
  H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32): void {
  const Og = Cout / Cin, P = Hout * Wout;
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      forward3x3s2(at(y, (n * Cout + co) * P), at(x, (n * Cin + co / Og) * H * W), at(w, co * 9),
        b ? ld(b, co) : 0, work, H, W, Hout, Wout);
    }
  }
}
