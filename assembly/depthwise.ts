// Depthwise convolutions (one input channel per group: Cg = 1, groups = Cin, Og = Cout / Cin output
// channels per input channel) skip the GEMM, which would pad M = Og to 4 rows around a depth of
// only kH·kW. Output channel co reads input channel co / Og. The filter gradient of a convolution
// with a single input channel (Cin = 1, groups = 1, Og = Cout) comes here too (conv.ts).
//
// SIMD builds split one input plane at a time (im2col.ts's layout: zero-padded, split by column
// phase; x itself when unpadded at stride 1), while it is in L1, and then tap t of the outputs
// ow..ow+3 of output row oh is the 4 consecutive floats at plane + oh·sH·row + ow + offs[t]
// (tapOffsets with C = 1), whatever the stride, padding or dilation:
//   forward          16 (then 8, then 4) outputs of a row stay in registers over all taps; 3×3
//                    taps at padding 1 read x's rows in place instead at stride 2 (forward3x3s2)
//                    and, on rows of 56 or more, at stride 1 (forward3x3s1);
//   filter gradient  4 taps' sums stay in registers over a whole plane of dy, for two output
//                    channels of the same input channel at once where Og ≥ 2; 3×3 taps at
//                    padding 1 (Og = 1) read x's rows in place, a row of taps at a time
//                    (filterRows3x3s2 at stride 2, depthwiseFilter3x3s1 at stride 1);
//   input gradient   with one output channel per input channel: at stride 1 the forward of dy,
//                    padded, with the taps reversed (gatherInput; forward3x3s1 where it takes
//                    the forward, reading dy in place); 3×3 taps at stride 2, padding
//                    1, gathered by rows and column phases straight into dx (input3x3s2); else
//                    each tap adds w·dy over the plane into a zeroed split plane of dx, whose
//                    inside is then copied out (mergeSplit), as the GEMM's scatter does.
// A row's last group of 4 overlaps the one before it when Wout is not a multiple of 4: the forward
// recomputes and re-stores the same values; the gradients mask out the lanes already counted.
// Against the tap-by-tap path that the scalar build and outputs narrower than 4 keep, kernels alone
// (simd, A/B in one process, minima), forward / input gradient / filter gradient: N=8, C=64,
// 56x56, 3x3, padding 1: 3.8 / 4.1 / 3.0 -> 1.6 / 1.7 / 2.1 ms; the same at stride 2: 3.2 / 3.4 /
// 2.4 -> 0.9 / 1.0 / 1.0; N=8, C=256, 14x14, 5x5, padding 2: 4.8 / 5.3 / 4.0 -> 1.6 / 1.6 / 1.7.
import { firstInside, firstPast, needsSplit, splitRow, splitInput, mergeSplit, tapOffsets } from './im2col';
import { at, ld, st, zero, copy, axpy, dot, madd, storeInterleaved, evens, odds, shiftLanes } from './simd';

export const FORWARD = 0; // out += w · img
export const INPUT = 1; // img += w · out
export const FILTER = 2; // returns Σ out · img

/** One tap (kh, kw) between an output plane `out` (Hout, Wout) and an image plane `img` (H, W),
 *  over the output positions whose input lies inside the image. */
function depthwiseTap(mode: i32, out: usize, img: usize, w: f32, H: i32, W: i32, Hout: i32,
  Wout: i32, kh: i32, kw: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): f32 {
  const offH = kh * dH - pH, offW = kw * dW - pW;
  const ohLo = firstInside(Hout, sH, offH), ohHi = firstPast(Hout, sH, offH, H, ohLo);
  const owLo = firstInside(Wout, sW, offW), owHi = firstPast(Wout, sW, offW, W, owLo);
  const n = owHi - owLo;
  let acc: f32 = 0;
  for (let oh = ohLo; oh < ohHi; oh++) {
    const o = at(out, oh * Wout + owLo);
    const i = at(img, (oh * sH + offH) * W + owLo * sW + offW);
    if (mode == FORWARD) axpy(o, 1, i, sW, w, n);
    else if (mode == INPUT) axpy(i, sW, o, 1, w, n);
    else acc += dot(o, 1, i, sW, n);
  }
  return acc;
}

/** Runs `mode` tap by tap over every (image, output channel): FORWARD adds into out (which holds
 *  the bias), INPUT into img (zeroed), FILTER adds its sums into w. */
export function depthwiseTaps(mode: i32, out: usize, img: usize, w: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const Og = Cout / Cin, P = Hout * Wout, taps = kH * kW;
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const o = at(out, (n * Cout + co) * P), im = at(img, (n * Cin + co / Og) * H * W);
      for (let t = 0; t < taps; t++) {
        const wt = co * taps + t;
        const s = depthwiseTap(mode, o, im, ld(w, wt), H, W, Hout, Wout, t / kW, t % kW,
          sH, sW, pH, pW, dH, dW);
        if (mode == FILTER) st(w, wt, ld(w, wt) + s);
      }
    }
  }
}

/** Whether the SIMD row kernels apply: a SIMD build and rows of at least one vector. */
// @ts-ignore: decorator
@inline export function depthwiseRows(Wout: i32): bool {
  return ASC_FEATURE_SIMD && Wout >= 4;
}

/** Byte offset of tap t from the table at offs. */
// @ts-ignore: decorator
@inline function tapAt(offs: usize, t: i32): usize {
  return <usize>load<i32>(offs + (<usize>t << 2));
}

/** Lanes ≥ 4 − rem set: the `rem` lanes of an overlapping last group that are new. */
// @ts-ignore: decorator
@inline function newLanes(rem: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(4 - rem));
}

/** The split of the plane xp (H, W) at buf (im2col.ts's layout, one plane), or xp itself when the
 *  geometry needs none. One plane at a time, so that it is still in L1 while its taps read it;
 *  `padded` once buf holds an earlier plane's split (its padding zeros stay). */
function splitPlane(buf: usize, xp: usize, H: i32, W: i32, sW: i32, pH: i32, pW: i32, padded: bool): usize {
  if (!needsSplit(sW, pH, pW)) return xp;
  splitInput(buf, xp, 1, H, W, sW, pH, pW, padded);
  return buf;
}

/** 16 outputs at d = bias b + the T taps (weights wc, offsets offs) from p. */
// @ts-ignore: decorator
@inline function forward16(d: usize, p: usize, wc: usize, b: v128, offs: usize, T: i32): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = 0; t < T; t++) {
    const q = p + tapAt(offs, t), wt = v128.load32_splat(wc + (<usize>t << 2));
    a0 = madd(wt, v128.load(q), a0);
    a1 = madd(wt, v128.load(q, 16), a1);
    a2 = madd(wt, v128.load(q, 32), a2);
    a3 = madd(wt, v128.load(q, 48), a3);
  }
  v128.store(d, a0);
  v128.store(d, a1, 16);
  v128.store(d, a2, 32);
  v128.store(d, a3, 48);
}

/** One output plane yp = bias + the T taps (weights wc) of the split plane xp. */
function forwardPlane(yp: usize, xp: usize, wc: usize, bias: f32, offs: usize, Hout: i32, Wout: i32,
  T: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const b = f32x4.splat(bias);
    for (let oh = 0; oh < Hout; oh++) {
      const base = at(xp, oh * sH * row), yRow = at(yp, oh * Wout);
      let ow = 0;
      for (; ow + 16 <= Wout; ow += 16) forward16(at(yRow, ow), at(base, ow), wc, b, offs, T);
      if (ow > 0 && Wout - ow > 8) {
        // 9 to 15 left: one more group of 16, overlapping the one before (the same values again),
        // rather than groups of 8 and 4 whose few chains of dependent adds bound them.
        forward16(at(yRow, Wout - 16), at(base, Wout - 16), wc, b, offs, T);
        ow = Wout;
      }
      if (ow + 8 <= Wout) {
        let a0 = b, a1 = b;
        const p = at(base, ow);
        for (let t = 0; t < T; t++) {
          const q = p + tapAt(offs, t), wt = v128.load32_splat(wc + (<usize>t << 2));
          a0 = madd(wt, v128.load(q), a0);
          a1 = madd(wt, v128.load(q, 16), a1);
        }
        const d = at(yRow, ow);
        v128.store(d, a0);
        v128.store(d, a1, 16);
        ow += 8;
      }
      for (; ow < Wout; ow += 4) {
        const o = min(ow, Wout - 4), p = at(base, o);
        let a = b;
        for (let t = 0; t < T; t++) a = madd(v128.load32_splat(wc + (<usize>t << 2)), v128.load(p + tapAt(offs, t)), a);
        v128.store(at(yRow, o), a);
      }
    }
  }
}

/** Byte offset of tap t0 + i of a group of `count` taps (count ≤ 4), the last one again past it. */
// @ts-ignore: decorator
@inline function groupTap(offs: usize, t0: i32, i: i32, count: i32): usize {
  return tapAt(offs, t0 + min(i, count - 1));
}

/** acc + (a · b, in the lanes set in mask): an overlapping last group's new lanes, masked after the
 *  product so that a non-finite tap in a lane already counted adds nothing twice. */
// @ts-ignore: decorator
@inline function maddNew(a: v128, b: v128, acc: v128, mask: v128): v128 {
  return f32x4.add(acc, v128.and(f32x4.mul(a, b), mask));
}

/** dwc[t0 .. t0 + count) (count ≤ 4) += Σ over the plane of dy · tap, for one (image, channel). */
function filterTaps(dwc: usize, dyp: usize, xp: usize, offs: usize, t0: i32, count: i32, Hout: i32,
  Wout: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const o0 = groupTap(offs, t0, 0, count), o1 = groupTap(offs, t0, 1, count);
    const o2 = groupTap(offs, t0, 2, count), o3 = groupTap(offs, t0, 3, count);
    const tail = Wout & 3, mask = newLanes(tail);
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let oh = 0; oh < Hout; oh++) {
      const d = at(dyp, oh * Wout), base = at(xp, oh * sH * row);
      let ow = 0;
      for (; ow + 4 <= Wout; ow += 4) {
        const v = v128.load(at(d, ow)), p = at(base, ow);
        a0 = madd(v, v128.load(p + o0), a0);
        a1 = madd(v, v128.load(p + o1), a1);
        a2 = madd(v, v128.load(p + o2), a2);
        a3 = madd(v, v128.load(p + o3), a3);
      }
      if (tail) {
        // The last 4 positions again, only the lanes not yet counted.
        const o = Wout - 4, v = v128.load(at(d, o)), p = at(base, o);
        a0 = maddNew(v, v128.load(p + o0), a0, mask);
        a1 = maddNew(v, v128.load(p + o1), a1, mask);
        a2 = maddNew(v, v128.load(p + o2), a2, mask);
        a3 = maddNew(v, v128.load(p + o3), a3, mask);
      }
    }
    addLanes(dwc, t0, a0);
    if (count > 1) addLanes(dwc, t0 + 1, a1);
    if (count > 2) addLanes(dwc, t0 + 2, a2);
    if (count > 3) addLanes(dwc, t0 + 3, a3);
  }
}

/** filterTaps for two output channels that read the same input plane: dwc and the T floats after
 *  it, dy planes dyp and dyp + dq bytes. Each tap's 4 floats are loaded once for both, and the loop
 *  runs on the dy pointer with x addressed from it (one add per step instead of three). Kernels
 *  alone (simd, A/B minima): LeNet's first layer (64 images, 1 -> 6 channels, 28x28, 5x5) 0.60 ->
 *  0.41 ms; C2 (1 -> 8) 0.71 -> 0.55. The same loop on filterTaps made D1 and D2 2-12% slower. */
function filterTapsPair(dwc: usize, T: i32, dyp: usize, dq: usize, xp: usize, offs: usize, t0: i32,
  count: i32, Hout: i32, Wout: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const o0 = groupTap(offs, t0, 0, count), o1 = groupTap(offs, t0, 1, count);
    const o2 = groupTap(offs, t0, 2, count), o3 = groupTap(offs, t0, 3, count);
    const tail = Wout & 3, mask = newLanes(tail), full = <usize>(Wout & ~3) << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (let oh = 0; oh < Hout; oh++) {
      const d = at(dyp, oh * Wout), xd = at(xp, oh * sH * row) - d;
      for (let q = d, end = d + full; q < end; q += 16) {
        const u = v128.load(q), v = v128.load(q + dq), p = q + xd;
        let x = v128.load(p + o0);
        a0 = madd(u, x, a0); b0 = madd(v, x, b0);
        x = v128.load(p + o1);
        a1 = madd(u, x, a1); b1 = madd(v, x, b1);
        x = v128.load(p + o2);
        a2 = madd(u, x, a2); b2 = madd(v, x, b2);
        x = v128.load(p + o3);
        a3 = madd(u, x, a3); b3 = madd(v, x, b3);
      }
      if (tail) {
        const q = at(d, Wout - 4), u = v128.load(q), v = v128.load(q + dq), p = q + xd;
        let x = v128.load(p + o0);
        a0 = maddNew(u, x, a0, mask); b0 = maddNew(v, x, b0, mask);
        x = v128.load(p + o1);
        a1 = maddNew(u, x, a1, mask); b1 = maddNew(v, x, b1, mask);
        x = v128.load(p + o2);
        a2 = maddNew(u, x, a2, mask); b2 = maddNew(v, x, b2, mask);
        x = v128.load(p + o3);
        a3 = maddNew(u, x, a3, mask); b3 = maddNew(v, x, b3, mask);
      }
    }
    const dwd = at(dwc, T);
    addLanes(dwc, t0, a0); addLanes(dwd, t0, b0);
    if (count > 1) { addLanes(dwc, t0 + 1, a1); addLanes(dwd, t0 + 1, b1); }
    if (count > 2) { addLanes(dwc, t0 + 2, a2); addLanes(dwd, t0 + 2, b2); }
    if (count > 3) { addLanes(dwc, t0 + 3, a3); addLanes(dwd, t0 + 3, b3); }
  }
}

/** dw[t] += the sum of a's lanes. */
// @ts-ignore: decorator
@inline function addLanes(dw: usize, t: i32, a: v128): void {
  st(dw, t, ld(dw, t) + (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) +
    f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)));
}

/** The split plane xp (zeroed) += each tap's wc[t] · dy over the output plane dyp. */
function inputPlane(xp: usize, dyp: usize, wc: usize, offs: usize, Hout: i32, Wout: i32, T: i32,
  sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const tail = Wout & 3, mask = newLanes(tail);
    // Tap by tap over the plane: the 4-float runs one tap adds to never overlap each other.
    for (let t = 0; t < T; t++) {
      const wt = v128.load32_splat(wc + (<usize>t << 2)), off = tapAt(offs, t);
      for (let oh = 0; oh < Hout; oh++) {
        const d = at(dyp, oh * Wout), base = at(xp, oh * sH * row) + off;
        let ow = 0;
        for (; ow + 4 <= Wout; ow += 4) {
          const p = at(base, ow);
          v128.store(p, madd(wt, v128.load(at(d, ow)), v128.load(p)));
        }
        if (tail) {
          const p = at(base, Wout - 4);
          v128.store(p, f32x4.add(v128.load(p), v128.and(f32x4.mul(wt, v128.load(at(d, Wout - 4))), mask)));
        }
      }
    }
  }
}

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
const ZEROS_AT = 80;

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
function forward3x3s1(yp: usize, xp: usize, wc: usize, bias: f32, work: usize, H: i32, W: i32,
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
 * and counts only its new lanes). Each tap's lanes add the same products in the same order as
 * filterTaps over the padded copy, which it saves: kernels alone, A/B minima, 8 images × 64
 * channels, simd / relaxed-simd: 56×56 (D1) −40% / −32%, 57×57 −43% / −34%, 28×28 −37% / −35%,
 * 14×14 −47% / −49%, 9×9 −48% / −50%, 112×112 (2 images) −49% / −39%.
 */
export function depthwiseFilter3x3s1(dw: usize, x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  const z = f32x4.splat(0), P = H * W;
  for (let p = 0; p < N * C; p++) {
    const dwc = at(dw, (p % C) * 9), dyp = at(dy, p * P), xp = at(x, p * P);
    for (let kh = 0; kh < 3; kh++) {
      let a0 = z, a1 = z, a2 = z;
      for (let oh = kh == 0 ? 1 : 0, end = kh == 2 ? H - 1 : H; oh < end; oh++) {
        const d = at(dyp, oh * W), r = at(xp, (oh - 1 + kh) * W);
        let g = v128.load(d), v = v128.load(r), ow = 4;
        a0 = madd(g, shiftLanes(v, -1, z), a0);
        a1 = madd(g, v, a1);
        a2 = madd(g, v128.load(r, 4), a2);
        for (; ow + 5 <= W; ow += 4) {
          const q = at(r, ow);
          g = v128.load(at(d, ow));
          a0 = madd(g, v128.load(q - 4), a0);
          a1 = madd(g, v128.load(q), a1);
          a2 = madd(g, v128.load(q, 4), a2);
        }
        const q = at(r, W - 4), m = newLanes(W - ow);
        g = v128.load(at(d, W - 4));
        v = v128.load(q);
        a0 = maddNew(g, v128.load(q - 4), a0, m);
        a1 = maddNew(g, v, a1, m);
        a2 = maddNew(g, shiftLanes(v, 1, z), a2, m);
      }
      addLanes(dwc, 3 * kh, a0);
      addLanes(dwc, 3 * kh + 1, a1);
      addLanes(dwc, 3 * kh + 2, a2);
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
function input3x3s2(dxp: usize, dyp: usize, wc: usize, zeros: usize, H: i32, W: i32, Hout: i32,
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

// The ops of the SIMD builds. `offs` holds tapOffsets(C = 1) of the geometry; `buf` has room for
// one split plane.

/** FORWARD: y (`out`) = bias + the taps of x, weights w. FILTER: w (dw) += Σ dy (`out`) · taps of x.
 *  Each input plane is split once and serves its Og output channels. */
export function depthwisePlanes(mode: i32, out: usize, x: usize, w: usize, b: usize, offs: usize,
  buf: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32): void {
  const Og = Cout / Cin, T = kH * kW, P = Hout * Wout, row = splitRow(W, sW, pW);
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      const xp = splitPlane(buf, at(x, (n * Cin + ci) * H * W), H, W, sW, pH, pW, n + ci > 0);
      let co = ci * Og;
      // The filter gradient takes output channels of one input channel two at a time.
      for (; mode == FILTER && co + 2 <= (ci + 1) * Og; co += 2) {
        const op = at(out, (n * Cout + co) * P), wc = at(w, co * T);
        for (let t = 0; t < T; t += 4) {
          filterTapsPair(wc, T, op, <usize>P << 2, xp, offs, t, min(4, T - t), Hout, Wout, sH, row);
        }
      }
      for (; co < (ci + 1) * Og; co++) {
        const op = at(out, (n * Cout + co) * P), wc = at(w, co * T);
        if (mode == FORWARD) {
          forwardPlane(op, xp, wc, b ? ld(b, co) : 0, offs, Hout, Wout, T, sH, row);
        } else {
          for (let t = 0; t < T; t += 4) filterTaps(wc, op, xp, offs, t, min(4, T - t), Hout, Wout, sH, row);
        }
      }
    }
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

/** Whether the input gradient can be gathered: at stride 1 with one output channel per input
 *  channel, dx is the forward of dy padded by the taps' reach less the padding, taps reversed.
 *  That forward has Hout + (kH−1)·dH − 2·pH rows, so a dx with more (a transposed convolution's
 *  output padding, which dilation allows at stride 1) is scattered instead; columns likewise. */
// @ts-ignore: decorator
@inline export function gatherInput(Cin: i32, Cout: i32, H: i32, W: i32, Hout: i32, Wout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): bool {
  return Cout == Cin && sH == 1 && sW == 1 && pH <= (kH - 1) * dH && pW <= (kW - 1) * dW && W >= 4 &&
    H == Hout + (kH - 1) * dH - 2 * pH && W == Wout + (kW - 1) * dW - 2 * pW;
}

/** Floats of the padded dy plane that the gathered input gradient reads. */
// @ts-ignore: decorator
@inline export function gatherPlaneFloats(Hout: i32, Wout: i32, kH: i32, kW: i32, pH: i32, pW: i32,
  dH: i32, dW: i32): i32 {
  return (Hout + 2 * ((kH - 1) * dH - pH)) * (Wout + 2 * ((kW - 1) * dW - pW));
}

/** Whether every one of the n floats at p is finite. */
function allFinite(p: usize, n: i32): bool {
  let s: f32 = 0;
  for (let i = 0; i < n; i++) s += ld(p, i) * 0; // NaN as soon as one is infinite or NaN
  return s == s;
}

/** dx of a depthwise convolution. `buf` has room for a split plane of dx (which holds
 *  input3x3s2's zeros, or forward3x3s1's tables and zeros) or, when gatherInput, for a table of T
 *  offsets followed by gatherPlaneFloats. */
export function depthwiseInput(dx: usize, dy: usize, w: usize, offs: usize, buf: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const Og = Cout / Cin, T = kH * kW, P = Hout * Wout, row = splitRow(W, sW, pW);
  // The three gathers multiply zeros around dy by the weights, which dx's arithmetic never does:
  // an infinite or NaN weight would make NaN of dx elements that it does not reach (PyTorch leaves
  // them finite), so such weights take the scatter below.
  if (Og == 1 && W >= 7 && taps3x3p1(2, kH, kW, sH, sW, pH, pW, dH, dW) && allFinite(w, Cout * T)) {
    zero(buf, Wout);
    for (let p = 0; p < N * Cin; p++) {
      input3x3s2(at(dx, p * H * W), at(dy, p * P), at(w, (p % Cin) * T), buf, H, W, Hout, Wout);
    }
    return;
  }
  if (Og == 1 && inPlace3x3s1(W, kH, kW, sH, sW, pH, pW, dH, dW) && allFinite(w, Cout * T)) {
    // At stride 1 and padding 1, dx is the forward of dy with its 3×3 taps reversed.
    zero(buf + ZEROS_AT, W);
    for (let p = 0; p < N * Cin; p++) {
      forward3x3s1(at(dx, p * P), at(dy, p * P), at(w, (p % Cin) * T), 0, buf, H, W, true);
    }
    return;
  }
  if (gatherInput(Cin, Cout, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW) && allFinite(w, Cout * T)) {
    // dx[ih, iw] = Σ_t w[t] · dy[ih + pH − kh·dH, iw + pW − kw·dW]: tap T−1−t of the forward over
    // dy padded by qH = (kH−1)·dH − pH, qW = (kW−1)·dW − pW.
    const qH = (kH - 1) * dH - pH, qW = (kW - 1) * dW - pW, dyRow = Wout + 2 * qW;
    const rev = buf, plane = buf + (<usize>((T + 3) & ~3) << 2);
    tapOffsets(rev, 1, Hout, Wout, kH, kW, 1, qH, qW, dH, dW);
    for (let t = 0; t < T / 2; t++) {
      const a = load<i32>(rev + (<usize>t << 2)), b = load<i32>(rev + (<usize>(T - 1 - t) << 2));
      store<i32>(rev + (<usize>t << 2), b);
      store<i32>(rev + (<usize>(T - 1 - t) << 2), a);
    }
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < Cin; c++) {
        const dys = splitPlane(plane, at(dy, (n * Cout + c) * P), Hout, Wout, 1, qH, qW, n + c > 0);
        forwardPlane(at(dx, (n * Cin + c) * H * W), dys, at(w, c * T), 0, rev, H, W, T, 1, dyRow);
      }
    }
    return;
  }
  const split = needsSplit(sW, pH, pW);
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      const dxp = at(dx, (n * Cin + ci) * H * W), xp = split ? buf : dxp;
      zero(xp, split ? (H + 2 * pH) * row : H * W);
      for (let co = ci * Og; co < (ci + 1) * Og; co++) {
        inputPlane(xp, at(dy, (n * Cout + co) * P), at(w, co * T), offs, Hout, Wout, T, sH, row);
      }
      if (split) mergeSplit(dxp, buf, 1, H, W, sW, pH, pW);
    }
  }
}
