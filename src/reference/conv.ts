// Reference 2-D convolution as torch.nn.functional.conv2d computes it: NCHW, weights
// (Cout, Cin/groups, kH, kW), symmetric zero padding, dilation, groups. Direct loops, no im2col:
// output (oh, ow) of channel co reads input rows oh·sH − pH + kh·dH and columns ow·sW − pW + kw·dW
// of the Cin/groups channels of co's group; positions outside the input contribute 0.
// The backward-input kernel is the exact adjoint of the forward (same loops, scattering), so it
// is also convTranspose2d's forward. Parameter gradients (dw, db) accumulate; the rest overwrite.
import type { Arr } from './index.js';

/** y (N, Cout, Hout, Wout) = conv(x (N, Cin, H, W), w (Cout, Cin/g, kH, kW)) + b (Cout). */
export function conv2d_forward(
  y: Arr, x: Arr, w: Arr, b: Arr | null,
  N: number, Cin: number, H: number, W: number, Cout: number, Hout: number, Wout: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number,
  groups: number,
): void {
  const cinG = Cin / groups;
  const coutG = Cout / groups;
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const ciBase = Math.floor(co / coutG) * cinG;
      for (let oh = 0; oh < Hout; oh++) {
        for (let ow = 0; ow < Wout; ow++) {
          let sum = b ? b[co] : 0;
          for (let ci = 0; ci < cinG; ci++) {
            for (let kh = 0; kh < kH; kh++) {
              const ih = oh * sH - pH + kh * dH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < kW; kw++) {
                const iw = ow * sW - pW + kw * dW;
                if (iw < 0 || iw >= W) continue;
                sum += x[((n * Cin + ciBase + ci) * H + ih) * W + iw] * w[((co * cinG + ci) * kH + kh) * kW + kw];
              }
            }
          }
          y[((n * Cout + co) * Hout + oh) * Wout + ow] = sum;
        }
      }
    }
  }
}

/** dx (N, Cin, H, W) = the adjoint of conv2d_forward applied to dy (N, Cout, Hout, Wout): every
 *  product the forward summed is sent back to the input element it read. Overwritten; positions
 *  no window reached are 0. */
export function conv2d_backward_input(
  dx: Arr, dy: Arr, w: Arr,
  N: number, Cin: number, H: number, W: number, Cout: number, Hout: number, Wout: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number,
  groups: number,
): void {
  const cinG = Cin / groups;
  const coutG = Cout / groups;
  // Scatter into float64 so that overlapping windows add at full precision even when dx is f32.
  const acc = new Float64Array(N * Cin * H * W);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const ciBase = Math.floor(co / coutG) * cinG;
      for (let oh = 0; oh < Hout; oh++) {
        for (let ow = 0; ow < Wout; ow++) {
          const g = dy[((n * Cout + co) * Hout + oh) * Wout + ow];
          for (let ci = 0; ci < cinG; ci++) {
            for (let kh = 0; kh < kH; kh++) {
              const ih = oh * sH - pH + kh * dH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < kW; kw++) {
                const iw = ow * sW - pW + kw * dW;
                if (iw < 0 || iw >= W) continue;
                acc[((n * Cin + ciBase + ci) * H + ih) * W + iw] += g * w[((co * cinG + ci) * kH + kh) * kW + kw];
              }
            }
          }
        }
      }
    }
  }
  dx.set(acc);
}

/** dw (Cout, Cin/g, kH, kW) += Σ over n, oh, ow of dy · the input element that weight read. */
export function conv2d_backward_filter(
  dw: Arr, x: Arr, dy: Arr,
  N: number, Cin: number, H: number, W: number, Cout: number, Hout: number, Wout: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number,
  groups: number,
): void {
  const cinG = Cin / groups;
  const coutG = Cout / groups;
  for (let co = 0; co < Cout; co++) {
    const ciBase = Math.floor(co / coutG) * cinG;
    for (let ci = 0; ci < cinG; ci++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++) {
          let sum = 0;
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < Hout; oh++) {
              const ih = oh * sH - pH + kh * dH;
              if (ih < 0 || ih >= H) continue;
              for (let ow = 0; ow < Wout; ow++) {
                const iw = ow * sW - pW + kw * dW;
                if (iw < 0 || iw >= W) continue;
                sum += dy[((n * Cout + co) * Hout + oh) * Wout + ow] * x[((n * Cin + ciBase + ci) * H + ih) * W + iw];
              }
            }
          }
          dw[((co * cinG + ci) * kH + kh) * kW + kw] += sum;
        }
      }
    }
  }
}

/** db (C) += Σ over n and the HW positions of dy (N, C, HW). */
export function conv2d_backward_bias(db: Arr, dy: Arr, N: number, C: number, HW: number): void {
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) sum += dy[(n * C + c) * HW + i];
    }
    db[c] += sum;
  }
}

/** y (N, C, HW) += b (C), broadcast over n and positions. */
export function add_channel_bias(y: Arr, b: Arr, N: number, C: number, HW: number): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < HW; i++) y[(n * C + c) * HW + i] += b[c];
    }
  }
}
