// The built package as users load it: dist/ through Node ESM `import` and CommonJS `require`, with
// no option to find the wasm, and feature detection picking the build the engine can run. Needs
// `npm run build` first (npm test does it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const RELAXED = '--experimental-wasm-relaxed-simd';

/** A 1x1x3x3 input convolved with a 2x2 kernel of ones: each output is a window sum. */
const program = (load: string) => `
${load}
(async () => {
  await init();
  const x = { data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), shape: [1, 1, 3, 3] };
  const w = { data: new Float32Array([1, 1, 1, 1]), shape: [1, 1, 2, 2] };
  const y = conv2d(x, w);
  console.log(JSON.stringify({ backend: backendName(), shape: y.shape, data: Array.from(y.data) }));
})();`;

function run(args: string[], source: string) {
  const out = execFileSync(process.execPath, [...args, '-e', source], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const esm = ['--input-type=module'];
const esmSource = program(`import { init, backendName, conv2d } from './dist/index.js';`);
const cjsSource = program(`const { init, backendName, conv2d } = require('./dist/index.cjs');`);
const expected = { shape: [1, 1, 2, 2], data: [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9] };

describe('package from dist/', () => {
  beforeAll(() => {
    if (!existsSync(new URL('dist/index.cjs', root))) throw new Error('dist/ is missing: run `npm run build` first');
  });

  it('loads through ESM import and picks simd when relaxed SIMD is off', () => {
    expect(run(esm, esmSource)).toEqual({ backend: 'simd', ...expected });
  });

  it('loads through CommonJS require', () => {
    expect(run([], cjsSource)).toEqual({ backend: 'simd', ...expected });
  });

  it('picks relaxed-simd where the engine validates it', () => {
    expect(run([RELAXED, ...esm], esmSource)).toEqual({ backend: 'relaxed-simd', ...expected });
    expect(run([RELAXED], cjsSource)).toEqual({ backend: 'relaxed-simd', ...expected });
  });

  it('reaches no Node built-in from the entry points', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      const text = await readFile(new URL(file, root), 'utf8');
      expect(text).not.toMatch(/(?:from|import|require)\s*\(?\s*['"](?:node:)?(?:fs|path|url|module|child_process|worker_threads)['"]/);
    }
  });
});
