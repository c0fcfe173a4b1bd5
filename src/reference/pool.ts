// Reference 2-D pooling over planes: x is (NC, H, W) with NC = N·C, y is (NC, Hout, Wout).
// The rules are PyTorch's CPU kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp and
// AvgPoolKernel.cpp), where implementations differ:
//
// Max pooling
// - Window (oh, ow) covers rows oh·sH − pH + kh·dH (kh < kH) and the same for columns; rows and
//   columns outside the input are padding and are skipped (padding acts as -Infinity).
// - The running maximum starts at -Infinity and the index at the first in-bounds element of the
//   window, so an all-negative or all -Infinity window still reports an element and routes its
//   gradient there.
// - A value replaces the maximum when `val > max || isNaN(val)`, scanning in row-major window
//   order: on ties the first maximum wins, and a NaN always wins (the last NaN, if several).
// - indices hold h·W + w inside the element's own plane. A dilated window can fall entirely in the
//   padding; PyTorch then reports -Infinity and the start position, which may lie outside the
//   plane, and the backward ignores such an index rather than write outside the plane.
//
// Average pooling
// - The window is clipped to the padded input [−p, size + p), which gives `poolSize`, and then to
//   the input itself, over which the sum runs.
// - Divisor: poolSize when countIncludePad is 1 (padding counts as zeros), otherwise the number of
//   in-bounds elements. A window with no in-bounds element yields 0.
// - The backward spreads dy / divisor evenly over the in-bounds part of the window and adds where
//   windows overlap.
import type { Arr } from './index.js';

/** y, indices (NC, Hout, Wout) = window maxima of x (NC, H, W) and their flat h·W + w. */
export function maxpool2d_forward(
  y: Arr, indices: Int32Array, x: Arr,
  NC: number, H: number, W: number, Hout: number, Wout: number, kH: number, kW: number,
  sH: number, sW: number, pH: number, pW: number, dH: number, dW: number,
): void {
  for (let p = 0; p < NC; p++) {
    const plane = p * H * W;
    for (let oh = 0; oh < Hout; oh++) {
      let h0 = oh * sH - pH;
      const h1 = Math.min(h0 + (kH - 1) * dH + 1, H);
      while (h0 < 0) h0 += dH;
      for (let ow = 0; ow < Wout; ow++) {
        let w0 = ow * sW - pW;
        const w1 = Math.min(w0 + (kW - 1) * dW + 1, W);
        while (w0 < 0) w0 += dW;
        let max = -Infinity;
        let index = h0 * W + w0;
        for (let h = h0; h < h1; h += dH) {
          for (let w = w0; w < w1; w += dW) {
            const val = x[plane + h * W + w];
            if (val > max || Number.isNaN(val)) {
              max = val;
              index = h * W + w;
            }
          }
        }
        const o = (p * Hout + oh) * Wout + ow;
        y[o] = max;
        indices[o] = index;
      }
    }
  }
}

/** dx (NC, H, W) = 0, then dx[indices[i]] += dy[i] within each plane. Overwritten. */
export function maxpool2d_backward(
  dx: Arr, dy: Arr, indices: Int32Array, NC: number, H: number, W: number, Hout: number, Wout: number,
): void {
  const acc = new Float64Array(NC * H * W);
  for (let p = 0; p < NC; p++) {
    for (let i = 0; i < Hout * Wout; i++) {
      const index = indices[p * Hout * Wout + i];
      if (index >= 0 && index < H * W) acc[p * H * W + index] += dy[p * Hout * Wout + i];
    }
  }
  dx.set(acc);
}

/** The in-bounds rows [h0, h1), columns [w0, w1) of average window (oh, ow), and its divisor. */
function avgWindow(
  oh: number, ow: number, H: number, W: number, kH: number, kW: number,
  sH: number, sW: number, pH: number, pW: number, countIncludePad: number,
) {
  const ph0 = oh * sH - pH;
  const pw0 = ow * sW - pW;
  const ph1 = Math.min(ph0 + kH, H + pH);
  const pw1 = Math.min(pw0 + kW, W + pW);
  const h0 = Math.max(ph0, 0);
  const w0 = Math.max(pw0, 0);
  const h1 = Math.min(ph1, H);
  const w1 = Math.min(pw1, W);
  const divisor = countIncludePad ? (ph1 - ph0) * (pw1 - pw0) : (h1 - h0) * (w1 - w0);
  return { h0, h1, w0, w1, divisor, empty: h0 >= h1 || w0 >= w1 };
}

/** y (NC, Hout, Wout) = window means of x (NC, H, W). Overwritten. */
export function avgpool2d_forward(
  y: Arr, x: Arr,
  NC: number, H: number, W: number, Hout: number, Wout: number, kH: number, kW: number,
  sH: number, sW: number, pH: number, pW: number, countIncludePad: number,
): void {
  for (let p = 0; p < NC; p++) {
    for (let oh = 0; oh < Hout; oh++) {
      for (let ow = 0; ow < Wout; ow++) {
        const win = avgWindow(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
        let sum = 0;
        for (let h = win.h0; h < win.h1; h++) {
          for (let w = win.w0; w < win.w1; w++) sum += x[(p * H + h) * W + w];
        }
        y[(p * Hout + oh) * Wout + ow] = win.empty ? 0 : sum / win.divisor;
      }
    }
  }
}

/** dx (NC, H, W) = Σ over windows of dy / divisor, spread over each window. Overwritten. */
export function avgpool2d_backward(
  dx: Arr, dy: Arr,
  NC: number, H: number, W: number, Hout: number, Wout: number, kH: number, kW: number,
  sH: number, sW: number, pH: number, pW: number, countIncludePad: number,
): void {
  const acc = new Float64Array(NC * H * W);
  for (let p = 0; p < NC; p++) {
    for (let oh = 0; oh < Hout; oh++) {
      for (let ow = 0; ow < Wout; ow++) {
        const win = avgWindow(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
        if (win.empty) continue;
        const share = dy[(p * Hout + oh) * Wout + ow] / win.divisor;
        for (let h = win.h0; h < win.h1; h++) {
          for (let w = win.w0; w < win.w1; w++) acc[(p * H + h) * W + w] += share;
        }
      }
    }
  }
  dx.set(acc);
}
