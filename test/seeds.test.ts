// The worked examples of the two seed texts (shared/seeds/), checked by hand on every backend.
// Seed 000: a 3x3 kernel w1..w9 with stride 2 over a 5x5 input a1..a25 (row-major, no padding)
// gives z1..z4, and dL/dw_i sums a·dL/dz over every position where w_i was used. Seed 001: the
// input gradient is a transposed convolution with the flipped kernel, the bias gradient sums dZ,
// max-unpooling puts each dZ at its cached argmax, and average pooling spreads dZ / windowSize over
// its window, adding where windows overlap.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  avgPool2dBackward, conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, init, maxPool2d,
  maxPool2dBackward,
} from '../src/index.js';
import { BACKENDS, expectClose } from './helpers.js';

const EXACT = { atol: 0, rtol: 0 };
const t = (data: number[], shape: number[]) => ({ data: new Float32Array(data), shape });

// a_i = i, so every product below is exact in float32 and the sums can be compared exactly.
const A = Array.from({ length: 25 }, (_, i) => i + 1);
const Wt = [1, -1, 2, 0.5, 3, -2, 1, 0, -0.5];
const DZ = [1, -2, 3, 0.5];
const a = (i: number) => A[i - 1];
const w = (i: number) => Wt[i - 1];
const dz = (i: number) => DZ[i - 1];

describe.each(BACKENDS)('seed worked examples on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));

  const x = t(A, [1, 1, 5, 5]);
  const weight = t(Wt, [1, 1, 3, 3]);
  const dZ = t(DZ, [1, 1, 2, 2]);

  it('seed 000 forward: 3x3 stride 2 over 5x5 gives z1..z4 as the seed writes them', () => {
    const z = conv2d(x, weight, null, { stride: 2 });
    expect(z.shape).toEqual([1, 1, 2, 2]);
    const z1 = w(1) * a(1) + w(2) * a(2) + w(3) * a(3) + w(4) * a(6) + w(5) * a(7) + w(6) * a(8) + w(7) * a(11) + w(8) * a(12) + w(9) * a(13);
    const z2 = w(1) * a(3) + w(2) * a(4) + w(3) * a(5) + w(4) * a(8) + w(5) * a(9) + w(6) * a(10) + w(7) * a(13) + w(8) * a(14) + w(9) * a(15);
    const z3 = w(1) * a(11) + w(2) * a(12) + w(3) * a(13) + w(4) * a(16) + w(5) * a(17) + w(6) * a(18) + w(7) * a(21) + w(8) * a(22) + w(9) * a(23);
    const z4 = w(1) * a(13) + w(2) * a(14) + w(3) * a(15) + w(4) * a(18) + w(5) * a(19) + w(6) * a(20) + w(7) * a(23) + w(8) * a(24) + w(9) * a(25);
    expectClose(z.data, [z1, z2, z3, z4], EXACT, 'z');
  });

  it('seed 000 filter gradient: dL/dw1 = a1·dz1 + a3·dz2 + a11·dz3 + a13·dz4, dL/dw2 likewise', () => {
    const dw = conv2dBackwardFilter(x, dZ, [1, 1, 3, 3], { stride: 2 });
    expect(dw.shape).toEqual([1, 1, 3, 3]);
    const dw1 = a(1) * dz(1) + a(3) * dz(2) + a(11) * dz(3) + a(13) * dz(4);
    const dw2 = a(2) * dz(1) + a(4) * dz(2) + a(12) * dz(3) + a(14) * dz(4);
    expect(dw1).toBe(34.5); // 1 − 6 + 33 + 6.5
    expect(dw2).toBe(37); // 2 − 8 + 36 + 7
    expect(dw.data[0]).toBe(dw1);
    expect(dw.data[1]).toBe(dw2);
    // The same pattern for every weight: w_i at kernel (r, c) met a at (r, c) + each window origin.
    const used = [[1, 3, 11, 13], [2, 4, 12, 14], [3, 5, 13, 15], [6, 8, 16, 18], [7, 9, 17, 19],
      [8, 10, 18, 20], [11, 13, 21, 23], [12, 14, 22, 24], [13, 15, 23, 25]];
    expectClose(dw.data, used.map((idx) => idx.reduce((s, ai, j) => s + a(ai) * dz(j + 1), 0)), EXACT, 'dw');
  });

  it('seed 000: the filter gradient is the input convolved with dZ dilated by the stride, stride 1', () => {
    const dw = conv2dBackwardFilter(x, dZ, [1, 1, 3, 3], { stride: 2 });
    const viaConv = conv2d(x, dZ, null, { dilation: 2 });
    expect(viaConv.shape).toEqual([1, 1, 3, 3]);
    expectClose(dw.data, viaConv.data, EXACT, 'dw');
  });

  it('seed 001 bias gradient: the sum of dZ over positions', () => {
    expect(Array.from(conv2dBackwardBias(dZ).data)).toEqual([1 - 2 + 3 + 0.5]);
  });

  it('seed 001 input gradient: dL/da13 = w9·dz1 + w7·dz2 + w3·dz3 + w1·dz4 and the corners', () => {
    const dx = conv2dBackwardInput(dZ, weight, [1, 1, 5, 5], { stride: 2 });
    expect(dx.shape).toEqual([1, 1, 5, 5]);
    expect(dx.data[12]).toBe(w(9) * dz(1) + w(7) * dz(2) + w(3) * dz(3) + w(1) * dz(4));
    expect(dx.data[0]).toBe(w(1) * dz(1));
    expect(dx.data[2]).toBe(w(3) * dz(1) + w(1) * dz(2));
    expect(dx.data[24]).toBe(w(9) * dz(4));
  });

  it('seed 001 input gradient: the full convolution of stride-dilated dZ with the flipped kernel', () => {
    // Insert stride − 1 zeros between the dZ values, pad by k − 1 = 2, correlate with the kernel
    // rotated by 180 degrees.
    const dilated = [dz(1), 0, dz(2), 0, 0, 0, dz(3), 0, dz(4)];
    const padded = new Array(49).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) padded[(i + 2) * 7 + j + 2] = dilated[i * 3 + j];
    const flipped = [...Wt].reverse();
    const expected: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) s += padded[(i + u) * 7 + j + v] * flipped[u * 3 + v];
        expected.push(s);
      }
    }
    const dx = conv2dBackwardInput(dZ, weight, [1, 1, 5, 5], { stride: 2 });
    expectClose(dx.data, expected, EXACT, 'dx');
  });

  it('seed 000 max pooling 2x2 stride 2 on 4x4: output 2x2, gradient only to each maximum', () => {
    const xm = t([
      1, 5, 2, 0,
      3, 4, 8, 1,
      0, 2, 6, 7,
      9, 1, 3, 2,
    ], [1, 1, 4, 4]);
    const { output, indices } = maxPool2d(xm, { kernelSize: 2, stride: 2 });
    expect(output.shape).toEqual([1, 1, (4 - 2) / 2 + 1, (4 - 2) / 2 + 1]);
    expect(Array.from(output.data)).toEqual([5, 8, 9, 7]);
    expect(Array.from(indices)).toEqual([1, 6, 12, 11]);
    // Max-unpooling (seed 001): an empty mask with each dZ at its cached index.
    const dx = maxPool2dBackward(t([10, 20, 30, 40], [1, 1, 2, 2]), indices, [1, 1, 4, 4]);
    expect(Array.from(dx.data)).toEqual([0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 40, 30, 0, 0, 0]);
  });

  it('seed 001 max-unpooling with overlapping windows adds at a shared maximum', () => {
    const xm = t([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 1, 3, 3]);
    const { indices } = maxPool2d(xm, { kernelSize: 2, stride: 1 });
    expect(Array.from(indices)).toEqual([4, 4, 4, 4]);
    const dx = maxPool2dBackward(t([1, 2, 3, 4], [1, 1, 2, 2]), indices, [1, 1, 3, 3]);
    expect(Array.from(dx.data)).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
  });

  it('seed 001 average pooling 2x2: a gradient of 8 puts 2 in each of the 4 slots', () => {
    const dx = avgPool2dBackward(t([8], [1, 1, 1, 1]), [1, 1, 2, 2], { kernelSize: 2 });
    expect(Array.from(dx.data)).toEqual([2, 2, 2, 2]);
  });

  it('seed 001 average pooling 2x2 stride 1 on 3x3: overlapping windows add', () => {
    // dZ = [[8, 4], [12, 16]] spreads 2, 1, 3, 4 over the four overlapping 2x2 windows.
    const dx = avgPool2dBackward(t([8, 4, 12, 16], [1, 1, 2, 2]), [1, 1, 3, 3], { kernelSize: 2, stride: 1 });
    expect(Array.from(dx.data)).toEqual([
      2, 2 + 1, 1,
      2 + 3, 2 + 1 + 3 + 4, 1 + 4,
      3, 3 + 4, 4,
    ]);
  });
});
