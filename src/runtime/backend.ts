// Finds, instantiates and holds the backend in use. `init()` picks the best WASM build the engine
// validates (relaxed-simd, then simd, then scalar); `init({ backend })` forces one, 'js' included.
import { Heap } from './memory.js';
import { KERNEL_NAMES, type Kernels } from './kernels.js';
import { relaxedSimd, simd, scalar } from './wasm-bytes.generated.js';
import { createReferenceKernels } from '../reference/adapter.js';
import { optionsObject } from '../shapes.js';

export type BackendName = 'relaxed-simd' | 'simd' | 'scalar' | 'js';
export const BACKEND_NAMES: readonly BackendName[] = ['relaxed-simd', 'simd', 'scalar', 'js'];
type WasmBackendName = Exclude<BackendName, 'js'>;

export interface Backend {
  readonly name: BackendName;
  readonly heap: Heap;
  readonly k: Kernels;
}

export interface InitOptions {
  /** Force a backend instead of picking the best one the engine supports. */
  backend?: BackendName;
  /** Use these module bytes (or this URL or compiled Module) instead of the embedded builds. */
  wasm?: BufferSource | URL | string | WebAssembly.Module;
}

const EMBEDDED: Record<WasmBackendName, string> = { 'relaxed-simd': relaxedSimd, simd, scalar };
/** What `backend_id()` of a module answers, so that user-supplied bytes report their build. */
const BUILD_IDS: Record<number, WasmBackendName> = { 0: 'scalar', 1: 'simd', 2: 'relaxed-simd' };
const INITIAL_PAGES = 32;

let current: Backend | undefined;
const cache = new Map<BackendName, Backend>();
const byteCache = new Map<WasmBackendName, Uint8Array>();

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function embeddedBytes(name: WasmBackendName): Uint8Array {
  let bytes = byteCache.get(name);
  if (!bytes) {
    bytes = decodeBase64(EMBEDDED[name]);
    byteCache.set(name, bytes);
  }
  return bytes;
}

/** The WASM builds this engine can run, best first. */
export function supportedBackends(): BackendName[] {
  const names: BackendName[] = (['relaxed-simd', 'simd', 'scalar'] as const).filter((name) =>
    WebAssembly.validate(embeddedBytes(name) as BufferSource),
  );
  return [...names, 'js'];
}

async function instantiate(module: WebAssembly.Module): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm-cnn: a kernel aborted');
      },
    },
  });
  const exports = instance.exports as unknown as Kernels & { heap_base(): number };
  const missing = [...KERNEL_NAMES, 'heap_base' as const].filter((n) => typeof exports[n] !== 'function');
  if (missing.length) throw new Error(`wasm-cnn: the module lacks kernels ${missing.join(', ')}`);
  const name = BUILD_IDS[exports.backend_id()];
  return { name, heap: new Heap(memory, exports.heap_base()), k: exports };
}

async function loadUserModule(wasm: NonNullable<InitOptions['wasm']>): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (typeof wasm === 'string' || wasm instanceof URL) {
    const url = new URL(String(wasm), typeof location === 'undefined' ? undefined : location.href);
    if (url.protocol === 'file:') {
      // Only reachable in Node; getBuiltinModule keeps node:fs out of every browser bundle.
      const fs = (globalThis as any).process?.getBuiltinModule?.('fs');
      if (!fs) throw new TypeError(`init: cannot read ${url.href} in this environment; pass the bytes instead`);
      return WebAssembly.compile(fs.readFileSync(url));
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`init: fetching ${url.href} failed with ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
  return WebAssembly.compile(wasm);
}

async function create(name: BackendName): Promise<Backend> {
  if (name === 'js') {
    const heap = new Heap(new WebAssembly.Memory({ initial: INITIAL_PAGES }));
    return { name, heap, k: createReferenceKernels(heap) };
  }
  const bytes = embeddedBytes(name);
  if (!WebAssembly.validate(bytes as BufferSource)) {
    const hint = name === 'relaxed-simd' ? ' (Node 20 needs --experimental-wasm-relaxed-simd)' : '';
    throw new Error(`init: this engine cannot run the ${name} build${hint}`);
  }
  return instantiate(await WebAssembly.compile(bytes as BufferSource));
}

/** Compiles and instantiates a backend; idempotent for the same options. */
export async function init(options: InitOptions | null = {}): Promise<void> {
  options = optionsObject('init', options, false, ['backend', 'wasm']);
  if (options.backend !== undefined && !BACKEND_NAMES.includes(options.backend)) {
    throw new TypeError(`init: backend must be one of ${BACKEND_NAMES.join(', ')}; got ${String(options.backend)}`);
  }
  if (options.wasm !== undefined) {
    current = await instantiate(await loadUserModule(options.wasm));
    return;
  }
  const name = options.backend ?? (current ? undefined : supportedBackends()[0]);
  if (name === undefined) return;
  let backend = cache.get(name);
  if (!backend) {
    backend = await create(name);
    cache.set(name, backend);
  }
  current = backend;
}

/** The name of the backend in use. */
export function backendName(): BackendName {
  return backend().name;
}

/** The backend in use; throws if `init()` has not run. */
export function backend(): Backend {
  if (!current) throw new Error('wasm-cnn: call `await init()` first');
  return current;
}
