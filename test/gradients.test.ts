// Gradients, two ways.
// 1. Central finite differences on the float64 reference kernels: for a random linear functional
//    L = <r, f(x)>, every element of the reference backward must match (L(x + h·e_i) − L(x − h·e_i)) / 2h.
// 2. Adjoint identities on every backend through the public ops: <dY, f(x)> = <f'(dY), x> for the
//    linear maps conv2d (in x and in w), convTranspose2d, average pooling, and max pooling with its
//    indices fixed. They hold for any correct backward whatever its summation order.
// Also the two known TensorFlow.js pooling gradient bugs, shown not to happen here.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../src/reference/index.js';
import {
  avgPool2d, avgPool2dBackward, conv2d, conv2dBackwardFilter, conv2dBackwardInput, convTranspose2d, init, maxPool2d,
  maxPool2dBackward,
} from '../src/index.js';
import {
  BACKENDS, absDot, conv, convArgs, convName, convOptions, dot, expectClose, f64, pool, poolInShape, poolName,
  poolOptions, poolOutShape, refAvgPool, refAvgPoolBackward, refBiasGrad, refConvBackwardFilter, refConvBackwardInput,
  refConvForward, refLinear, refLinearBackwardInput, refLinearBackwardWeight, refMaxPool, refMaxPoolBackward, rng,
  tensor, wShape, xShape, yShape, type ConvGeom, type PoolGeom,
} from './helpers.js';

const H_STEP = 1e-4;

/** Central differences of the scalar function f at v, one element at a time (v is restored). */
function numericGrad(f: (v: Float64Array) => number, v: Float64Array, h = H_STEP): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + h;
    const up = f(v);
    v[i] = keep - h;
    const down = f(v);
    v[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

const rand64 = (n: number, r: () => number) => Float64Array.from({ length: n }, () => 2 * r() - 1);

/** Float64 finite differences of functions that are linear or piecewise linear away from kinks. */
const FD_TOL = { atol: 1e-6, rtol: 1e-6 };

const CONV_FD: ConvGeom[] = [
  conv(1, 1, 1, 5, 3),
  conv(2, 3, 4, [6, 7], 3, 2, 1),
  conv(1, 4, 4, 7, 3, 1, 2, 2, 2),
  conv(1, 3, 6, [5, 8], [2, 3], [2, 3], [1, 2], [2, 1], 3),
  conv(2, 4, 4, 5, 3, 1, 1, 1, 4),
  conv(1, 2, 3, 4, 1, 2, 3),
];

const POOL_FD: PoolGeom[] = [
  pool(1, 1, 4, 2),
  pool(2, 3, 7, 3, 2, 1),
  pool(1, 2, [6, 5], [3, 2], [1, 2], [1, 1]),
  pool(1, 2, 5, 3, 1, 1),
  pool(1, 1, 7, 3, 2, 1, 2),
];

/** Distinct values spaced 0.01 apart in random order: no max-pool tie lies within H_STEP. */
function spacedValues(n: number, r: () => number, offset: number): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => offset + 0.01 * i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

describe('finite differences on the float64 reference', () => {
  describe.each(CONV_FD.map((g, i) => ({ g, i, n: convName(g) })))('$n', ({ g, i }) => {
    const r = rng(5000 + i);
    const x = rand64(g.N * g.Cin * g.H * g.W, r);
    const w = rand64(g.Cout * (g.Cin / g.groups) * g.kH * g.kW, r);
    const b = rand64(g.Cout, r);
    const rr = rand64(g.N * g.Cout * g.Hout * g.Wout, r);

    it('conv2d backward input, filter and bias', () => {
      expectClose(refConvBackwardInput(g, rr, w), numericGrad((v) => dot(rr, refConvForward(g, v, w, b)), x), FD_TOL, 'dx');
      expectClose(refConvBackwardFilter(g, x, rr), numericGrad((v) => dot(rr, refConvForward(g, x, v, b)), w), FD_TOL, 'dw');
      expectClose(refBiasGrad(rr, g.N, g.Cout, g.Hout * g.Wout), numericGrad((v) => dot(rr, refConvForward(g, x, w, v)), b), FD_TOL, 'db');
    });

    it('convTranspose2d (conv2d backward input read as a forward): gradients in x, w and bias', () => {
      // Transposed conv with this geometry: input t (shaped like conv's y), output shaped like conv's x.
      const t = rand64(g.N * g.Cout * g.Hout * g.Wout, r);
      const rt = rand64(g.N * g.Cin * g.H * g.W, r);
      const bt = rand64(g.Cin, r);
      const forward = (tv: Float64Array, wv: Float64Array, bv: Float64Array) => {
        const y = refConvBackwardInput(g, tv, wv);
        ref.add_channel_bias(y, bv, g.N, g.Cin, g.H * g.W);
        return dot(rt, y);
      };
      // The transposed conv's input gradient is the conv forward; its weight gradient is the conv
      // filter gradient with the transposed conv's output gradient in the role of x.
      expectClose(refConvForward(g, rt, w, null), numericGrad((v) => forward(v, w, bt), t), FD_TOL, 'dt');
      expectClose(refConvBackwardFilter(g, rt, t), numericGrad((v) => forward(t, v, bt), w), FD_TOL, 'dw');
      expectClose(refBiasGrad(rt, g.N, g.Cin, g.H * g.W), numericGrad((v) => forward(t, w, v), bt), FD_TOL, 'db');
    });
  });

  describe.each(POOL_FD.map((g, i) => ({ g, i, n: poolName(g, 'pool') })))('$n', ({ g, i }) => {
    const r = rng(6000 + i);
    const n = g.N * g.C * g.H * g.W;
    const rr = rand64(g.N * g.C * g.Hout * g.Wout, r);

    it.each([0.5, -100])('maxPool2d backward, values offset %f (all negative when < 0)', (offset) => {
      const x = spacedValues(n, r, offset);
      const { indices } = refMaxPool(g, x);
      const expected = refMaxPoolBackward(g, rr, indices);
      expectClose(expected, numericGrad((v) => dot(rr, refMaxPool(g, v).y), x), FD_TOL, 'dx');
    });

    // Average pooling has no dilation.
    if (g.dH === 1 && g.dW === 1) it.each([true, false])('avgPool2d backward, countIncludePad %s', (cip) => {
      const x = rand64(n, r);
      expectClose(refAvgPoolBackward(g, rr, cip), numericGrad((v) => dot(rr, refAvgPool(g, v, cip)), x), FD_TOL, 'dx');
    });
  });

  it.each([[1, 1, 1], [3, 5, 4], [2, 17, 3]])('linear N%i in %i out %i: backward input and weight', (N, inF, outF) => {
    const r = rng(7000 + inF);
    const x = rand64(N * inF, r);
    const w = rand64(outF * inF, r);
    const rr = rand64(N * outF, r);
    expectClose(refLinearBackwardInput(N, inF, outF, rr, w), numericGrad((v) => dot(rr, refLinear(N, inF, outF, v, w, null)), x), FD_TOL, 'dx');
    expectClose(refLinearBackwardWeight(N, inF, outF, x, rr), numericGrad((v) => dot(rr, refLinear(N, inF, outF, x, v, null)), w), FD_TOL, 'dw');
  });
});

const EPS32 = 2 ** -23;

/** |lhs − rhs| within float32 rounding of sums of `k` terms, against the absolute scale. */
function expectAdjoint(lhs: number, rhs: number, scale: number, k: number): void {
  const tol = 4 * EPS32 * Math.max(k, 4) * scale + 1e-30;
  if (!(Math.abs(lhs - rhs) <= tol)) {
    throw new Error(`adjoint identity fails: ${lhs} vs ${rhs} (|diff| ${Math.abs(lhs - rhs)}, tolerance ${tol})`);
  }
}

const abs64 = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

const CONV_ADJ: ConvGeom[] = [
  conv(2, 3, 4, [7, 9], 3, 2, 1),
  conv(1, 5, 8, 11, 5, 1, 2, 2),
  conv(3, 8, 8, [9, 6], 3, 2, 1, 1, 8),
  conv(1, 17, 5, 6, [2, 3], [3, 1], [0, 3]),
  conv(1, 4, 6, 13, 7, 3, 3, 1, 2),
];

const POOL_ADJ: PoolGeom[] = [
  pool(2, 3, 7, 3, 2, 1),
  pool(1, 5, [9, 8], [3, 2], 1, [1, 1]),
  pool(1, 4, 10, 5, 2, 2),
  pool(3, 1, [6, 7], 2, 1, 1),
  pool(1, 17, 5, [3, 5], [2, 1], [1, 2]),
];

describe.each(BACKENDS)('adjoint identities on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));

  describe.each(CONV_ADJ.map((g, i) => ({ g, i, n: convName(g) })))('$n', ({ g, i }) => {
    const r = rng(8000 + i);
    const x = tensor(xShape(g), r);
    const w = tensor(wShape(g), r);
    const dy = tensor(yShape(g), r);
    const scale = dot(abs64(dy.data), refConvForward(g, abs64(x.data), abs64(w.data), null));

    it('<dY, conv2d(x, w)> = <conv2dBackwardInput(dY, w), x> = <conv2dBackwardFilter(x, dY), w>', () => {
      const lhs = dot(dy.data, conv2d(x, w, null, convOptions(g)).data);
      const dx = conv2dBackwardInput(dy, w, xShape(g), convOptions(g));
      const dw = conv2dBackwardFilter(x, dy, wShape(g), convOptions(g));
      const k = (g.Cin / g.groups) * g.kH * g.kW;
      expectAdjoint(lhs, dot(dx.data, x.data), scale, k);
      expectAdjoint(lhs, dot(dw.data, w.data), scale, g.N * g.Hout * g.Wout);
    });

    it('<dX, convTranspose2d(dY, w)> = <conv2d(dX, w), dY>', () => {
      // convTranspose2d with conv's geometry maps y-shaped tensors to x-shaped ones; the output
      // padding makes up what floor mode dropped, so the shapes line up exactly.
      const opH = (g.H + 2 * g.pH - g.dH * (g.kH - 1) - 1) % g.sH;
      const opW = (g.W + 2 * g.pW - g.dW * (g.kW - 1) - 1) % g.sW;
      const y = convTranspose2d(dy, w, null, { ...convOptions(g), outputPadding: [opH, opW] });
      expect(y.shape).toEqual(xShape(g));
      const dX = tensor(xShape(g), r);
      const lhs = dot(dX.data, y.data);
      const rhs = dot(conv2d(dX, w, null, convOptions(g)).data, dy.data);
      expectAdjoint(lhs, rhs, dot(abs64(dy.data), refConvForward(g, abs64(dX.data), abs64(w.data), null)), (g.Cin / g.groups) * g.kH * g.kW);
    });
  });

  describe.each(POOL_ADJ.map((g, i) => ({ g, i, n: poolName(g, 'pool') })))('$n', ({ g, i }) => {
    const r = rng(9000 + i);
    const x = tensor(poolInShape(g), r);
    const dy = tensor(poolOutShape(g), r);

    it.each([true, false])('<dY, avgPool2d(x)> = <avgPool2dBackward(dY), x>, countIncludePad %s', (cip) => {
      const opts = { ...poolOptions(g), countIncludePad: cip };
      const lhs = dot(dy.data, avgPool2d(x, opts).data);
      const rhs = dot(avgPool2dBackward(dy, poolInShape(g), opts).data, x.data);
      expectAdjoint(lhs, rhs, dot(abs64(dy.data), refAvgPool(g, abs64(x.data), cip)), g.kH * g.kW);
    });

    it('<dY, maxPool2d(x)> = <maxPool2dBackward(dY, indices), x>', () => {
      const { output, indices } = maxPool2d(x, poolOptions(g));
      const lhs = dot(dy.data, output.data);
      const rhs = dot(maxPool2dBackward(dy, indices, poolInShape(g)).data, x.data);
      expectAdjoint(lhs, rhs, absDot(dy.data, output.data), g.kH * g.kW);
    });
  });

  describe('TensorFlow.js bug 1 does not happen: average pooling with padding is adjoint', () => {
    // Padding on every side and overlapping windows, so border windows have fewer in-bounds
    // elements than the kernel size; both divisors.
    const g = pool(1, 1, 5, 3, 1, 1);
    it.each([true, false])('avgPool2d 3x3 stride 1 pad 1 on 5x5, countIncludePad %s', (cip) => {
      const r = rng(31);
      const x = tensor(poolInShape(g), r);
      const dy = tensor(poolOutShape(g), r);
      const opts = { ...poolOptions(g), countIncludePad: cip };
      const dx = avgPool2dBackward(dy, poolInShape(g), opts);
      expectAdjoint(dot(dy.data, avgPool2d(x, opts).data), dot(dx.data, x.data), dot(abs64(dy.data), refAvgPool(g, abs64(x.data), cip)), 9);
      expectClose(dx.data, refAvgPoolBackward(g, f64(dy.data), cip), { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  });

  describe('TensorFlow.js bug 2 does not happen: all-negative max-pool windows route their gradient', () => {
    it('maxPool2d 2x2 stride 2 pad 1 on a 3x3 all-negative plane, by hand', () => {
      // Window (0,0) holds only x[0][0] (the rest is padding); (0,1) holds x[0][1], x[0][2];
      // (1,0) holds x[1][0], x[2][0]; (1,1) holds x[1][1], x[1][2], x[2][1], x[2][2].
      const x = { data: new Float32Array([-5, -3, -4, -2, -9, -1, -7, -6, -8]), shape: [1, 1, 3, 3] };
      const { output, indices } = maxPool2d(x, { kernelSize: 2, stride: 2, padding: 1 });
      expect(Array.from(output.data)).toEqual([-5, -3, -2, -1]);
      expect(Array.from(indices)).toEqual([0, 1, 3, 5]);
      const dx = maxPool2dBackward({ data: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 2, 2] }, indices, [1, 1, 3, 3]);
      expect(Array.from(dx.data)).toEqual([1, 2, 0, 3, 0, 4, 0, 0, 0]);
    });

    it.each([
      pool(2, 3, 7, 3, 2, 1),
      pool(1, 5, [6, 9], 2, 2, 1),
      pool(1, 4, 8, [3, 2], [1, 2], [1, 1]),
      pool(1, 2, 9, 3, 2, 1, 2),
    ])('maxPool2d all values in [-2, -1) with padding matches the reference: %o', (g) => {
      const r = rng(77);
      const x = tensor(poolInShape(g), r);
      for (let i = 0; i < x.data.length; i++) x.data[i] = -1.5 + 0.5 * x.data[i];
      const dy = tensor(poolOutShape(g), r);
      const opts = { ...poolOptions(g), dilation: [g.dH, g.dW] as [number, number] };
      const { output, indices } = maxPool2d(x, opts);
      const expected = refMaxPool(g, f64(x.data));
      expectClose(output.data, expected.y, { atol: 0, rtol: 0 }, 'y');
      expect(Array.from(indices)).toEqual(Array.from(expected.indices));
      const dx = maxPool2dBackward(dy, indices, poolInShape(g));
      expectClose(dx.data, refMaxPoolBackward(g, f64(dy.data), expected.indices), { atol: 1e-6, rtol: 1e-6 }, 'dx');
      // Every output's gradient arrives somewhere: nothing is dropped.
      expect(Math.abs(dx.data.reduce((s, v) => s + v, 0) - dy.data.reduce((s, v) => s + v, 0))).toBeLessThan(1e-4);
    });
  });
});
