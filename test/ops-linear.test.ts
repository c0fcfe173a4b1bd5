// linear forward on every backend against the reference, over feature counts around the SIMD width;
// and its two gradients through the backend's kernels (API.md exposes only the forward), run over
// the heap exactly as a layer would, against the reference linear_backward_input/weight.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { init, linear } from '../src/index.js';
import { backend } from '../src/runtime/backend.js';
import {
  BACKENDS, expectClose, f64, once, poisonHeap, randInt, refLinear, refLinearBackwardInput,
  refLinearBackwardWeight, rng, tensor, tolFor,
} from './helpers.js';

// N, inFeatures, outFeatures
const CASES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 4], [3, 4, 3], [1, 5, 8], [3, 8, 5], [1, 17, 17], [3, 17, 1], [1, 1, 17],
  [5, 33, 9], [2, 64, 10], [7, 100, 13], [3, 9, 4],
  // Several packed GEMM blocks in every dimension (rows by 128, depth by 256, columns by 2048).
  [133, 260, 2053],
];

function randomCases(seed: number, count: number): [number, number, number][] {
  const r = rng(seed);
  return Array.from({ length: count }, () => [randInt(r, 1, 9), randInt(r, 1, 70), randInt(r, 1, 40)]);
}

/** Runs one linear backward kernel of the backend in use over freshly put buffers. */
function backendLinearGrads(N: number, inF: number, outF: number, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const { heap, k } = backend();
  const before = heap.allocatedBytes;
  const px = heap.put(x);
  const pw = heap.put(w);
  const pdy = heap.put(dy);
  const pdx = heap.alloc(4 * N * inF);
  // The weight gradient accumulates: start it at a known non-zero value to check "+=".
  const dwStart = new Float32Array(outF * inF).fill(0.25);
  const pdw = heap.put(dwStart);
  const scratchBytes = k.linear_scratch_bytes(N, inF, outF);
  const scratch = scratchBytes > 0 ? heap.alloc(scratchBytes) : 0;
  k.linear_backward_input(pdx, pdy, pw, scratch, N, inF, outF);
  k.linear_backward_weight(pdw, px, pdy, scratch, N, inF, outF);
  const dx = heap.f32(pdx, N * inF).slice();
  const dw = heap.f32(pdw, outF * inF).slice();
  for (const p of [px, pw, pdy, pdx, pdw]) heap.release(p);
  if (scratch) heap.release(scratch);
  expect(heap.allocatedBytes).toBe(before);
  return { dx, dw };
}

/** Data and reference results per case, made once and shared by every backend. */
const CASE_DATA = [...CASES, ...randomCases(0x11ea2, 8)].map(([N, inF, outF]) => {
  const r = rng(N * 10007 + inF * 101 + outF);
  const x = tensor([N, inF], r);
  const w = tensor([outF, inF], r);
  const b = tensor([outF], r);
  const dy = tensor([N, outF], r);
  return {
    N, inF, outF, x, w, b, dy,
    y: once(() => refLinear(N, inF, outF, f64(x.data), f64(w.data), f64(b.data))),
    yNoBias: once(() => refLinear(N, inF, outF, f64(x.data), f64(w.data), null)),
    dx: once(() => refLinearBackwardInput(N, inF, outF, f64(dy.data), f64(w.data))),
    dw: once(() => refLinearBackwardWeight(N, inF, outF, f64(x.data), f64(dy.data))),
  };
});

describe.each(BACKENDS)('linear on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  describe.each(CASE_DATA)('linear N$N in $inF out $outF', (c) => {
    const { N, inF, outF, x, w, b, dy } = c;

    it('forward with bias', () => {
      const y = linear(x, w, b);
      expect(y.shape).toEqual([N, outF]);
      expectClose(y.data, c.y(), tolFor(inF + 1), 'y');
    });

    it('forward without bias', () => {
      const y = linear(x, w);
      expect(y.shape).toEqual([N, outF]);
      expectClose(y.data, c.yNoBias(), tolFor(inF), 'y');
      expectClose(linear(x, w, null).data, y.data, { atol: 0, rtol: 0 }, 'bias null');
    });

    it('backward input and weight (kernels), weight accumulating', () => {
      const { dx, dw } = backendLinearGrads(N, inF, outF, x.data, w.data, dy.data);
      expectClose(dx, c.dx(), tolFor(outF), 'dx');
      expectClose(dw, c.dw().map((v) => v + 0.25), tolFor(N + 1), 'dw');
    });
  });

  it('linear 2 → 3, by hand', () => {
    const x = { data: new Float32Array([1, 2]), shape: [1, 2] };
    const w = { data: new Float32Array([1, 0, 0, 1, 3, -1]), shape: [3, 2] };
    const y = linear(x, w, { data: new Float32Array([0.5, 0, -1]), shape: [3] });
    expect(y.shape).toEqual([1, 3]);
    expect(Array.from(y.data)).toEqual([1.5, 2, 0]);
  });
});
