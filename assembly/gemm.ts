// The ABI's single-precision GEMM: a thin wrapper over the packed GEMM of gemm-core.ts with the
// plain strided packer.
//
// Contract of `sgemm`: C[M×N] = A·B (accumulate = 0, C overwritten) or C += A·B (accumulate = 1).
//   A: element (i, k) at A + 4·(i·rsA + k·csA)    any strides: a transpose is just swapped strides
//   B: element (k, j) at B + 4·(k·rsB + j·csB)
//   C: element (i, j) at C + 4·(i·rsC + j)         rows may be padded, columns are contiguous
//   scratch: sgemm_scratch_bytes(M, N, K) bytes, no alignment required, clobbered.
import { gemm, gemm_scratch_bytes, stridedB, packStrided, DESCRIPTOR_BYTES } from './gemm-core';

/** Bytes of scratch `sgemm(M, N, K, ...)` needs. */
export function sgemm_scratch_bytes(M: i32, N: i32, K: i32): i32 {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  return DESCRIPTOR_BYTES + gemm_scratch_bytes(M, N, K);
}

export function sgemm(M: i32, N: i32, K: i32,
  A: usize, rsA: i32, csA: i32, // (M, K) f32, strided
  B: usize, rsB: i32, csB: i32, // (K, N) f32, strided
  C: usize, rsC: i32, // (M, N) f32, row stride rsC
  accumulate: i32, scratch: usize): void {
  const b = stridedB(scratch, B, rsB, csB, max(N, 1), 0);
  gemm(M, N, K, A, rsA, csA, max(K, 1), 0, packStrided, b, C, rsC, max(N, 1), 0,
    accumulate != 0, scratch + DESCRIPTOR_BYTES);
}
