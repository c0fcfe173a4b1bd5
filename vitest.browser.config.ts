import { defineConfig } from 'vitest/config';

// The tests that drive Chromium: the demo end to end (test/e2e) and the kernel suite inside a page
// (test/browser). Named *.spec.ts so that the Node suite (vitest.config.ts, test/**/*.test.ts)
// does not pick them up. One file at a time: each drives a browser on a shared 2-core machine.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.spec.ts', 'test/browser/**/*.spec.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
