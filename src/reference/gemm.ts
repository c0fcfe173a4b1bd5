// Reference GEMM: the naive triple loop over strided operands, accumulated in float64.
import type { Arr } from './index.js';

/** C[M×N] = A·B (accumulate = 0) or C += A·B (accumulate = 1). Element (i, k) of A is
 *  A[i·rsA + k·csA], (k, j) of B is B[k·rsB + j·csB], (i, j) of C is C[i·rsC + j]. */
export function sgemm(
  M: number, N: number, K: number,
  A: Arr, rsA: number, csA: number,
  B: Arr, rsB: number, csB: number,
  C: Arr, rsC: number, accumulate: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += A[i * rsA + k * csA] * B[k * rsB + j * csB];
      C[i * rsC + j] = accumulate ? C[i * rsC + j] + sum : sum;
    }
  }
}
