// Build selection: the same source compiles to relaxed-simd, simd and scalar modules.

/** 0 scalar, 1 simd, 2 relaxed-simd: tells the host which build it loaded. */
export function backend_id(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return 2;
  if (ASC_FEATURE_SIMD) return 1;
  return 0;
}
