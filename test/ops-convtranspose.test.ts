// convTranspose2d on every backend. The oracle is the reference conv2d_backward_input with the
// roles swapped (x plays dy, the transposed conv's output plays dx; the weight layout
// [Cin, Cout/g, kH, kW] is exactly conv's [Cout, Cin/g, kH, kW] seen from the other side), plus the
// bias. The output shape is checked against PyTorch's formula written out here by hand.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { convTranspose2d, init } from '../src/index.js';
import {
  BACKENDS, expectClose, f64, poisonHeap, randInt, refConvBackwardInput, rng, tensor, tolFor, type ConvGeom,
} from './helpers.js';

interface TCase {
  N: number; Cin: number; Cout: number; H: number; W: number; kH: number; kW: number;
  sH: number; sW: number; pH: number; pW: number; opH: number; opW: number; dH: number; dW: number; groups: number;
}

type P = number | [number, number];
const two = (v: P): [number, number] => (typeof v === 'number' ? [v, v] : v);

function tcase(N: number, Cin: number, Cout: number, hw: P, k: P, s: P = 1, p: P = 0, op: P = 0, d: P = 1, groups = 1): TCase {
  const [H, W] = two(hw);
  const [kH, kW] = two(k);
  const [sH, sW] = two(s);
  const [pH, pW] = two(p);
  const [opH, opW] = two(op);
  const [dH, dW] = two(d);
  return { N, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, opH, opW, dH, dW, groups };
}

/** PyTorch: (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1. */
const tOut = (size: number, k: number, s: number, p: number, op: number, d: number) => (size - 1) * s - 2 * p + d * (k - 1) + op + 1;

/** The conv2d whose input gradient this transposed convolution computes. */
function asConv(t: TCase): ConvGeom {
  return {
    N: t.N, Cin: t.Cout, Cout: t.Cin,
    H: tOut(t.H, t.kH, t.sH, t.pH, t.opH, t.dH), W: tOut(t.W, t.kW, t.sW, t.pW, t.opW, t.dW),
    Hout: t.H, Wout: t.W, kH: t.kH, kW: t.kW, sH: t.sH, sW: t.sW, pH: t.pH, pW: t.pW, dH: t.dH, dW: t.dW,
    groups: t.groups,
  };
}

function name(t: TCase): string {
  const pt = (a: number, b: number, sep = ',') => (a === b ? `${a}` : `${a}${sep}${b}`);
  return (
    `convTranspose2d N${t.N} C${t.Cin}→${t.Cout} ${t.H}x${t.W} ${t.kH}x${t.kW} stride ${pt(t.sH, t.sW)} ` +
    `pad ${pt(t.pH, t.pW)} outputPadding ${pt(t.opH, t.opW)} dilation ${pt(t.dH, t.dW)} groups ${t.groups}`
  );
}

const options = (t: TCase) => ({
  stride: [t.sH, t.sW] as [number, number],
  padding: [t.pH, t.pW] as [number, number],
  outputPadding: [t.opH, t.opW] as [number, number],
  dilation: [t.dH, t.dW] as [number, number],
  groups: t.groups,
});

// N, Cin, Cout, [H, W], kernel, stride, padding, outputPadding, dilation, groups
const CASES: TCase[] = [
  tcase(1, 1, 1, 3, 3, 2, 1, 1),
  tcase(1, 3, 4, 5, 3),
  tcase(3, 4, 8, [4, 5], 3, 2, 1, 1),
  tcase(1, 8, 5, 7, 2, 2),
  tcase(1, 5, 17, 5, 5, 2, 2, 1),
  tcase(1, 4, 4, 6, 3, 2, 1, 0, 2, 2),
  tcase(3, 8, 8, 5, 3, 2, 1, 1, 1, 8),
  tcase(1, 17, 3, [3, 6], [1, 3], [1, 2], [0, 1], [0, 1]),
  tcase(1, 6, 9, 4, [5, 3], [3, 1], [2, 0], [2, 0], 1, 3),
  tcase(1, 4, 4, 5, 3, 1, 1, 1, 2),
  tcase(1, 3, 8, 7, 7, 3, 3, 2),
  tcase(2, 16, 16, 5, 1, 2, 0, 1, 1, 4),
  tcase(1, 1, 17, [1, 9], [1, 5], [1, 3], [0, 2], [0, 2]),
  tcase(3, 5, 3, [5, 3], [2, 3], [2, 3], 0, [1, 2], [1, 2]),
  // Depthwise at stride 1 with output padding (dilation allows it): more rows and columns than the
  // conv's forward of this size would have.
  tcase(1, 2, 2, 8, 3, 1, 1, [1, 0], 2, 2),
  tcase(2, 3, 3, [5, 6], [2, 3], 1, [1, 2], [1, 2], 3, 3),
  // Depthwise 3×3 at stride 2, padding 1, outputs 7 or more wide: gathered by rows and column
  // phases (assembly/depthwise-3x3.ts, input3x3s2), odd and even output heights and widths.
  tcase(2, 4, 4, [4, 6], 3, 2, 1, [0, 1], 1, 4),
  tcase(1, 3, 3, [6, 5], 3, 2, 1, [1, 0], 1, 3),
  // Batches that the API copies in by chunks of about 1 MB of x (src/ops/run.ts), the bias added
  // chunk by chunk: 2 images, then 1 (400 KB of x an image); depthwise, 1 at a time (600 KB).
  tcase(3, 64, 8, 40, 3, 2, 1, 1),
  tcase(3, 96, 96, 40, 3, 2, 1, 1, 1, 96),
];

function randomCases(seed: number, count: number): TCase[] {
  const r = rng(seed);
  const out: TCase[] = [];
  const chans = [1, 3, 4, 5, 8];
  while (out.length < count) {
    const groups = [1, 1, 2][randInt(r, 0, 2)];
    const s = [randInt(r, 1, 3), randInt(r, 1, 3)] as [number, number];
    const d = [randInt(r, 1, 2), randInt(r, 1, 2)] as [number, number];
    const k = [[1, 2, 3, 5][randInt(r, 0, 3)], [1, 2, 3, 5][randInt(r, 0, 3)]] as [number, number];
    const p = [randInt(r, 0, 2), randInt(r, 0, 2)] as [number, number];
    // outputPadding below max(stride, dilation), PyTorch's rule.
    const op = [randInt(r, 0, Math.max(s[0], d[0]) - 1), randInt(r, 0, Math.max(s[1], d[1]) - 1)] as [number, number];
    const t = tcase(randInt(r, 1, 3), groups * chans[randInt(r, 0, 4)], groups * chans[randInt(r, 0, 4)],
      [randInt(r, 1, 7), randInt(r, 1, 7)], k, s, p, op, d, groups);
    const c = asConv(t);
    if (c.H >= 1 && c.W >= 1) out.push(t);
  }
  return out;
}

describe.each(BACKENDS)('convTranspose2d on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  describe.each([...CASES, ...randomCases(0x7a5, 10)].map((t, i) => ({ t, i, n: name(t) })))('$n', ({ t, i }) => {
    const r = rng(2000 + i);
    const c = asConv(t);
    const x = tensor([t.N, t.Cin, t.H, t.W], r);
    const w = tensor([t.Cin, t.Cout / t.groups, t.kH, t.kW], r);
    const b = tensor([t.Cout], r);
    const tol = tolFor((t.Cin / t.groups) * t.kH * t.kW + 1);
    const outShape = [t.N, t.Cout, c.H, c.W];

    it('shape follows (in − 1)·s − 2p + d(k − 1) + op + 1', () => {
      expect(convTranspose2d(x, w, null, options(t)).shape).toEqual(outShape);
    });

    it('without bias equals the conv2d input gradient with x as dy', () => {
      const y = convTranspose2d(x, w, null, options(t));
      expectClose(y.data, refConvBackwardInput(c, f64(x.data), f64(w.data)), tol, 'y');
    });

    it('with bias adds it to every position of its channel', () => {
      const y = convTranspose2d(x, w, b, options(t));
      const expected = refConvBackwardInput(c, f64(x.data), f64(w.data));
      const hw = c.H * c.W;
      for (let i = 0; i < expected.length; i++) expected[i] += b.data[Math.floor(i / hw) % t.Cout];
      expectClose(y.data, expected, tol, 'y');
    });
  });

  it.each([
    // in, kernel, stride, padding, outputPadding, dilation → out, worked out by hand
    [3, 3, 2, 1, 1, 1, 6],
    [5, 4, 2, 1, 0, 1, 10],
    [4, 3, 1, 0, 0, 1, 6],
    [2, 3, 3, 0, 2, 1, 8],
    [4, 3, 1, 0, 0, 2, 8],
    [4, 3, 1, 1, 1, 2, 7],
  ])('shape by hand: in %i kernel %i stride %i pad %i outputPadding %i dilation %i gives %i', (n, k, s, p, op, d, out) => {
    const x = { data: new Float32Array(n * n), shape: [1, 1, n, n] };
    const w = { data: new Float32Array(k * k), shape: [1, 1, k, k] };
    const y = convTranspose2d(x, w, null, { stride: s, padding: p, outputPadding: op, dilation: d });
    expect(y.shape).toEqual([1, 1, out, out]);
  });

  it('convTranspose2d 2x2 kernel stride 2, by hand: each input pastes a scaled copy of the kernel', () => {
    const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 2, 2] };
    const w = { data: new Float32Array([1, 10, 100, 1000]), shape: [1, 1, 2, 2] };
    const y = convTranspose2d(x, w, null, { stride: 2 });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([
      1, 10, 2, 20,
      100, 1000, 200, 2000,
      3, 30, 4, 40,
      300, 3000, 400, 4000,
    ]);
  });

  it('convTranspose2d 1x2 kernel stride 1, by hand: overlapping pastes add', () => {
    const x = { data: new Float32Array([1, 2]), shape: [1, 1, 1, 2] };
    const w = { data: new Float32Array([1, 1]), shape: [1, 1, 1, 2] };
    const y = convTranspose2d(x, w, { data: new Float32Array([0.5]), shape: [1] });
    expect(y.shape).toEqual([1, 1, 1, 3]);
    expect(Array.from(y.data)).toEqual([1.5, 3.5, 2.5]);
  });

  it('convTranspose2d weights [Cin, Cout/g, kH, kW]: 2 → 3 channels, 1x1 kernel', () => {
    // y[o] = Σ_i x[i] · w[i, o]: the weight is indexed input channel first.
    const x = { data: new Float32Array([1, 2]), shape: [1, 2, 1, 1] };
    const w = { data: new Float32Array([1, 2, 3, 10, 20, 30]), shape: [2, 3, 1, 1] };
    const y = convTranspose2d(x, w);
    expect(y.shape).toEqual([1, 3, 1, 1]);
    expect(Array.from(y.data)).toEqual([21, 42, 63]);
  });
});
