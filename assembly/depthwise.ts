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
// The row kernels on a split plane are in depthwise-rows.ts, the 3×3 ones that read their planes in
// place in depthwise-3x3.ts (conv.ts picks those of the forward and filter gradient, depthwiseInput
// here those of the input gradient); this file keeps the tap-by-tap path and depthwisePlanes.
// A row's last group of 4 overlaps the one before it when Wout is not a multiple of 4: the forward
// recomputes and re-stores the same values; the gradients mask out the lanes already counted.
// Against the tap-by-tap path that the scalar build and outputs narrower than 4 keep, kernels alone
// (simd, A/B in one process, minima), forward / input gradient / filter gradient: N=8, C=64,
// 56x56, 3x3, padding 1: 3.8 / 4.1 / 3.0 -> 1.6 / 1.7 / 2.1 ms; the same at stride 2: 3.2 / 3.4 /
// 2.4 -> 0.9 / 1.0 / 1.0; N=8, C=256, 14x14, 5x5, padding 2: 4.8 / 5.3 / 4.0 -> 1.6 / 1.6 / 1.7.
import { firstInside, firstPast, needsSplit, splitRow, mergeSplit, tapOffsets } from './im2col';
import { at, ld, st, zero, axpy, dot } from './simd';
import { splitPlane, forwardPlane, filterTaps, filterTapsPair, inputPlane } from './depthwise-rows';
import { taps3x3p1, inPlace3x3s1, forward3x3s1, input3x3s2, ZEROS_AT } from './depthwise-3x3';

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
