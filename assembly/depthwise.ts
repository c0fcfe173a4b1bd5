// Depthwise convolutions (one input channel per group: Cg = 1, groups = Cin, Og = Cout / Cin output
// channels per input channel) skip the GEMM, which would pad M = Og to 4 rows around a depth of
// only kH·kW. Output channel co reads input channel co / Og. The filter gradient of a convolution
// with a single input channel (Cin = 1, groups = 1, Og = Cout) comes here too (conv.ts).
//
// SIMD builds split one input plane at a time (im2col.ts's layout: zero-padded, split by column
// phase; x itself when unpadded at stride 1), while it is in L1, and then tap t of the outputs
// ow..ow+3 of output row oh is the 4 consecutive floats at plane + oh·sH·row + ow + offs[t]
// (tapOffsets with C = 1), whatever the stride, padding or dilation:
//   forward          16 (then 8, then 4) outputs of a row stay in registers over all taps;
//   filter gradient  4 taps' sums stay in registers over a whole plane of dy, for two output
//                    channels of the same input channel at once where Og ≥ 2;
//   input gradient   at stride 1 (one output channel per input channel) the forward of dy,
//                    padded, with the taps reversed (gatherInput); else each tap adds w·dy over
//                    the plane into a zeroed split plane of dx, whose inside is then copied out
//                    (mergeSplit), as the GEMM's scatter does.
// A row's last group of 4 overlaps the one before it when Wout is not a multiple of 4: the forward
// recomputes and re-stores the same values; the gradients mask out the lanes already counted.
// Against the tap-by-tap path that the scalar build and outputs narrower than 4 keep, kernels alone
// (simd, A/B in one process, minima), forward / input gradient / filter gradient: N=8, C=64,
// 56x56, 3x3, padding 1: 3.8 / 4.1 / 3.0 -> 1.6 / 1.7 / 2.1 ms; the same at stride 2: 3.2 / 3.4 /
// 2.4 -> 0.9 / 1.0 / 1.0; N=8, C=256, 14x14, 5x5, padding 2: 4.8 / 5.3 / 4.0 -> 1.6 / 1.6 / 1.7.
import { firstInside, firstPast, needsSplit, splitRow, splitInput, mergeSplit, tapOffsets } from './im2col';
import { at, ld, st, zero, axpy, dot, madd } from './simd';

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

/** dx of a depthwise convolution. `buf` has room for a split plane of dx or, when gatherInput,
 *  for a table of T offsets followed by gatherPlaneFloats. */
export function depthwiseInput(dx: usize, dy: usize, w: usize, offs: usize, buf: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const Og = Cout / Cin, T = kH * kW, P = Hout * Wout, row = splitRow(W, sW, pW);
  // The gather multiplies the zeros around dy by the weights, which dx's arithmetic never does:
  // an infinite or NaN weight would make NaN of dx elements that it does not reach (PyTorch leaves
  // them finite), so such weights take the scatter below.
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
