// Max and average pooling, forward and backward, on every backend, against the reference kernels;
// and the choices where implementations differ, written down as hand-worked cases: ties go to the
// first maximum in row-major window order, NaN wins (the later NaN when there are two), a window of
// -Infinity still reports its first in-bounds element, and the average divisor with and without
// the padding counted.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { avgPool2d, avgPool2dBackward, init, maxPool2d, maxPool2dBackward } from '../src/index.js';
import { backend as activeBackend } from '../src/runtime/backend.js';
import {
  BACKENDS, expectClose, expectSameInts, f64, poisonHeap, pool, poolInShape, poolName, poolOptions,
  poolOutShape, randInt, refAvgPool, refAvgPoolBackward, refMaxPool, refMaxPoolBackward, rng,
  tensor, tolFor, type PoolGeom,
} from './helpers.js';

// N, C, [H, W], kernel, stride (default: kernel), padding, dilation
const CASES: PoolGeom[] = [
  pool(1, 1, 4, 2),
  pool(1, 3, 7, 3, 2, 1),
  pool(3, 4, 9, 3, 1, 1),
  pool(1, 5, [8, 11], [2, 3], [1, 2], 1),
  pool(1, 8, 11, 3, 2, 1, 2),
  pool(1, 17, 13, 5, 3, 2),
  pool(3, 17, [5, 7], 2, 1),
  pool(1, 4, 9, [3, 1], [2, 1], [1, 0]),
  pool(1, 3, [6, 10], 4, 2, 2),
  pool(1, 1, [1, 9], [1, 3], 1, [0, 1]),
  pool(2, 5, 15, 7, 3, 3),
  pool(1, 8, [10, 7], [5, 3], [2, 3], [2, 1], [1, 2]),
  pool(3, 1, 5, 5),
  pool(1, 4, [17, 3], 3, [3, 1], [1, 1], [2, 1]),
  // Rows of at least 8 take the SIMD paths; 3-wide stride-2 windows have their own (padding 0 and 1).
  pool(2, 3, [9, 21], 3, 2, 0),
  pool(1, 4, [6, 30], 3, 2, 1),
  // Average pooling's 3-wide stride-2 rows: the left padding column, a right one (odd widths),
  // widths whose outputs are not a multiple of 4, and windows of 1, 2 and 3 rows.
  pool(1, 2, [5, 7], 3, 2, 1),
  pool(1, 2, [4, 9], 3, 2, 0),
  pool(2, 2, [5, 55], 3, 2, 1),
  pool(1, 3, [6, 16], [2, 3], 2, [1, 1]),
  pool(1, 2, [7, 17], [1, 3], [1, 2], [0, 1]),
  // ... and with one padding column on rows of a multiple of 8 (whole groups of 8 columns; the
  // backward too, when the rows are padded alike): heights even, odd and 1.
  pool(2, 3, [6, 24], 3, 2, 1),
  pool(1, 3, [7, 32], 3, 2, 1),
  pool(1, 2, [1, 16], 3, 2, 1),
  // Max pooling's whole-plane 2×2 stride-2 loop (widths that are multiples of 8, no padding):
  // heights even and odd (the last row then in no window), one group per row and several.
  pool(2, 3, [7, 16], 2),
  pool(1, 2, [8, 8], 2),
  pool(1, 2, [6, 56], 2, 2, 0),
];

function randomPoolCases(seed: number, count: number, dilation: boolean): PoolGeom[] {
  const r = rng(seed);
  const out: PoolGeom[] = [];
  while (out.length < count) {
    const k: [number, number] = [randInt(r, 1, 5), randInt(r, 1, 5)];
    const g = pool(
      randInt(r, 1, 3), [1, 3, 4, 5, 8, 17][randInt(r, 0, 5)], [randInt(r, 1, 13), randInt(r, 1, 13)], k,
      [randInt(r, 1, 3), randInt(r, 1, 3)], [randInt(r, 0, k[0] >> 1), randInt(r, 0, k[1] >> 1)],
      dilation ? [randInt(r, 1, 2), randInt(r, 1, 2)] : 1,
    );
    if (g.Hout >= 1 && g.Wout >= 1) out.push(g);
  }
  return out;
}

const MAX_CASES = [...CASES, ...randomPoolCases(0x9001, 10, true)];
const AVG_CASES = [...CASES.filter((g) => g.dH === 1 && g.dW === 1), ...randomPoolCases(0xa76, 10, false)];

/** Exact float32 equality is right for max pooling: it copies an input value. */
const EXACT = { atol: 0, rtol: 0 };

/** maxPool2d of x with g's options (undilated) gives the reference's values, exactly, and indices. */
function expectMaxPoolAsReference(g: PoolGeom, x: { data: Float32Array; shape: number[] }, what: string): void {
  const { output, indices } = maxPool2d(x, poolOptions(g));
  const ref = refMaxPool(g, f64(x.data));
  expectSameInts(indices, ref.indices, `indices, ${what}`);
  expectClose(output.data, ref.y, EXACT, what);
}

const t = (data: number[], shape: number[]) => ({ data: new Float32Array(data), shape });

describe.each(BACKENDS)('pooling on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  describe.each(MAX_CASES.map((g, i) => ({ g, i, n: poolName(g, 'maxPool2d') })))('$n', ({ g, i }) => {
    const r = rng(3000 + i);
    const x = tensor(poolInShape(g), r);
    const dy = tensor(poolOutShape(g), r);
    const opts = { ...poolOptions(g), dilation: [g.dH, g.dW] as [number, number] };

    it('forward values and indices', () => {
      const { output, indices } = maxPool2d(x, opts);
      const expected = refMaxPool(g, f64(x.data));
      expect(output.shape).toEqual(poolOutShape(g));
      expectClose(output.data, expected.y, EXACT, 'y');
      expect(indices).toBeInstanceOf(Int32Array);
      expectSameInts(indices, expected.indices);
    });

    it('backward routes dy to the argmax', () => {
      const { indices } = maxPool2d(x, opts);
      const dx = maxPool2dBackward(dy, indices, poolInShape(g));
      expect(dx.shape).toEqual(poolInShape(g));
      expectClose(dx.data, refMaxPoolBackward(g, f64(dy.data), refMaxPool(g, f64(x.data)).indices), tolFor(g.kH * g.kW), 'dx');
    });
  });

  describe.each(
    AVG_CASES.flatMap((g, i) => [true, false].map((cip) => ({ g, i, cip, n: `${poolName(g, 'avgPool2d')} countIncludePad ${cip}` }))),
  )('$n', ({ g, i, cip }) => {
    const r = rng(4000 + i);
    const x = tensor(poolInShape(g), r);
    const dy = tensor(poolOutShape(g), r);
    const opts = { ...poolOptions(g), countIncludePad: cip };
    const tol = tolFor(g.kH * g.kW);

    it('forward', () => {
      const y = avgPool2d(x, opts);
      expect(y.shape).toEqual(poolOutShape(g));
      expectClose(y.data, refAvgPool(g, f64(x.data), cip), tol, 'y');
    });

    it('backward', () => {
      const dx = avgPool2dBackward(dy, poolInShape(g), opts);
      expect(dx.shape).toEqual(poolInShape(g));
      expectClose(dx.data, refAvgPoolBackward(g, f64(dy.data), cip), tol, 'dx');
    });
  });

  // Every width's last vectors, which start 1..3 columns before the row's end or past it.
  it('avgPool2d 3×3 stride 2 on every width from 4 to 40, padding 0 and 1', () => {
    const r = rng(78);
    for (let W = 4; W <= 40; W++) {
      for (const p of [0, 1]) {
        const g = pool(1, 2, [5, W], 3, 2, p);
        const x = tensor(poolInShape(g), r), opts = poolOptions(g);
        for (const cip of [true, false]) {
          expectClose(avgPool2d(x, { ...opts, countIncludePad: cip }).data, refAvgPool(g, f64(x.data), cip), tolFor(9), `W ${W} p ${p}`);
        }
      }
    }
  });

  // Average pooling's 2×2 stride-2 rows (an overlapping last group; narrower rows take the
  // separable path), with either divisor rule, which agree when nothing is padded, and its
  // backward, whose windows tile the plane (an odd width's last column and an odd height's last
  // row in none of them), on heights odd and even.
  it('avgPool2d 2×2 stride 2 and its backward on every width from 2 to 40', () => {
    const r = rng(83);
    for (let W = 2; W <= 40; W++) {
      for (const H of [5, 6]) {
        const g = pool(1, 2, [H, W], 2);
        const x = tensor(poolInShape(g), r), dy = tensor(poolOutShape(g), r), opts = poolOptions(g);
        for (const cip of [true, false]) {
          const o = { ...opts, countIncludePad: cip };
          expectClose(avgPool2d(x, o).data, refAvgPool(g, f64(x.data), cip), tolFor(4), `W ${W}`);
          expectClose(avgPool2dBackward(dy, poolInShape(g), o).data, refAvgPoolBackward(g, f64(dy.data), cip), tolFor(4), `dx W ${W} H ${H}`);
        }
      }
    }
  });

  // The separable max pooling (undilated, row stride 1 or 2: a padded copy of each input row, its
  // row maxima once, then each output row's merge) and the 2×2 stride-2 rows whose last group
  // overlaps the one before: every width's last group and narrow rows (fewer outputs than a group),
  // kernels of 1 to 5 columns, row strides 1 to 3.
  it('maxPool2d on every width from 1 to 40: separable windows and 2×2 rows', () => {
    const r = rng(79);
    for (let W = 1; W <= 40; W++) {
      for (const [k, s, p] of [[3, 1, 1], [3, 2, 1], [3, 2, 0], [2, 2, 0], [2, 1, 1], [5, 1, 2], [4, 2, 1], [[3, 1], [3, 2], [1, 0]], [[2, 5], 1, [1, 2]]] as const) {
        const g = pool(1, 2, [7, W], k as number | [number, number], s as number | [number, number], p as number | [number, number]);
        if (g.Hout < 1 || g.Wout < 1) continue;
        expectMaxPoolAsReference(g, tensor(poolInShape(g), r), `W ${W} k ${k} s ${s} p ${p}`);
      }
    }
  });

  // Same-padded stride-1 pools read the rows above the top and below the bottom as the edge row
  // again: every height from 1 (fewer rows than the window) up, on rows of one group between the
  // first and last and of several, one overlapping the last.
  it('maxPool2d 3×3 and 5×5 same-padded stride 1 on every height from 1 to 9', () => {
    const r = rng(86);
    for (let H = 1; H <= 9; H++) {
      for (const [W, k] of [[12, 3], [15, 3], [12, 5], [17, 5], [22, 5]]) {
        const g = pool(2, 2, [H, W], k, 1, k >> 1);
        const x = { data: Float32Array.from({ length: 4 * H * W }, () => [1, 2, 2, -1, -Infinity][randInt(r, 0, 4)]), shape: poolInShape(g) };
        expectMaxPoolAsReference(g, x, `H ${H} W ${W} k ${k}`);
      }
    }
  });

  // A plane with one NaN, late in it, is abandoned part-way by the separable path and redone by the
  // NaN-aware one; the planes around it stay separable. Rows too wide for its static scratch take
  // the direct path; and average pooling, which shares that scratch, still pads with zeros after.
  it('maxPool2d: one NaN late in one plane, rows wider than the scratch, then average pooling', () => {
    for (const [k, s, p] of [[3, 1, 1], [3, 2, 1], [5, 1, 2]]) {
      const g = pool(1, 3, [9, 21], k, s, p);
      const r = rng(80 + k + s);
      const x = { data: Float32Array.from({ length: 3 * 9 * 21 }, () => [1, 2, 2, -1, 0][randInt(r, 0, 4)]), shape: poolInShape(g) };
      x.data[9 * 21 + 7 * 21 + 5] = NaN;
      expectMaxPoolAsReference(g, x, `k ${k} s ${s}`);
    }
    const wide = pool(1, 2, [3, 5000], 3, 1, 1);
    const xw = tensor(poolInShape(wide), rng(81));
    const refWide = refMaxPool(wide, f64(xw.data));
    expectSameInts(maxPool2d(xw, poolOptions(wide)).indices, refWide.indices);
    const g = pool(1, 2, [6, 13], 3, 2, 1);
    const xa = tensor(poolInShape(g), rng(82));
    maxPool2d(xa, poolOptions(g));
    expectClose(avgPool2d(xa, poolOptions(g)).data, refAvgPool(g, f64(xa.data), true), tolFor(9), 'avg y');
  });

  // The 3×3 stride-2 and same-padded stride-1 paths look for NaN by summing some of what they
  // read (3×3 stride 2: each input row once, and column 0 apart with padding 0; stride 1: each row's
  // middle taps): one NaN anywhere in a plane, at every position in turn, sends that plane to the
  // NaN-aware path, and no other.
  it('maxPool2d 3×3 stride 2 and same-padded stride 1: one NaN at each position of a plane', () => {
    for (const [H, W, k, s, p] of [[9, 38, 3, 2, 1], [8, 38, 3, 2, 1], [9, 37, 3, 2, 0], [8, 38, 3, 2, 0], [6, 13, 3, 1, 1], [7, 14, 5, 1, 2]]) {
      const g = pool(1, 3, [H, W], k, s, p);
      const x = tensor(poolInShape(g), rng(85 + H + p));
      for (let i = H * W; i < 2 * H * W; i++) {
        const data = x.data.slice();
        data[i] = NaN;
        expectMaxPoolAsReference(g, { data, shape: x.shape }, `${H}×${W} p ${p}: NaN at ${i - H * W}`);
      }
    }
  });

  // Rows too wide for the average kernels' scratch rows take their one-window-at-a-time path,
  // forward and backward, with either divisor rule (padding makes them differ at the borders).
  it('avgPool2d and its backward on rows wider than the scratch', () => {
    const g = pool(1, 2, [4, 3001], 3, 2, 1);
    const r = rng(84);
    const x = tensor(poolInShape(g), r), dy = tensor(poolOutShape(g), r), opts = poolOptions(g);
    for (const cip of [true, false]) {
      const o = { ...opts, countIncludePad: cip };
      expectClose(avgPool2d(x, o).data, refAvgPool(g, f64(x.data), cip), tolFor(9), `y cip ${cip}`);
      expectClose(avgPool2dBackward(dy, poolInShape(g), o).data, refAvgPoolBackward(g, f64(dy.data), cip), tolFor(9), `dx cip ${cip}`);
    }
  });

  // The ops copy large inputs in chunks of whole planes (src/ops/run.ts, 1 MB of input each): 13
  // planes of 300x300 make chunks of 2 planes for the forwards, 5 for max backward (dy and
  // indices) and 11 for average backward, each with a shorter last chunk; every plane must match.
  it('inputs of several chunks of planes, the last one partial', () => {
    const g = pool(1, 13, 300, 3, 2, 1);
    const r = rng(77);
    const x = tensor(poolInShape(g), r), dy = tensor(poolOutShape(g), r);
    const opts = poolOptions(g);
    const max = maxPool2d(x, opts), ref = refMaxPool(g, f64(x.data));
    expectClose(max.output.data, ref.y, EXACT, 'y');
    expectSameInts(max.indices, ref.indices);
    expectClose(maxPool2dBackward(dy, max.indices, poolInShape(g)).data, refMaxPoolBackward(g, f64(dy.data), ref.indices), tolFor(9), 'dx');
    expectClose(avgPool2d(x, opts).data, refAvgPool(g, f64(x.data), true), tolFor(9), 'avg y');
    expectClose(avgPool2dBackward(dy, poolInShape(g), opts).data, refAvgPoolBackward(g, f64(dy.data), true), tolFor(9), 'avg dx');
  });

  it('stride defaults to the kernel size', () => {
    const x = tensor([1, 2, 6, 6], rng(5));
    expect(maxPool2d(x, { kernelSize: 2 }).output.shape).toEqual([1, 2, 3, 3]);
    expect(avgPool2d(x, { kernelSize: 3 }).shape).toEqual([1, 2, 2, 2]);
    expectSameInts(maxPool2d(x, { kernelSize: 2 }).indices, maxPool2d(x, { kernelSize: 2, stride: 2 }).indices);
  });

  it('avgPool2d counts padding by default', () => {
    const x = t([1, 2, 3, 4], [1, 1, 2, 2]);
    expectClose(avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1 }).data,
      avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: true }).data, EXACT);
  });

  // The SIMD paths (2×2 s2, 3×3 s2, same-padded stride 1, separable, and the NaN-aware direct one)
  // on rows of many ties and some NaNs, of signed zeros, of infinities (whose sum, NaN, sends the
  // 2×2 path's rows to its NaN-aware loop), of +Infinity among ties (a sum that stays a number),
  // and of windows all -Infinity (each reports its first in-bounds element): values, zero signs
  // included, and indices must be the reference's exactly (first maximum wins, the last NaN wins).
  // (Width 37 takes the 2×2 rows with an overlapping last group; 40, the 2×2 whole-plane loop,
  // redone whole on a NaN. 3×3 stride 2 takes its own path at width 38 with padding 1 and 37
  // without, the separable one at 37 with padding 1; same-padded 3×3 and 5×5 stride-1 pools take
  // theirs at 37.)
  const GEOMETRIES = [
    { k: 2, s: 2, p: 0, W: 37 }, { k: 2, s: 2, p: 0, W: 40 }, { k: 3, s: 2, p: 1, W: 37 }, { k: 3, s: 2, p: 0, W: 37 },
    { k: 3, s: 2, p: 1, W: 38 },
    { k: 3, s: 1, p: 1, W: 37 }, { k: 2, s: 1, p: 0, W: 37 }, { k: 5, s: 1, p: 2, W: 37 }, { k: 4, s: 2, p: 1, W: 37 },
    { k: 3, s: 1, p: 1, W: 3 },
  ];
  const VALUES = {
    'ties and NaN': [1, 2, 2, NaN, -1],
    'signed zeros': [0, -0, -0, -1, -Infinity],
    infinities: [Infinity, -Infinity, -0, 0, 2],
    'ties and Infinity': [Infinity, 2, 2, -0, 0],
    'mostly -Infinity': [-Infinity, -Infinity, -Infinity, -Infinity, -0],
  };
  it.each(GEOMETRIES.flatMap((geo) => Object.entries(VALUES).map(([name, values]) => ({ ...geo, name, values }))))(
    'maxPool2d $k×$k stride $s padding $p: $name on rows of $W', ({ k, s, p, W, values }) => {
      const g = pool(2, 3, [9, W], k, s, p);
      const r = rng(31 + k * 7 + s + p);
      const x = { data: Float32Array.from({ length: g.N * g.C * g.H * g.W }, () => values[randInt(r, 0, 4)]), shape: poolInShape(g) };
      const { output, indices } = maxPool2d(x, poolOptions(g));
      const ref = refMaxPool(g, f64(x.data));
      expectSameInts(indices, ref.indices);
      const wrong = Array.from(output.data).findIndex((v, i) => !Object.is(v, Math.fround(ref.y[i])));
      expect(wrong, `first output that differs from the reference (or its zero sign)`).toBe(-1);
      // The backward of the same values (2×2 s2 writes each dx element once, adding dy to 0 as
      // the scatter does, so that -0 becomes +0): exact too.
      const dy = { data: Float32Array.from(output.data, () => values[randInt(r, 0, 4)]), shape: output.shape };
      const dx = maxPool2dBackward(dy, indices, poolInShape(g)).data;
      const refDx = refMaxPoolBackward(g, f64(dy.data), ref.indices);
      const wrongDx = Array.from(dx).findIndex((v, i) => !Object.is(v, Math.fround(refDx[i])));
      expect(wrongDx, `first dx element that differs from the reference (or its zero sign)`).toBe(-1);
    },
  );

  describe('max pooling choices, by hand', () => {
    it('maxPool2d 2x2 ties: all equal reports the first element of the window', () => {
      const { output, indices } = maxPool2d(t([7, 7, 7, 7], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Array.from(output.data)).toEqual([7]);
      expect(Array.from(indices)).toEqual([0]);
    });

    it('maxPool2d 2x2 ties: of two equal maxima the first in row-major order wins', () => {
      const { indices } = maxPool2d(t([0, 3, 3, 1], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Array.from(indices)).toEqual([1]);
      const neg = maxPool2d(t([-2, -1, -1, -1], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Array.from(neg.indices)).toEqual([1]);
    });

    it('maxPool2d 3x3 stride 1 ties across overlapping windows, 4x4 plane', () => {
      // Every value is 5 except a 9 at (2, 2): windows that contain it report 10 (= 2·4 + 2),
      // the others report their own top-left element.
      const x = new Array(16).fill(5);
      x[10] = 9;
      const { output, indices } = maxPool2d(t(x, [1, 1, 4, 4]), { kernelSize: 3, stride: 1 });
      expect(Array.from(output.data)).toEqual([9, 9, 9, 9]);
      expect(Array.from(indices)).toEqual([10, 10, 10, 10]);
      const y = t([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], [1, 1, 4, 4]);
      expect(Array.from(maxPool2d(y, { kernelSize: 3, stride: 1 }).indices)).toEqual([0, 1, 4, 5]);
    });

    it('maxPool2d 2x2 NaN wins over a larger value and its index is reported', () => {
      const { output, indices } = maxPool2d(t([1, NaN, 5, 2], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Number.isNaN(output.data[0])).toBe(true);
      expect(Array.from(indices)).toEqual([1]);
      const late = maxPool2d(t([1, 2, NaN, 9], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Number.isNaN(late.output.data[0])).toBe(true);
      expect(Array.from(late.indices)).toEqual([2]);
    });

    it('maxPool2d 2x2 two NaNs: the later NaN index is reported (PyTorch CPU rule)', () => {
      const { output, indices } = maxPool2d(t([NaN, 1, NaN, 2], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Number.isNaN(output.data[0])).toBe(true);
      expect(Array.from(indices)).toEqual([2]);
    });

    it('maxPool2d NaN in one window does not leak into its neighbours; backward sends dy to it', () => {
      const x = t([1, 2, 3, 4, NaN, 6, 7, 8], [1, 1, 2, 4]);
      const { output, indices } = maxPool2d(x, { kernelSize: 2 });
      expect(Number.isNaN(output.data[0])).toBe(true);
      expect(output.data[1]).toBe(8);
      expect(Array.from(indices)).toEqual([4, 7]);
      const dx = maxPool2dBackward(t([10, 20], [1, 1, 1, 2]), indices, [1, 1, 2, 4]);
      expect(Array.from(dx.data)).toEqual([0, 0, 0, 0, 10, 0, 0, 20]);
    });

    it('maxPool2dBackward adds every dy whose index names an element, whatever pooling made the indices', () => {
      // A 2×16 plane and a 1×8 dy have the sizes of a 2×2 stride-2 pool (SIMD builds write such
      // planes window by window), but these indices are not all of it: two name element 0.
      const dy = t([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 8]);
      const dx = maxPool2dBackward(dy, Int32Array.of(0, 2, 4, 6, 8, 10, 12, 0), [1, 1, 2, 16]);
      const expected = new Array(32).fill(0);
      [9, 2, 3, 4, 5, 6, 7].forEach((v, i) => { expected[2 * i] = v; });
      expect(Array.from(dx.data)).toEqual(expected);
      const all = maxPool2dBackward(dy, new Int32Array(8), [1, 1, 2, 16]);
      expect(Array.from(all.data)).toEqual([36, ...new Array(31).fill(0)]);
    });

    // PyTorch zeroes the input gradient and adds each window's share to it, so a share of -0 leaves
    // +0 (torch 1.13: avg_pool2d(x, 3, 2, 1) and max_pool2d(x, 2) backward of all -0. give +0.).
    it.each([[4, 8], [5, 16], [5, 30], [3, 7]])('pooling backwards of dy = -0 give +0 on %i×%i planes', (H, W) => {
      for (const [kernelSize, stride, padding] of [[3, 2, 1], [2, 2, 0], [3, 1, 1]]) {
        const opts = { kernelSize, stride, padding };
        const x = { data: new Float32Array(2 * H * W), shape: [1, 2, H, W] };
        const y = avgPool2d(x, opts);
        const dy = { data: new Float32Array(y.data.length).fill(-0), shape: y.shape };
        const avg = avgPool2dBackward(dy, x.shape, opts).data;
        expect(avg.findIndex((v) => !Object.is(v, 0)), `avg ${kernelSize}/${stride}/${padding}`).toBe(-1);
        const { indices } = maxPool2d(x, opts);
        const max = maxPool2dBackward(dy, indices, x.shape).data;
        expect(max.findIndex((v) => !Object.is(v, 0)), `max ${kernelSize}/${stride}/${padding}`).toBe(-1);
      }
    });

    // The SIMD backwards write whole windows at a time; on planes of odd height the last row is in
    // no window (2×2) or in one window row's middle (3×3 s2 p1). Floats just before and after dx
    // must be left alone.
    it('pooling backward kernels write nothing outside dx (planes of odd height)', () => {
      const { heap, k } = activeBackend();
      const [NC, H, W, Hout, Wout] = [3, 7, 16, 3, 8];
      const guard = 16, sentinel = 12345;
      const dxAt = heap.put(new Float32Array(NC * H * W + 2 * guard).fill(sentinel));
      const dx = dxAt + 4 * guard;
      const dy = heap.put(new Float32Array(NC * 4 * Wout).fill(1));
      const indices = heap.put(Int32Array.from({ length: NC * Hout * Wout }, (_, i) => 2 * (i % Wout) + 2 * W * ((i / Wout | 0) % Hout)));
      const untouched = () => {
        const all = heap.f32(dxAt, NC * H * W + 2 * guard);
        return [...all.subarray(0, guard), ...all.subarray(guard + NC * H * W)].every((v) => v === sentinel);
      };
      k.maxpool2d_backward(dx, dy, indices, NC, H, W, Hout, Wout);
      expect(untouched(), 'maxpool2d_backward').toBe(true);
      k.avgpool2d_backward(dx, dy, NC, H, W, 4, Wout, 3, 3, 2, 2, 1, 1, 1);
      expect(untouched(), 'avgpool2d_backward').toBe(true);
      for (const p of [dxAt, dy, indices]) heap.release(p);
    });

    // Rows whose last group overlaps the one before, and rows narrower than a group, must not spill
    // their vectors past the last plane's outputs.
    it('pooling forward kernels write nothing outside y and the indices', () => {
      const { heap, k } = activeBackend();
      const guard = 16, sentinel = 12345, NC = 3;
      for (const [H, W, kk, s, p] of [[6, 14, 2, 2, 0], [5, 6, 3, 1, 1], [4, 3, 5, 1, 2], [5, 9, 3, 2, 1], [4, 11, 4, 2, 1], [5, 10, 3, 2, 1], [6, 13, 3, 2, 0]]) {
        const Hout = Math.floor((H + 2 * p - kk) / s) + 1, Wout = Math.floor((W + 2 * p - kk) / s) + 1;
        const n = NC * Hout * Wout;
        const yAt = heap.put(new Float32Array(n + 2 * guard).fill(sentinel));
        const iAt = heap.put(new Int32Array(n + 2 * guard).fill(sentinel));
        const x = heap.put(Float32Array.from({ length: NC * H * W }, (_, i) => Math.sin(i)));
        const untouched = () => [heap.f32(yAt, n + 2 * guard), heap.i32(iAt, n + 2 * guard)]
          .every((all) => [...all.subarray(0, guard), ...all.subarray(guard + n)].every((v) => v === sentinel));
        const y = yAt + 4 * guard, indices = iAt + 4 * guard;
        k.maxpool2d_forward(y, indices, x, NC, H, W, Hout, Wout, kk, kk, s, s, p, p, 1, 1);
        expect(untouched(), `maxpool2d_forward ${H}×${W} k ${kk} s ${s} p ${p}`).toBe(true);
        k.avgpool2d_forward(y, x, NC, H, W, Hout, Wout, kk, kk, s, s, p, p, 1);
        expect(untouched(), `avgpool2d_forward ${H}×${W} k ${kk} s ${s} p ${p}`).toBe(true);
        for (const ptr of [yAt, iAt, x]) heap.release(ptr);
      }
    });

    it('maxPool2d 2x2 all -Infinity reports the first in-bounds element', () => {
      const { output, indices } = maxPool2d(t([-Infinity, -Infinity, -Infinity, -Infinity], [1, 1, 2, 2]), { kernelSize: 2 });
      expect(Array.from(output.data)).toEqual([-Infinity]);
      expect(Array.from(indices)).toEqual([0]);
    });

    it('maxPool2d 3x3 stride 2 pad 1 all -Infinity: each window reports its first in-bounds element', () => {
      const x = t(new Array(9).fill(-Infinity), [1, 1, 3, 3]);
      const { output, indices } = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
      expect(output.shape).toEqual([1, 1, 2, 2]);
      expect(Array.from(output.data)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
      // Window (0,0) starts at (-1,-1): first in-bounds (0,0). (0,1) starts at (-1,1): (0,1).
      // (1,0) starts at (1,-1): (1,0) = 3. (1,1) starts at (1,1) = 4.
      expect(Array.from(indices)).toEqual([0, 1, 3, 4]);
      const dx = maxPool2dBackward(t([1, 2, 3, 4], [1, 1, 2, 2]), indices, [1, 1, 3, 3]);
      expect(Array.from(dx.data)).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
    });

    it('maxPool2d 2x2 dilation 3 pad 1 on 2x2 planes: a window wholly in the padding', () => {
      // The dilated window spans 4 = the padded size, but its taps (-1 and 2 on each axis) all miss
      // the 2x2 plane. PyTorch reports -Infinity and the window's first tap after skipping the
      // padding, (2, 2) = 2·2 + 2 = 6, which lies outside the plane; the backward must ignore it and must not
      // write into the neighbouring plane.
      const x = t([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
      const g = pool(1, 2, 2, 2, 2, 1, 3);
      const { output, indices } = maxPool2d(x, { kernelSize: 2, padding: 1, dilation: 3 });
      expect(output.shape).toEqual([1, 2, 1, 1]);
      expect(Array.from(output.data)).toEqual([-Infinity, -Infinity]);
      expectSameInts(indices, refMaxPool(g, f64(x.data)).indices);
      const dx = maxPool2dBackward(t([1, 1], [1, 2, 1, 1]), indices, [1, 2, 2, 2]);
      expect(Array.from(dx.data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    });

    it('maxPool2d indices are per plane: h·W + w inside each (n, c)', () => {
      // Two images of two channels, 2x3 planes; the maximum of each plane sits at a different place.
      const x = t([
        9, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 9,
        0, 9, 0, 0, 0, 0,
        0, 0, 0, 0, 9, 0,
      ], [2, 2, 2, 3]);
      const { indices } = maxPool2d(x, { kernelSize: [2, 3] });
      expect(Array.from(indices)).toEqual([0, 5, 1, 4]);
    });
  });

  describe('average pooling, by hand', () => {
    const x = t([1, 2, 3, 4], [1, 1, 2, 2]);
    it('avgPool2d 2x2 stride 1 pad 1 countIncludePad true divides by 4 everywhere', () => {
      const y = avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: true });
      expect(y.shape).toEqual([1, 1, 3, 3]);
      expectClose(y.data, [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], EXACT, 'y');
    });

    it('avgPool2d 2x2 stride 1 pad 1 countIncludePad false divides by the in-bounds count', () => {
      const y = avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false });
      expectClose(y.data, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], EXACT, 'y');
    });

    it('avgPool2dBackward 2x2 stride 1 pad 1, both divisors', () => {
      const dy = t([4, 4, 4, 4, 4, 4, 4, 4, 4], [1, 1, 3, 3]);
      // Including padding, every window shares 4 / 4 = 1 with each of its in-bounds elements, and
      // each input element lies in 4 windows.
      const inc = avgPool2dBackward(dy, [1, 1, 2, 2], { kernelSize: 2, stride: 1, padding: 1, countIncludePad: true });
      expectClose(inc.data, [4, 4, 4, 4], EXACT, 'dx');
      // Excluding padding, element (0,0) gets 4/1 (corner) + 4/2 + 4/2 (edges) + 4/4 (centre) = 9.
      const exc = avgPool2dBackward(dy, [1, 1, 2, 2], { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false });
      expectClose(exc.data, [9, 9, 9, 9], EXACT, 'dx');
    });
  });
});
