// A small static file server for the demo and the browser tests, on localhost only.
//
// It sends the two headers that make a page cross-origin isolated (COOP same-origin, COEP
// require-corp): SharedArrayBuffer, and with it a WebAssembly.Memory shared between workers for
// multi-threaded kernels, is only available to such pages. Everything here is same-origin, so the
// headers cost nothing today.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo, demoDir } from './build.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file under `dir` that `rest` names, or undefined if it would leave `dir` or is absent. */
function resolveFile(dir, rest) {
  const file = normalize(join(dir, rest));
  if (file !== dir && !file.startsWith(dir + sep)) return undefined;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return resolveFile(dir, join(rest, 'index.html'));
    return stat.isFile() ? { file, size: stat.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves `mounts` ({ '/dist/': dir, '/': dir }: the longest matching prefix wins) on 127.0.0.1.
 * Port 0 picks a free port. Resolves to the server and its base URL.
 */
export function startServer({ mounts, port = 0, host = '127.0.0.1' }) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const found = prefix === undefined ? undefined : resolveFile(mounts[prefix], path.slice(prefix.length) || '.');
    if (!found || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(found ? 405 : 404, { 'Content-Type': 'text/plain' }).end(found ? 'method not allowed' : 'not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(found.file)] ?? 'application/octet-stream',
      'Content-Length': found.size,
      'Cache-Control': 'no-store',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(found.file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ server, url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${address.port}/` });
    });
  });
}

/** Builds the demo and serves it: demo/ at the root, the bundles and digits under /dist/. */
export async function startDemo({ port = 0, from = 'dist', outdir } = {}) {
  const dist = await buildDemo({ from, outdir });
  return startServer({ mounts: { '/dist/': dist, '/': demoDir }, port });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be a port number; got ${process.env.PORT}`);
  const from = process.argv.includes('--from-src') ? 'src' : 'dist';
  const { url } = await startDemo({ port, from });
  console.log(`wasm-cnn demo: ${url} (Ctrl-C stops it)`);
}
