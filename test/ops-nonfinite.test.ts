// NaN and ±Infinity through every functional op on the WASM backends, against the float64
// reference kernels, over seeded random geometries (dense, grouped, depthwise, one input channel;
// rows up to 40 wide, past the SIMD tiles and their overlapping last groups). Each case puts NaN,
// +Infinity and −Infinity into one argument at a time, at random places and at the edges (first and
// last element, a row's last column, a plane's last row), and every output must hold NaN and each
// infinity exactly where the reference's does, agree elsewhere within float32 rounding, and leave
// nothing behind: the same call with clean data afterwards matches too. (A sweep of some 70,000
// such cases per backend found no mismatch; these keep it that way.)
import { beforeAll, beforeEach, describe, it } from 'vitest';
import {
  avgPool2d, avgPool2dBackward, conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput,
  init, linear, maxPool2d, maxPool2dBackward,
} from '../src/index.js';
import {
  WASM_BACKENDS, conv, convName, convOptions, convSums, expectClose, expectSameInts, f64, poisonHeap,
  pool, poolInShape, poolName, poolOptions, randInt, refAvgPool, refAvgPoolBackward, refBiasGrad,
  refConvBackwardFilter, refConvBackwardInput, refConvForward, refLinear, refMaxPool, refMaxPoolBackward,
  rng, tensor, tolFor, wShape, xShape, yShape, type ConvGeom, type PoolGeom, type Tensor4,
} from './helpers.js';

const CHANNELS = [1, 3, 4, 5, 8, 17];

function convCases(seed: number, count: number): ConvGeom[] {
  const r = rng(seed);
  const out: ConvGeom[] = [];
  const k = () => [1, 2, 3, 5][randInt(r, 0, 3)];
  while (out.length < count) {
    const kind = randInt(r, 0, 3); // dense, two groups, depthwise, one input channel
    const c = CHANNELS[randInt(r, 1, 5)];
    const Cin = kind === 3 ? 1 : kind === 1 ? 2 * c : c;
    const groups = kind === 1 ? 2 : kind === 2 ? Cin : 1;
    const Cout = kind === 2 ? Cin * randInt(r, 1, 2) : groups * CHANNELS[randInt(r, 0, 5)];
    const g = conv(randInt(r, 1, 3), Cin, Cout, [randInt(r, 1, 16), randInt(r, 1, 40)], [k(), k()],
      [randInt(r, 1, 3), randInt(r, 1, 3)], [randInt(r, 0, 3), randInt(r, 0, 3)],
      [randInt(r, 1, 2), randInt(r, 1, 2)], groups);
    if (g.Hout >= 1 && g.Wout >= 1) out.push(g);
  }
  return out;
}

function poolCases(seed: number, count: number): PoolGeom[] {
  const r = rng(seed);
  const out: PoolGeom[] = [];
  while (out.length < count) {
    const kH = randInt(r, 1, 4), kW = randInt(r, 1, 4);
    const g = pool(randInt(r, 1, 3), CHANNELS[randInt(r, 0, 5)], [randInt(r, 1, 16), randInt(r, 1, 40)], [kH, kW],
      [randInt(r, 1, 3), randInt(r, 1, 3)], [randInt(r, 0, kH >> 1), randInt(r, 0, kW >> 1)],
      [randInt(r, 1, 2), randInt(r, 1, 2)]);
    if (g.Hout >= 1 && g.Wout >= 1) out.push(g);
  }
  return out;
}

const NON_FINITE = [NaN, Infinity, -Infinity];

/** t with four non-finite values: two at random places, two at edges of its rows and planes. */
function poisoned(t: Tensor4, r: () => number): Tensor4 {
  const d = t.data.slice();
  const W = t.shape[t.shape.length - 1], H = t.shape.length > 1 ? t.shape[t.shape.length - 2] : 1;
  const rows = d.length / W, planes = rows / H;
  const lastRow = (randInt(r, 0, planes - 1) * H + H - 1) * W;
  const edges = [0, d.length - 1, randInt(r, 0, rows - 1) * W + W - 1, lastRow + randInt(r, 0, W - 1)];
  const anywhere = () => randInt(r, 0, d.length - 1);
  const spots = [anywhere(), anywhere(), edges[randInt(r, 0, 3)], edges[randInt(r, 0, 3)]];
  for (const i of spots) d[i] = NON_FINITE[randInt(r, 0, 2)];
  return { data: d, shape: t.shape };
}

/** Runs `check` on the clean arguments with each one in turn poisoned, then on the clean ones. */
function eachPoisoned<T extends Record<string, Tensor4>>(
  clean: T, seed: number, check: (args: T, what: string) => void,
): void {
  const r = rng(seed);
  for (const name of Object.keys(clean)) check({ ...clean, [name]: poisoned(clean[name], r) }, `${name} poisoned`);
  check(clean, 'clean, after');
}

const EXACT = { atol: 0, rtol: 0 };

describe.each(WASM_BACKENDS)('non-finite values on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  // Loops rather than it.each, whose $-titles vitest cuts at 40 characters.
  // Last, the depthwise 3×3 kernels that read rows in place: at stride 2 the forward (forward3x3s2),
  // with and without an overlapping last group, the filter gradient, and the input gradient
  // gathered (input3x3s2) unless a weight is poisoned; at stride 1 the forward and the gathered
  // input gradient (forward3x3s1) and the filter gradient (depthwiseFilter3x3s1), whose edge
  // columns the poisoning reaches.
  const inPlace3x3 = [
    conv(1, 3, 3, [5, 19], 3, 2, 1, 1, 3), conv(2, 2, 4, [8, 17], 3, 2, 1, 1, 2), conv(1, 4, 4, [1, 16], 3, 2, 1, 1, 4),
    conv(2, 3, 3, [6, 10], 3, 2, 1, 1, 3), conv(1, 2, 2, [4, 58], 3, 1, 1, 1, 2),
  ];
  for (const [i, g] of [...convCases(0x1f1, 48), ...inPlace3x3].entries()) it(convName(g), () => {
    const r = rng(7000 + i);
    const sums = convSums(g);
    const clean = { x: tensor(xShape(g), r), w: tensor(wShape(g), r), b: tensor([g.Cout], r), dy: tensor(yShape(g), r) };
    eachPoisoned(clean, 8000 + i, ({ x, w, b, dy }, what) => {
      expectClose(conv2d(x, w, b, convOptions(g)).data, refConvForward(g, f64(x.data), f64(w.data), f64(b.data)),
        tolFor(sums.forward), `y, ${what}`);
      expectClose(conv2dBackwardInput(dy, w, xShape(g), convOptions(g)).data,
        refConvBackwardInput(g, f64(dy.data), f64(w.data)), tolFor(sums.input), `dx, ${what}`);
      expectClose(conv2dBackwardFilter(x, dy, wShape(g), convOptions(g)).data,
        refConvBackwardFilter(g, f64(x.data), f64(dy.data)), tolFor(sums.filter), `dw, ${what}`);
      expectClose(conv2dBackwardBias(dy).data, refBiasGrad(f64(dy.data), g.N, g.Cout, g.Hout * g.Wout),
        tolFor(g.N * g.Hout * g.Wout), `db, ${what}`);
    });
  });

  for (const [i, g] of poolCases(0x2f2, 48).entries()) it(poolName(g, 'pooling'), () => {
    const r = rng(9000 + i);
    const clean = { x: tensor(poolInShape(g), r), dy: tensor([g.N, g.C, g.Hout, g.Wout], r) };
    const windows = Math.ceil(g.kH / g.sH) * Math.ceil(g.kW / g.sW);
    eachPoisoned(clean, 10000 + i, ({ x, dy }, what) => {
      const dilated = { ...poolOptions(g), dilation: [g.dH, g.dW] as [number, number] };
      const ref = refMaxPool(g, f64(x.data));
      const max = maxPool2d(x, dilated);
      expectClose(max.output.data, ref.y, EXACT, `max y, ${what}`);
      expectSameInts(max.indices, ref.indices, `max indices, ${what}`);
      expectClose(maxPool2dBackward(dy, ref.indices, poolInShape(g)).data,
        refMaxPoolBackward(g, f64(dy.data), ref.indices), tolFor(windows), `max dx, ${what}`);
      if (g.dH !== 1 || g.dW !== 1) return;
      for (const countIncludePad of [true, false]) {
        const opts = { ...poolOptions(g), countIncludePad };
        expectClose(avgPool2d(x, opts).data, refAvgPool(g, f64(x.data), countIncludePad), tolFor(g.kH * g.kW),
          `avg y (countIncludePad ${countIncludePad}), ${what}`);
        expectClose(avgPool2dBackward(dy, poolInShape(g), opts).data, refAvgPoolBackward(g, f64(dy.data), countIncludePad),
          tolFor(windows), `avg dx (countIncludePad ${countIncludePad}), ${what}`);
      }
    });
  });

  it.each(Array.from({ length: 20 }, (_, i) => i))('linear, random case %i', (i) => {
    const r = rng(11000 + i);
    const N = randInt(r, 1, 9), inF = randInt(r, 1, 70), outF = randInt(r, 1, 40);
    const clean = { x: tensor([N, inF], r), w: tensor([outF, inF], r), b: tensor([outF], r) };
    eachPoisoned(clean, 12000 + i, ({ x, w, b }, what) => {
      expectClose(linear(x, w, b).data, refLinear(N, inF, outF, f64(x.data), f64(w.data), f64(b.data)),
        tolFor(inF + 1), `y (N ${N}, ${inF} → ${outF}), ${what}`);
    });
  });
});
