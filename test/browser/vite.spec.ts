// wasm-cnn in a Vite app with no configuration for it: `vite build` of vite-app/ (a page and a
// module worker that both import the package), then the built app in Chromium. The page and the
// worker both pick the relaxed-SIMD build and train; no .wasm file is emitted or fetched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { root } from '../../demo/build.mjs';
import { startServer, type Server } from '../../demo/serve.mjs';
import { launch, listFiles, pathJoin, removeDir, tempDir, type Browser } from './harness.mjs';

interface Run { backend: string; losses: number[] }

describe('wasm-cnn in a Vite app', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let url: string;
  let outDir: string;

  beforeAll(async () => {
    outDir = tempDir('wasm-cnn-vite-');
    await build({
      configFile: false,
      root: pathJoin(root, 'test', 'browser', 'vite-app'),
      logLevel: 'warn',
      // Stands in for the package's node_modules entry: the same source that dist/ is built from.
      resolve: { alias: { 'wasm-cnn': pathJoin(root, 'src', 'index.ts') } },
      build: { outDir, emptyOutDir: true, target: 'es2022' },
    });
    ({ server, url } = await startServer({ mounts: { '/': outDir } }));
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    removeDir(outDir);
  });

  it('trains in the page and in a module worker on relaxed-simd, with the wasm embedded', async () => {
    const files = listFiles(outDir);
    expect(files.filter((f) => f.endsWith('.wasm'))).toEqual([]);
    expect(files.some((f) => /worker.*\.js$/.test(f))).toBe(true);

    const { page, errors } = browser!;
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as any).result !== undefined, undefined, { timeout: 60_000 });
    const result: { page: Run; worker: Run } = await page.evaluate(() => (globalThis as any).result);
    console.log(`vite app: page ${JSON.stringify(result.page)}, worker ${JSON.stringify(result.worker)}`);
    for (const run of [result.page, result.worker]) {
      expect(run.backend).toBe('relaxed-simd');
      expect(run.losses).toHaveLength(5);
      expect(run.losses.every(Number.isFinite)).toBe(true);
      expect(run.losses[4]).toBeLessThan(run.losses[0]);
    }
    expect(requests.filter((r) => r.endsWith('.wasm'))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
