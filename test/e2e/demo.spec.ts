// The demo end to end in Chromium: it trains LeNet on the MNIST digits in a worker until the
// held-out accuracy passes 90%, reads a digit drawn with the mouse, stops and resumes, and saves
// and loads the weights. A screenshot lands in test/e2e/demo.png (git-ignored).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { root } from '../../demo/build.mjs';
import { startDemo, type Server } from '../../demo/serve.mjs';
import { launch, pathJoin, readBytes, removeDir, tempDir, type Browser } from '../browser/harness.mjs';

/** How long training may take to pass 90% on held-out digits, on a busy 2-core machine. */
const TRAINING_BOUND_MS = 180_000;
const SCREENSHOT = pathJoin(root, 'test', 'e2e', 'demo.png');

interface Status { epoch: number; step: number; loss: number; accuracy: number; backend: string }

async function status(page: Page): Promise<Status | undefined> {
  const text = (await page.textContent('#status')) ?? '';
  const m = /epoch (\d+) step (\d+) loss (\S+) accuracy (\S+) backend (\S+)/.exec(text);
  return m ? { epoch: +m[1], step: +m[2], loss: +m[3], accuracy: +m[4], backend: m[5] } : undefined;
}

async function waitForStatus(page: Page, what: string, ok: (s: Status) => boolean, timeout: number): Promise<Status> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const s = await status(page);
    if (s && ok(s)) return s;
    if (Date.now() > deadline) {
      const message = await page.textContent('#message');
      throw new Error(`${what} within ${timeout} ms; status is "${await page.textContent('#status')}", message "${message}"`);
    }
    await page.waitForTimeout(250);
  }
}

/** The ten probabilities on the page, or undefined before the first prediction. */
async function probabilities(page: Page): Promise<number[] | undefined> {
  const text = await page.getAttribute('#probabilities', 'data-probabilities');
  return text ? text.split(' ').map(Number) : undefined;
}

describe('demo in Chromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let url: string;
  let outdir: string;

  beforeAll(async () => {
    outdir = tempDir('wasm-cnn-demo-');
    ({ server, url } = await startDemo({ from: 'src', outdir }));
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    removeDir(outdir);
  });

  it('trains LeNet in a worker until held-out accuracy passes 90%, with a falling loss', async () => {
    const { page } = browser!;
    await page.goto(url);
    const first = await waitForStatus(page, 'the worker did not start', (s) => s.backend !== '', 60_000);
    expect(first.backend).toBe('relaxed-simd');
    expect(await page.textContent('#backend')).toBe('relaxed-simd');

    const started = Date.now();
    const reached = await waitForStatus(page, 'held-out accuracy did not pass 0.9', (s) => s.accuracy > 0.9, TRAINING_BOUND_MS);
    console.log(`held-out accuracy ${reached.accuracy} at epoch ${reached.epoch} step ${reached.step}, ${Date.now() - started} ms after start`);

    const history = await page.evaluate(() => (globalThis as any).wasmCnnDemo);
    const losses: number[] = history.steps.map((s: { loss: number }) => s.loss);
    expect(losses.length).toBeGreaterThanOrEqual(20);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const early = mean(losses.slice(0, 10));
    const late = mean(losses.slice(-10));
    console.log(`training loss: first 10 steps ${early.toFixed(3)}, last 10 steps ${late.toFixed(3)}`);
    expect(early).toBeGreaterThan(1.5); // ln 10 ≈ 2.30 for an untrained 10-way classifier
    expect(late).toBeLessThan(early / 3);
    // The held-out evaluations: chance at the start, above 90% by now.
    expect(history.evaluations[0].accuracy).toBeLessThan(0.3);
    expect(history.evaluations.at(-1).accuracy).toBeGreaterThan(0.9);
    expect(await page.$$eval('#chart canvas', (c) => c.length)).toBeGreaterThan(0);
    expect(Number((await page.textContent('#speed'))!.replace(/,/g, ''))).toBeGreaterThan(0);
  });

  it('reads a digit while it is being drawn on the canvas', async () => {
    const { page } = browser!;
    const box = (await page.locator('#draw').boundingBox())!;
    const at = (x: number, y: number) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
    // A "1": one slightly slanted stroke down the middle, drawn in two halves.
    await page.mouse.move(...at(150, 40));
    await page.mouse.down();
    await page.mouse.move(...at(143, 140), { steps: 12 });
    // The button is still down: the probabilities must already be there.
    await page.waitForFunction(() => document.getElementById('probabilities')!.dataset.probabilities !== undefined);
    const midStroke = await page.evaluate(() => (globalThis as any).wasmCnnDemo.predictions);
    await page.mouse.move(...at(136, 240), { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction((n) => (globalThis as any).wasmCnnDemo.predictions > n, midStroke);
    await page.waitForTimeout(300);

    const p = (await probabilities(page))!;
    expect(p).toHaveLength(10);
    for (const v of p) expect(v).toBeGreaterThanOrEqual(0);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    const best = p.indexOf(Math.max(...p));
    console.log(`drawn "1": prediction ${best}, probabilities ${p.map((v) => v.toFixed(3)).join(' ')}`);
    expect(await page.textContent('#prediction')).toBe(String(best));
    expect(best).toBe(1);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('stops and resumes training', async () => {
    const { page } = browser!;
    if (await page.isDisabled('#stop')) {
      // A fast machine may have finished every epoch already: Resume trains one more.
      await page.click('#resume');
      await page.waitForFunction(() => !(document.getElementById('stop') as HTMLButtonElement).disabled);
    }
    await page.click('#stop');
    await page.waitForFunction(() => !(document.getElementById('resume') as HTMLButtonElement).disabled);
    const stopped = (await status(page))!;
    await page.waitForTimeout(1500);
    expect((await status(page))!.step).toBe(stopped.step);
    expect(await page.textContent('#message')).toContain('stopped');

    await page.click('#resume');
    await waitForStatus(page, 'training did not resume', (s) => s.step > stopped.step, 30_000);
    expect(await page.isDisabled('#stop')).toBe(false);
  });

  it('downloads the weights as safetensors and loads them back', async () => {
    const { page, errors } = browser!;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('lenet-mnist.safetensors');
    const file = pathJoin(outdir, 'weights.safetensors');
    await download.saveAs(file);
    const bytes = readBytes(file);
    // safetensors: a little-endian u64 header length, a JSON header, then the tensor bytes.
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header['0.weight'].shape).toEqual([6, 1, 5, 5]);
    expect(header['11.bias'].shape).toEqual([10]);

    await page.setInputFiles('#load', file);
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('loaded weights from weights.safetensors'));
    expect(errors).toEqual([]);
  });
});
