// Fully connected layer (torch.nn.Linear): three strided GEMMs, forward and backward side by side.
//
// Layouts: x, dx (N, inF); y, dy (N, outF); w, dw (outF, inF); b (outF) or 0.
//   linear_forward          y  = x · wᵀ + b      OVERWRITTEN   (wᵀ: B strides rsB = 1, csB = inF)
//   linear_backward_input   dx = dy · w          OVERWRITTEN
//   linear_backward_weight  dw += dyᵀ · x        ACCUMULATED   (dyᵀ: A strides rsA = 1, csA = outF)
// The bias gradient is conv2d_backward_bias(db, dy, N, outF, 1), called by the host.
// Scratch: linear_scratch_bytes(N, inF, outF), enough for any of the three.
import { sgemm, sgemm_scratch_bytes } from './gemm';
import { at, copy } from './simd';

export function linear_scratch_bytes(N: i32, inF: i32, outF: i32): i32 {
  return max(sgemm_scratch_bytes(N, outF, inF),
    max(sgemm_scratch_bytes(N, inF, outF), sgemm_scratch_bytes(outF, inF, N)));
}

export function linear_forward(y: usize, // (N, outF) f32, overwritten
  x: usize, // (N, inF) f32
  w: usize, // (outF, inF) f32
  b: usize, // (outF) f32, or 0 for no bias
  scratch: usize, N: i32, inF: i32, outF: i32): void {
  // Bias rows first, then the product accumulates onto them.
  if (b) for (let n = 0; n < N; n++) copy(at(y, n * outF), b, outF);
  sgemm(N, outF, inF, x, inF, 1, w, 1, inF, y, outF, b ? 1 : 0, scratch);
}

export function linear_backward_input(dx: usize, // (N, inF) f32, overwritten
  dy: usize, // (N, outF) f32
  w: usize, // (outF, inF) f32
  scratch: usize, N: i32, inF: i32, outF: i32): void {
  sgemm(N, inF, outF, dy, outF, 1, w, inF, 1, dx, inF, 0, scratch);
}

export function linear_backward_weight(dw: usize, // (outF, inF) f32, accumulated
  x: usize, // (N, inF) f32
  dy: usize, // (N, outF) f32
  scratch: usize, N: i32, inF: i32, outF: i32): void {
  sgemm(outF, inF, N, dy, 1, outF, x, inF, 1, dw, inF, 1, scratch);
}
