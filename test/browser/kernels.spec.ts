// Every functional op on Chromium's WASM build (relaxed SIMD) against the 'js' reference backend,
// inside a real page: the bundle of kernels.ts, served over HTTP like a user's page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernelTests, root } from '../../demo/build.mjs';
import { startServer, type Server } from '../../demo/serve.mjs';
import { launch, pathJoin, type Browser } from './harness.mjs';
import type { KernelReport } from './kernels.js';

describe('kernels in Chromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let url: string;

  beforeAll(async () => {
    const dist = await buildKernelTests();
    ({ server, url } = await startServer({ mounts: { '/dist/': dist, '/': pathJoin(root, 'test', 'browser') } }));
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('runs every op on the relaxed-simd build within tolerance of the reference', async () => {
    const { page, errors } = browser!;
    await page.goto(url);
    await page.waitForFunction(() => typeof (globalThis as any).runKernelTests === 'function');
    const report: KernelReport = await page.evaluate(() => (globalThis as any).runKernelTests());
    console.log(
      `kernels in Chromium: backend ${report.backend}, ${report.cases} cases, ` +
        `${report.comparisons} comparisons: ${report.passed} passed, ${report.failed} failed`,
    );
    for (const f of report.failures) console.log(`  ${f.name} ${f.output}: ${f.detail}`);
    expect(report.backend).toBe('relaxed-simd');
    expect(report.cases).toBeGreaterThan(300);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(report.comparisons);
    expect(errors).toEqual([]);
  });
});
