// The kernel ABI (src/runtime/kernels.ts lists the same functions for the host). Every export is a
// pure function of pointers into the imported memory and integer sizes; nothing allocates.
export { backend_id } from './simd';
import { staticScratch, STATIC_SCRATCH_BYTES } from './simd';

/** Where the module's static data (Mathf's lookup tables, constant pools) and the pooling kernels'
 *  scratch end: the host's heap starts at or above it. */
export function heap_base(): usize {
  return staticScratch + STATIC_SCRATCH_BYTES;
}
export * from './gemm';
export * from './conv';
export * from './max-pool';
export * from './avg-pool';
export * from './linear';
export * from './nn';
export * from './loss';
export * from './optim';
