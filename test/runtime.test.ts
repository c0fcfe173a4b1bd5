// Start-up and the ops' contract with their arguments: init picks the best build and is
// idempotent, a forced backend is reported, a bad name is a TypeError, user-supplied module bytes
// report their build, inputs are never modified and outputs are JS-owned copies.
// Vitest runs each test file in its own process, so this file starts with no backend initialised.
import { describe, expect, it } from 'vitest';
import {
  avgPool2d, avgPool2dBackward, backendName, conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput,
  convTranspose2d, init, linear, maxPool2d, maxPool2dBackward, type BackendName,
} from '../src/index.js';
import { backend } from '../src/runtime/backend.js';
import {
  BACKENDS, conv, convOptions, expectClose, f64, refConvForward, rng, tensor, tolFor, wShape, xShape,
} from './helpers.js';

// The tsconfig carries no Node types (the library must not need them); reach fs the way
// src/runtime/backend.ts does.
const nodeProcess = (globalThis as any).process;
const buildFile = (name: string): Uint8Array =>
  nodeProcess.getBuiltinModule('fs').readFileSync(new URL(`../build/${name}.wasm`, import.meta.url));

/** A conv2d that must match the reference on whatever backend is current. */
function checkConvWorks(): void {
  const g = conv(2, 5, 4, [7, 9], 3, 2, 1);
  const r = rng(12);
  const x = tensor(xShape(g), r);
  const w = tensor(wShape(g), r);
  expectClose(conv2d(x, w, null, convOptions(g)).data, refConvForward(g, f64(x.data), f64(w.data), null), tolFor(46), 'y');
}

describe('init and backendName', () => {
  it('backendName() before init() throws', () => {
    expect(() => backendName()).toThrow(/init/);
  });

  it('init() picks relaxed-simd when the engine has the flag (vitest passes it)', async () => {
    expect(nodeProcess.execArgv).toContain('--experimental-wasm-relaxed-simd');
    await init();
    expect(backendName()).toBe('relaxed-simd');
    checkConvWorks();
  });

  it('init() is idempotent: a second call keeps the same backend and heap', async () => {
    const first = backend();
    await init();
    expect(backend()).toBe(first);
    expect(backendName()).toBe('relaxed-simd');
  });

  it.each(BACKENDS)('init({ backend: %s }) is reported by backendName() and runs ops', async (name) => {
    await init({ backend: name });
    expect(backendName()).toBe(name);
    const instance = backend();
    await init({ backend: name });
    expect(backend()).toBe(instance);
    checkConvWorks();
  });

  it('init({ backend: "nope" }) throws a TypeError and keeps the backend in use', async () => {
    await init({ backend: 'scalar' });
    await expect(init({ backend: 'nope' as BackendName })).rejects.toThrow(TypeError);
    expect(backendName()).toBe('scalar');
    checkConvWorks();
  });

  it('init with an option it does not take throws a TypeError and keeps the backend in use', async () => {
    await init({ backend: 'scalar' });
    await expect(init({ backed: 'simd' } as never)).rejects.toThrow('init: unknown option backed; the options are backend, wasm');
    expect(backendName()).toBe('scalar');
    checkConvWorks();
  });

  it.each(['simd', 'scalar'] as const)('init({ wasm: bytes of build/%s.wasm }) reports that build', async (name) => {
    await init({ wasm: buildFile(name) });
    expect(backendName()).toBe(name);
    checkConvWorks();
  });

  it('init({ wasm: a compiled WebAssembly.Module }) reports its build', async () => {
    await init({ wasm: await WebAssembly.compile(buildFile('simd') as BufferSource) });
    expect(backendName()).toBe('simd');
    checkConvWorks();
  });
});

/** Bit patterns, so that NaN payloads and -0 count as changes too. */
const bits = (a: Float32Array) => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

describe.each(BACKENDS)('ops and their arguments on the %s backend', (name) => {
  it('inputs are never modified, and outputs are JS-owned copies', async () => {
    await init({ backend: name });
    const r = rng(21);
    const x = tensor([2, 4, 9, 9], r);
    x.data[3] = NaN;
    x.data[5] = -0;
    const w = tensor([6, 2, 3, 3], r);
    const b = tensor([6], r);
    const wt = tensor([6, 2, 3, 3], r);
    const bt = tensor([4], r);
    const dy = tensor([2, 6, 5, 5], r);
    const px = tensor([2, 4, 5, 5], r);
    const lx = tensor([3, 7], r);
    const lw = tensor([5, 7], r);
    const lb = tensor([5], r);
    const inputs = { x, w, b, wt, bt, dy, px, lx, lw, lb };
    const copies = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, bits(t.data)]));
    const xShapeCopy = [...x.shape];

    const opts = { stride: 2, padding: 1, groups: 2 };
    const pool = { kernelSize: 3, stride: 2, padding: 1 };
    const mp = maxPool2d(x, pool);
    const indicesCopy = mp.indices.slice();
    const outputs = [
      conv2d(x, w, b, opts),
      conv2dBackwardInput(dy, w, x.shape, opts),
      conv2dBackwardFilter(x, dy, w.shape, opts),
      conv2dBackwardBias(dy),
      convTranspose2d(dy, wt, bt, opts),
      mp.output,
      maxPool2dBackward(px, mp.indices, x.shape),
      avgPool2d(x, { ...pool, countIncludePad: false }),
      avgPool2dBackward(px, x.shape, pool),
      linear(lx, lw, lb),
    ];
    for (const [k, t] of Object.entries(inputs)) expect(bits(t.data), `${k} was modified`).toEqual(copies[k]);
    expect(x.shape).toEqual(xShapeCopy);
    expect(mp.indices).toEqual(indicesCopy);

    // Outputs are not views of the backend's memory, and later ops do not overwrite them.
    const memory = backend().heap.memory.buffer;
    const saved = outputs.map((o) => bits(o.data));
    for (const o of outputs) expect(o.data.buffer).not.toBe(memory);
    for (let i = 0; i < 3; i++) conv2d(tensor([1, 4, 9, 9], r), w, b, opts);
    outputs.forEach((o, i) => expect(bits(o.data)).toEqual(saved[i]));
  });
});
