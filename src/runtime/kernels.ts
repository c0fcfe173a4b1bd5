// The kernel ABI: one list, implemented twice. The WASM modules export exactly these functions
// (assembly/index.ts); the 'js' backend implements them over the reference kernels
// (src/reference/adapter.ts). Every pointer is a byte offset into the backend's memory; 0 is never
// a valid buffer, so an optional pointer (a bias) is 0 when absent.
//
// Argument order everywhere: outputs, inputs, what the forward saved, scratch, then geometry.
// Kernels that produce parameter gradients ACCUMULATE (dw += ...); every other output is
// OVERWRITTEN. Scratch is owned by the caller; its size comes from the *_scratch_bytes kernels.
//
// The convolution geometry is always these 16 integers, in this order (ConvGeometry in shapes.ts):
//   N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups
// Pooling kernels take the planes as NC = N·C, then H, W, Hout, Wout, kH, kW, sH, sW, pH, pW
// and their own extra arguments (dilation for max, countIncludePad for average).

import { TRAINING_KERNEL_NAMES, type TrainingKernels } from './training-kernels.js';

type Ptr = number;
type Int = number;

export interface Kernels extends TrainingKernels {
  /** 0 scalar, 1 simd, 2 relaxed-simd: which build this is. The 'js' backend answers -1. */
  backend_id(): Int;

  /** Bytes of scratch each call below needs (0 for 'js'). The conv figure covers forward and
   *  both backward kernels of that geometry; the linear figure covers its three kernels. */
  sgemm_scratch_bytes(M: Int, N: Int, K: Int): Int;
  conv2d_scratch_bytes(N: Int, Cin: Int, H: Int, W: Int, Cout: Int, Hout: Int, Wout: Int,
    kH: Int, kW: Int, sH: Int, sW: Int, pH: Int, pW: Int, dH: Int, dW: Int, groups: Int): Int;
  linear_scratch_bytes(N: Int, inF: Int, outF: Int): Int;

  /** C[M×N] = A·B (accumulate = 0) or C += A·B (accumulate = 1). Element (i, k) of A is at
   *  A + 4·(i·rsA + k·csA), (k, j) of B at B + 4·(k·rsB + j·csB), (i, j) of C at C + 4·(i·rsC + j). */
  sgemm(M: Int, N: Int, K: Int, A: Ptr, rsA: Int, csA: Int, B: Ptr, rsB: Int, csB: Int,
    C: Ptr, rsC: Int, accumulate: Int, scratch: Ptr): void;

  /** y (N, Cout, Hout, Wout) = conv(x (N, Cin, H, W), w (Cout, Cin/g, kH, kW)) + b (Cout) | 0. */
  conv2d_forward(y: Ptr, x: Ptr, w: Ptr, b: Ptr, scratch: Ptr,
    N: Int, Cin: Int, H: Int, W: Int, Cout: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, dH: Int, dW: Int, groups: Int): void;
  /** dx (N, Cin, H, W) = col2im(wᵀ · dy (N, Cout, Hout, Wout)); overwritten; positions no window
   *  reached are 0. Also convTranspose2d's forward (with Cin/Cout and x/y swapped by the caller). */
  conv2d_backward_input(dx: Ptr, dy: Ptr, w: Ptr, scratch: Ptr,
    N: Int, Cin: Int, H: Int, W: Int, Cout: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, dH: Int, dW: Int, groups: Int): void;
  /** dw (Cout, Cin/g, kH, kW) += Σ_n dy_n · col(x_n)ᵀ. */
  conv2d_backward_filter(dw: Ptr, x: Ptr, dy: Ptr, scratch: Ptr,
    N: Int, Cin: Int, H: Int, W: Int, Cout: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, dH: Int, dW: Int, groups: Int): void;
  /** db (C) += Σ over n and the HW positions of dy (N, C, HW). Linear's bias gradient with HW = 1. */
  conv2d_backward_bias(db: Ptr, dy: Ptr, N: Int, C: Int, HW: Int): void;
  /** y (N, C, HW) += b (C) broadcast over n and positions. */
  add_channel_bias(y: Ptr, b: Ptr, N: Int, C: Int, HW: Int): void;

  /** y (NC, Hout, Wout) = window maxima of x (NC, H, W); indices (i32, NC, Hout, Wout) = flat
   *  h·W + w of the chosen element in its plane. PyTorch's rule: a value wins if it is greater
   *  than the running maximum (which starts at -Infinity) or is NaN; ties keep the first. */
  maxpool2d_forward(y: Ptr, indices: Ptr, x: Ptr,
    NC: Int, H: Int, W: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, dH: Int, dW: Int): void;
  /** dx (NC, H, W) = 0, then dx[indices[i]] += dy[i] within each plane. Overwritten. */
  maxpool2d_backward(dx: Ptr, dy: Ptr, indices: Ptr, NC: Int, H: Int, W: Int, Hout: Int, Wout: Int): void;
  /** y (NC, Hout, Wout) = window means of x; divisor as PyTorch (countIncludePad 1 or 0). */
  avgpool2d_forward(y: Ptr, x: Ptr,
    NC: Int, H: Int, W: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, countIncludePad: Int): void;
  /** dx (NC, H, W) = Σ over windows of dy / divisor spread over the window. Overwritten. */
  avgpool2d_backward(dx: Ptr, dy: Ptr,
    NC: Int, H: Int, W: Int, Hout: Int, Wout: Int, kH: Int, kW: Int,
    sH: Int, sW: Int, pH: Int, pW: Int, countIncludePad: Int): void;

  /** y (N, outF) = x (N, inF) · wᵀ (w: outF, inF) + b (outF) | 0. */
  linear_forward(y: Ptr, x: Ptr, w: Ptr, b: Ptr, scratch: Ptr, N: Int, inF: Int, outF: Int): void;
  /** dx (N, inF) = dy (N, outF) · w. Overwritten. */
  linear_backward_input(dx: Ptr, dy: Ptr, w: Ptr, scratch: Ptr, N: Int, inF: Int, outF: Int): void;
  /** dw (outF, inF) += dyᵀ · x. */
  linear_backward_weight(dw: Ptr, x: Ptr, dy: Ptr, scratch: Ptr, N: Int, inF: Int, outF: Int): void;
}

export const KERNEL_NAMES = [
  'backend_id',
  'sgemm_scratch_bytes', 'conv2d_scratch_bytes', 'linear_scratch_bytes', 'sgemm',
  'conv2d_forward', 'conv2d_backward_input', 'conv2d_backward_filter', 'conv2d_backward_bias',
  'add_channel_bias',
  'maxpool2d_forward', 'maxpool2d_backward', 'avgpool2d_forward', 'avgpool2d_backward',
  'linear_forward', 'linear_backward_input', 'linear_backward_weight',
  ...TRAINING_KERNEL_NAMES,
] as const satisfies readonly (keyof Kernels)[];
