// The 'js' backend: the kernel ABI of src/runtime/kernels.ts over the reference kernels, with
// views of the heap made at the moment of each call (memory growth detaches older views).
// Lengths come from the dimensions; a bias pointer of 0 means "no bias".
import type { Heap } from '../runtime/memory.js';
import type { Kernels } from '../runtime/kernels.js';
import * as ref from './index.js';
import { trainingKernels } from './training-adapter.js';

/** The element count a strided (rows × cols) operand spans. */
function span(rows: number, cols: number, rs: number, cs: number): number {
  return rows > 0 && cols > 0 ? (rows - 1) * rs + (cols - 1) * cs + 1 : 0;
}

export function createReferenceKernels(heap: Heap): Kernels {
  const f32 = (ptr: number, len: number) => heap.f32(ptr, len);
  const bias = (ptr: number, len: number) => (ptr === 0 ? null : heap.f32(ptr, len));

  return {
    backend_id: () => -1,
    sgemm_scratch_bytes: () => 0,
    conv2d_scratch_bytes: () => 0,
    linear_scratch_bytes: () => 0,

    sgemm(M, N, K, A, rsA, csA, B, rsB, csB, C, rsC, accumulate) {
      ref.sgemm(M, N, K,
        f32(A, span(M, K, rsA, csA)), rsA, csA,
        f32(B, span(K, N, rsB, csB)), rsB, csB,
        f32(C, span(M, N, rsC, 1)), rsC, accumulate);
    },

    conv2d_forward(y, x, w, b, _scratch, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups) {
      ref.conv2d_forward(
        f32(y, N * Cout * Hout * Wout), f32(x, N * Cin * H * W), f32(w, Cout * (Cin / groups) * kH * kW),
        bias(b, Cout), N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups);
    },
    conv2d_backward_input(dx, dy, w, _scratch, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups) {
      ref.conv2d_backward_input(
        f32(dx, N * Cin * H * W), f32(dy, N * Cout * Hout * Wout), f32(w, Cout * (Cin / groups) * kH * kW),
        N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups);
    },
    conv2d_backward_filter(dw, x, dy, _scratch, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups) {
      ref.conv2d_backward_filter(
        f32(dw, Cout * (Cin / groups) * kH * kW), f32(x, N * Cin * H * W), f32(dy, N * Cout * Hout * Wout),
        N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups);
    },
    conv2d_backward_bias(db, dy, N, C, HW) {
      ref.conv2d_backward_bias(f32(db, C), f32(dy, N * C * HW), N, C, HW);
    },
    add_channel_bias(y, b, N, C, HW) {
      ref.add_channel_bias(f32(y, N * C * HW), f32(b, C), N, C, HW);
    },

    maxpool2d_forward(y, indices, x, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW) {
      ref.maxpool2d_forward(
        f32(y, NC * Hout * Wout), heap.i32(indices, NC * Hout * Wout), f32(x, NC * H * W),
        NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW);
    },
    maxpool2d_backward(dx, dy, indices, NC, H, W, Hout, Wout) {
      ref.maxpool2d_backward(
        f32(dx, NC * H * W), f32(dy, NC * Hout * Wout), heap.i32(indices, NC * Hout * Wout),
        NC, H, W, Hout, Wout);
    },
    avgpool2d_forward(y, x, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad) {
      ref.avgpool2d_forward(
        f32(y, NC * Hout * Wout), f32(x, NC * H * W),
        NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad);
    },
    avgpool2d_backward(dx, dy, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad) {
      ref.avgpool2d_backward(
        f32(dx, NC * H * W), f32(dy, NC * Hout * Wout),
        NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, countIncludePad);
    },

    linear_forward(y, x, w, b, _scratch, N, inF, outF) {
      ref.linear_forward(f32(y, N * outF), f32(x, N * inF), f32(w, outF * inF), bias(b, outF), N, inF, outF);
    },
    linear_backward_input(dx, dy, w, _scratch, N, inF, outF) {
      ref.linear_backward_input(f32(dx, N * inF), f32(dy, N * outF), f32(w, outF * inF), N, inF, outF);
    },
    linear_backward_weight(dw, x, dy, _scratch, N, inF, outF) {
      ref.linear_backward_weight(f32(dw, outF * inF), f32(x, N * inF), f32(dy, N * outF), N, inF, outF);
    },

    ...trainingKernels(heap),
  };
}
