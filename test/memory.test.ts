// Memory growth and leaks. Growing a WebAssembly.Memory detaches every typed-array view made over
// its old buffer, so an op that made a view before an allocation that grows memory would read or
// write nothing. Here a small conv runs, then a large one forces the memory to grow, then the small
// one runs again: every answer must still match the reference. And every op must give back what it
// allocated on the heap.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  avgPool2d, avgPool2dBackward, conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, convTranspose2d,
  init, linear, maxPool2d, maxPool2dBackward,
} from '../src/index.js';
import { backend } from '../src/runtime/backend.js';
import {
  BACKENDS, conv, convOptions, convSums, expectClose, f64, refConvBackwardFilter, refConvBackwardInput, refConvForward,
  rng, tensor, tolFor, wShape, xShape, yShape, type ConvGeom,
} from './helpers.js';

function checkConv(g: ConvGeom, seed: number): void {
  const r = rng(seed);
  const x = tensor(xShape(g), r);
  const w = tensor(wShape(g), r);
  const dy = tensor(yShape(g), r);
  const sums = convSums(g);
  expectClose(conv2d(x, w, null, convOptions(g)).data, refConvForward(g, f64(x.data), f64(w.data), null), tolFor(sums.forward), 'y');
  expectClose(conv2dBackwardInput(dy, w, xShape(g), convOptions(g)).data, refConvBackwardInput(g, f64(dy.data), f64(w.data)), tolFor(sums.input), 'dx');
  expectClose(conv2dBackwardFilter(x, dy, wShape(g), convOptions(g)).data, refConvBackwardFilter(g, f64(x.data), f64(dy.data)), tolFor(sums.filter), 'dw');
}

it('a view made before WebAssembly.Memory grows is detached after (why views are made at use)', () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new Float32Array(memory.buffer, 0, 4);
  memory.grow(1);
  expect(view.length).toBe(0);
  expect(new Float32Array(memory.buffer, 0, 4).length).toBe(4);
});

describe.each(BACKENDS)('memory on the %s backend', (name) => {
  beforeAll(() => init({ backend: name }));

  it('small conv, then a conv that grows memory, then the small conv again: all right', () => {
    const small = conv(2, 3, 5, [9, 7], 3, 2, 1);
    // 16 channels of 128x128: input and output alone (1 MiB each) exceed the 2 MiB a fresh heap
    // starts with, on every backend (the 'js' one needs no im2col scratch).
    const large = conv(1, 16, 16, 128, 3, 1, 1);
    checkConv(small, 1);
    const before = backend().heap.memory.buffer.byteLength;
    checkConv(large, 2);
    expect(backend().heap.memory.buffer.byteLength).toBeGreaterThan(before);
    checkConv(small, 1);
  });

  it('an op whose inputs fit but whose output alone exceeds the current memory', () => {
    const current = backend().heap.memory.buffer.byteLength;
    // A 1x1 conv from 2 to Cout channels of 64x64, with Cout chosen so the output is larger than
    // the whole memory as it stands now.
    const g = conv(1, 2, Math.ceil(current / (4 * 64 * 64)) + 1, 64, 1);
    checkConv(g, 3);
    expect(backend().heap.memory.buffer.byteLength).toBeGreaterThan(current);
    checkConv(conv(2, 3, 5, [9, 7], 3, 2, 1), 1);
  });

  it('every op gives back all it allocated (heap.allocatedBytes returns to its value)', () => {
    const heap = backend().heap;
    const r = rng(4);
    const x = tensor([2, 4, 9, 9], r);
    const w = tensor([6, 2, 3, 3], r);
    const b = tensor([6], r);
    const opts = { stride: 2, padding: 1, groups: 2 };
    const y = conv2d(x, w, b, opts);
    const calls: [string, () => unknown][] = [
      ['conv2d', () => conv2d(x, w, b, opts)],
      ['conv2dBackwardInput', () => conv2dBackwardInput(y, w, x.shape, opts)],
      ['conv2dBackwardFilter', () => conv2dBackwardFilter(x, y, w.shape, opts)],
      ['conv2dBackwardBias', () => conv2dBackwardBias(y)],
      ['convTranspose2d', () => convTranspose2d(y, tensor([6, 2, 3, 3], r), tensor([4], r), { ...opts, outputPadding: 0 })],
      ['maxPool2d', () => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })],
      ['maxPool2dBackward', () => {
        const { output, indices } = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
        return maxPool2dBackward(output, indices, x.shape);
      }],
      ['avgPool2d', () => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false })],
      ['avgPool2dBackward', () => avgPool2dBackward(tensor([2, 4, 5, 5], r), x.shape, { kernelSize: 3, stride: 2, padding: 1 })],
      ['linear', () => linear(tensor([3, 7], r), tensor([5, 7], r), tensor([5], r))],
    ];
    for (const [what, call] of calls) {
      const before = heap.allocatedBytes;
      call();
      expect(heap.allocatedBytes, what).toBe(before);
    }
  });

  it('outputs own their memory: not views of the heap or of a shared pool, untouched by later calls', () => {
    // Large outputs (4096 elements and more) take the unzeroed allocation under Node.
    const r = rng(7);
    const x = tensor([2, 8, 48, 48], r);
    const first = maxPool2d(x, { kernelSize: 2 });
    const kept = [Float32Array.from(first.output.data), Int32Array.from(first.indices)];
    const y = avgPool2d(x, { kernelSize: 2 });
    maxPool2d(tensor([2, 8, 48, 48], r), { kernelSize: 2 });
    for (const a of [first.output.data, first.indices, y.data]) {
      expect(a.length).toBeGreaterThanOrEqual(4096);
      expect(a.buffer).not.toBe(backend().heap.memory.buffer);
      expect([a.byteOffset, a.buffer.byteLength]).toEqual([0, a.length * 4]);
    }
    expect(Array.from(first.output.data)).toEqual(Array.from(kept[0]));
    expect(Array.from(first.indices)).toEqual(Array.from(kept[1]));
  });

  it('an op that throws a ShapeError leaves the heap as it was and the library usable', () => {
    const heap = backend().heap;
    const r = rng(5);
    const before = heap.allocatedBytes;
    expect(() => conv2d(tensor([1, 3, 5, 5], r), tensor([4, 2, 3, 3], r))).toThrow(RangeError);
    expect(() => maxPool2dBackward(tensor([1, 1, 2, 2], r), new Int32Array(3), [1, 1, 4, 4])).toThrow(RangeError);
    expect(heap.allocatedBytes).toBe(before);
    checkConv(conv(1, 3, 4, 5, 3), 6);
  });
});
