// im2col / col2im: the reshaping that turns a convolution into one GEMM.
//
// For one image and one group, with C input channels (Cin / groups) and P = Hout·Wout positions:
//   col (C·kH·kW, P) f32, row r = (c·kH + kh)·kW + kw, column p = oh·Wout + ow, holds
//   x[c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW], or 0 where that falls in the padding.
// im2col OVERWRITES every element of col. col2im ADDS each col element into the x position it came
// from (padding positions are dropped), so the caller zeroes x first; positions that no window
// reaches are left untouched.
//
// Each (row, oh) pair is a run of Wout outputs whose in-bounds part is one interval [lo, hi) of
// ow, found once; stride 1 makes that interval a contiguous copy (or add).
import { at, ld, st, zero, copy, addInto } from './simd';

/** First output o with o·s + off ≥ 0, clamped to [0, n]. */
// @ts-ignore: decorator
@inline export function firstInside(n: i32, s: i32, off: i32): i32 {
  return off >= 0 ? 0 : min(n, (s - 1 - off) / s);
}

/** First output o ≥ lo with o·s + off ≥ len (out of range at the far end), clamped to [lo, n]. */
// @ts-ignore: decorator
@inline export function firstPast(n: i32, s: i32, off: i32, len: i32, lo: i32): i32 {
  const d = len - off;
  return d <= 0 ? lo : max(lo, min(n, (d + s - 1) / s));
}

export function im2col(col: usize, // (C·kH·kW, Hout·Wout) f32, overwritten
  x: usize, // (C, H, W) f32: one image, one group
  C: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const P = Hout * Wout;
  for (let c = 0; c < C; c++) {
    const xc = at(x, c * H * W);
    for (let kh = 0; kh < kH; kh++) {
      const offH = kh * dH - pH;
      const ohLo = firstInside(Hout, sH, offH), ohHi = firstPast(Hout, sH, offH, H, ohLo);
      for (let kw = 0; kw < kW; kw++) {
        const row = at(col, ((c * kH + kh) * kW + kw) * P);
        const offW = kw * dW - pW;
        const owLo = firstInside(Wout, sW, offW), owHi = firstPast(Wout, sW, offW, W, owLo);
        zero(row, ohLo * Wout);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = at(row, oh * Wout);
          const src = at(xc, (oh * sH + offH) * W + offW);
          zero(dst, owLo);
          if (sW == 1) {
            copy(at(dst, owLo), at(src, owLo), owHi - owLo);
          } else {
            for (let ow = owLo; ow < owHi; ow++) st(dst, ow, ld(src, ow * sW));
          }
          zero(at(dst, owHi), Wout - owHi);
        }
        zero(at(row, ohHi * Wout), (Hout - ohHi) * Wout);
      }
    }
  }
}

export function col2im(x: usize, // (C, H, W) f32: one image, one group; added into
  col: usize, // (C·kH·kW, Hout·Wout) f32
  C: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const P = Hout * Wout;
  for (let c = 0; c < C; c++) {
    const xc = at(x, c * H * W);
    for (let kh = 0; kh < kH; kh++) {
      const offH = kh * dH - pH;
      const ohLo = firstInside(Hout, sH, offH), ohHi = firstPast(Hout, sH, offH, H, ohLo);
      for (let kw = 0; kw < kW; kw++) {
        const row = at(col, ((c * kH + kh) * kW + kw) * P);
        const offW = kw * dW - pW;
        const owLo = firstInside(Wout, sW, offW), owHi = firstPast(Wout, sW, offW, W, owLo);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = at(row, oh * Wout);
          const dst = at(xc, (oh * sH + offH) * W + offW);
          if (sW == 1) {
            addInto(at(dst, owLo), at(src, owLo), owHi - owLo);
          } else {
            for (let ow = owLo; ow < owHi; ow++) st(dst, ow * sW, ld(dst, ow * sW) + ld(src, ow));
          }
        }
      }
    }
  }
}
