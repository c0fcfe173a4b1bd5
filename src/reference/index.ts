// The reference kernels: plain TypeScript with the names and argument order of the kernel ABI
// (src/runtime/kernels.ts), arrays instead of pointers, no scratch, and `null` for an absent bias.
// They accumulate in float64 and work on Float64Array as well, for finite-difference tests.

/** The float arrays a reference kernel reads and writes. */
export type Arr = Float32Array | Float64Array;

export * from './gemm.js';
export * from './conv.js';
export * from './pool.js';
export * from './linear.js';
export * from './training.js';
