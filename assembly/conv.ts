// 2-D convolution (PyTorch's conv2d, NCHW) as im2col + GEMM, forward and backward side by side.
//
// Geometry (the ABI's 16 integers): N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW,
// groups. With g = groups, Cg = Cin/g input channels and Og = Cout/g output channels per group,
// K = Cg·kH·kW and P = Hout·Wout, per image n and group gi:
//   forward          Y_g (Og, P)  = W_g (Og, K) · col(x_g) (K, P) + b_g        y OVERWRITTEN
//   backward_input   dX_g         = col2im(W_gᵀ (K, Og) · dY_g (Og, P))       dx OVERWRITTEN
//   backward_filter  dW_g (Og, K) += dY_g (Og, P) · col(x_g)ᵀ (P, K)           dw ACCUMULATED
//   backward_bias    db (C)      += Σ_{n, p} dy                               db ACCUMULATED
//   add_channel_bias y (N, C, HW) += b (C)
// Layouts: x (N, Cin, H, W), y (N, Cout, Hout, Wout), w (Cout, Cg, kH, kW), b (Cout) or 0.
// Scratch (conv2d_scratch_bytes): one col buffer (K, P), then the GEMM's packing area, sized for
// the largest of the three GEMMs above. A 1×1, stride-1, unpadded convolution needs no col: the
// image itself is the (Cg, H·W) matrix, and the input gradient is written by the GEMM directly.
// Depthwise convolutions (Cg = 1, groups > 1) skip the GEMM: with one input channel per output
// channel the product is a sum over the kH·kW taps of a scaled, shifted plane, done tap by tap
// (`depthwiseTap`) without col; the GEMM would pad M = Og to 4 rows around a K of kH·kW.
import { sgemm, sgemm_scratch_bytes } from './gemm';
import { im2col, col2im, firstInside, firstPast } from './im2col';
import { at, ld, st, zero, fill, addInto, addScalar, sum, axpy, dot } from './simd';

/** Whether the convolution is a plain matrix product over channels (no im2col needed). */
// @ts-ignore: decorator
@inline function isPointwise(H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32): bool {
  return kH == 1 && kW == 1 && sH == 1 && sW == 1 && pH == 0 && pW == 0 && Hout == H && Wout == W;
}

/** Bytes of the col buffer, rounded to 16 so that the GEMM area after it stays aligned. */
// @ts-ignore: decorator
@inline function colBytes(K: i32, P: i32): i32 {
  return (((K * P) << 2) + 15) & ~15;
}

const FORWARD = 0; // out += w · img
const INPUT = 1; // img += w · out
const FILTER = 2; // returns Σ out · img

/** One tap (kh, kw) of a one-input-channel filter between an output plane `out` (Hout, Wout) and
 *  an image plane `img` (H, W), over the output positions whose input lies inside the image. */
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

/** Runs `mode` over every (image, output channel, tap) of a depthwise convolution: output
 *  channel co reads input channel co / Og. FILTER adds its sums into w. */
function depthwise(mode: i32, out: usize, img: usize, w: usize,
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

export function conv2d_scratch_bytes(N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32,
  Wout: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
  groups: i32): i32 {
  const K = Cin / groups * kH * kW, Og = Cout / groups, P = Hout * Wout;
  const gemm = max(sgemm_scratch_bytes(Og, P, K),
    max(sgemm_scratch_bytes(K, P, Og), sgemm_scratch_bytes(Og, K, P)));
  return colBytes(K, P) + gemm;
}

export function conv2d_forward(y: usize, // (N, Cout, Hout, Wout) f32, overwritten
  x: usize, // (N, Cin, H, W) f32
  w: usize, // (Cout, Cin/groups, kH, kW) f32
  b: usize, // (Cout) f32, or 0 for no bias
  scratch: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32): void {
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout;
  if (Cg == 1 && groups > 1) {
    for (let i = 0; i < N * Cout; i++) fill(at(y, i * P), b ? ld(b, i % Cout) : 0, P);
    depthwise(FORWARD, y, x, w, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  const pointwise = isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW);
  const col = scratch, gemmScratch = scratch + colBytes(K, P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const xg = at(x, (n * Cin + g * Cg) * H * W);
      const yg = at(y, (n * Cout + g * Og) * P);
      let B = col;
      if (pointwise) B = xg;
      else im2col(col, xg, Cg, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
      // Bias first, then the product accumulates onto it: no second pass over y.
      if (b) for (let o = 0; o < Og; o++) fill(at(yg, o * P), ld(b, g * Og + o), P);
      sgemm(Og, P, K, at(w, g * Og * K), K, 1, B, P, 1, yg, P, b ? 1 : 0, gemmScratch);
    }
  }
}

export function conv2d_backward_input(dx: usize, // (N, Cin, H, W) f32, overwritten
  dy: usize, // (N, Cout, Hout, Wout) f32
  w: usize, // (Cout, Cin/groups, kH, kW) f32
  scratch: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32): void {
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout;
  if (Cg == 1 && groups > 1) {
    zero(dx, N * Cin * H * W);
    depthwise(INPUT, dy, dx, w, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  const pointwise = isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW);
  const col = scratch, gemmScratch = scratch + colBytes(K, P);
  if (!pointwise) zero(dx, N * Cin * H * W);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const dxg = at(dx, (n * Cin + g * Cg) * H * W);
      const dyg = at(dy, (n * Cout + g * Og) * P);
      // Wᵀ: element (k, o) of the (K, Og) matrix is w[o·K + k].
      const wg = at(w, g * Og * K);
      if (pointwise) {
        sgemm(K, P, Og, wg, 1, K, dyg, P, 1, dxg, P, 0, gemmScratch);
      } else {
        sgemm(K, P, Og, wg, 1, K, dyg, P, 1, col, P, 0, gemmScratch);
        col2im(dxg, col, Cg, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
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
  const Cg = Cin / groups, Og = Cout / groups, K = Cg * kH * kW, P = Hout * Wout;
  if (Cg == 1 && groups > 1) {
    depthwise(FILTER, dy, x, dw, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    return;
  }
  const pointwise = isPointwise(H, W, Hout, Wout, kH, kW, sH, sW, pH, pW);
  const col = scratch, gemmScratch = scratch + colBytes(K, P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const xg = at(x, (n * Cin + g * Cg) * H * W);
      const dyg = at(dy, (n * Cout + g * Og) * P);
      let B = col;
      if (pointwise) B = xg;
      else im2col(col, xg, Cg, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
      // colᵀ: element (p, k) of the (P, K) matrix is col[k·P + p].
      sgemm(Og, K, P, dyg, P, 1, B, 1, P, at(dw, g * Og * K), K, 1, gemmScratch);
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
    let s: f32 = 0;
    for (let n = 0; n < N; n++) s += sum(at(dy, (n * C + c) * HW), HW);
    st(db, c, ld(db, c) + s);
  }
}

export function add_channel_bias(y: usize, // (N, C, HW) f32, added into
  b: usize, // (C) f32
  N: i32, C: i32, HW: i32): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) addScalar(at(y, (n * C + c) * HW), ld(b, c), HW);
  }
}
