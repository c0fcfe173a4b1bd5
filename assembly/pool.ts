// 2-D max and average pooling over planes, forward and backward side by side.
//
// Layout: x and dx (NC, H, W), y and dy (NC, Hout, Wout), indices (NC, Hout, Wout) i32, with
// NC = N·C planes. Every output here is OVERWRITTEN (the backward kernels zero dx first, then add
// where windows overlap). The rules are PyTorch's CPU kernels:
//
// Max pooling (dilation dH, dW)
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
// Average pooling (no dilation)
// - hstart = oh·sH − pH, hend = min(hstart + kH, H + pH), poolSize = (hend − hstart)·(wend − wstart);
//   then hstart = max(hstart, 0), hend = min(hend, H) (columns likewise) and the sum runs over that
//   clipped window.
// - divisor = countIncludePad ? poolSize : (hend − hstart)·(wend − wstart) after clipping.
// - A window with no in-bounds element yields 0 and receives no gradient.
// - The backward adds dy / divisor to every in-bounds element of the window.
import { at, ld, st, zero } from './simd';

/** First position start + i·step (i ≥ 0) that is ≥ 0. */
// @ts-ignore: decorator
@inline function firstInBounds(start: i32, step: i32): i32 {
  return start >= 0 ? start : start + (-start + step - 1) / step * step;
}

export function maxpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  indices: usize, // (NC, Hout, Wout) i32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    const o = p * Hout * Wout;
    for (let oh = 0; oh < Hout; oh++) {
      const hs = oh * sH - pH;
      const h0 = firstInBounds(hs, dH), h1 = min(hs + (kH - 1) * dH + 1, H);
      const yRow = at(y, o + oh * Wout), iRow = at(indices, o + oh * Wout);
      for (let ow = 0; ow < Wout; ow++) {
        const ws = ow * sW - pW;
        const w0 = firstInBounds(ws, dW), w1 = min(ws + (kW - 1) * dW + 1, W);
        let m = -Infinity as f32;
        let index = h0 * W + w0;
        for (let h = h0; h < h1; h += dH) {
          const xRow = at(xp, h * W);
          for (let w = w0; w < w1; w += dW) {
            const v = ld(xRow, w);
            if (v > m || v != v) {
              m = v;
              index = h * W + w;
            }
          }
        }
        st(yRow, ow, m);
        store<i32>(at(iRow, ow), index);
      }
    }
  }
}

export function maxpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  indices: usize, // (NC, Hout, Wout) i32, from the forward
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32): void {
  const HW = H * W, P = Hout * Wout;
  zero(dx, NC * HW);
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * HW), dyp = at(dy, p * P), ip = at(indices, p * P);
    for (let i = 0; i < P; i++) {
      const index = load<i32>(at(ip, i));
      if (<u32>index < <u32>HW) st(dxp, index, ld(dxp, index) + ld(dyp, i));
    }
  }
}

/** Divisor of an average window: padded extent rows [phs, phe) × columns [pws, pwe), in-bounds
 *  extent [h0, h1) × [w0, w1). */
// @ts-ignore: decorator
@inline function avgDivisor(phs: i32, phe: i32, pws: i32, pwe: i32, h0: i32, h1: i32, w0: i32,
  w1: i32, countIncludePad: i32): f32 {
  return <f32>(countIncludePad ? (phe - phs) * (pwe - pws) : (h1 - h0) * (w1 - w0));
}

export function avgpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      const yRow = at(y, (p * Hout + oh) * Wout);
      for (let ow = 0; ow < Wout; ow++) {
        const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        let s: f32 = 0;
        for (let h = h0; h < h1; h++) {
          const xRow = at(xp, h * W);
          for (let w = w0; w < w1; w++) s += ld(xRow, w);
        }
        const empty = h0 >= h1 || w0 >= w1;
        st(yRow, ow, empty ? 0 : s / avgDivisor(phs, phe, pws, pwe, h0, h1, w0, w1, countIncludePad));
      }
    }
  }
}

export function avgpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  zero(dx, NC * H * W);
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      const dyRow = at(dy, (p * Hout + oh) * Wout);
      for (let ow = 0; ow < Wout; ow++) {
        const pws = ow * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        if (h0 >= h1 || w0 >= w1) continue;
        const share = ld(dyRow, ow) / avgDivisor(phs, phe, pws, pwe, h0, h1, w0, w1, countIncludePad);
        for (let h = h0; h < h1; h++) {
          const dxRow = at(dxp, h * W);
          for (let w = w0; w < w1; w++) st(dxRow, w, ld(dxRow, w) + share);
        }
      }
    }
  }
}
