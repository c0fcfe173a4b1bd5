import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Node 20 runs the relaxed-SIMD build only behind this flag; the tests cover every build.
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
  },
});
