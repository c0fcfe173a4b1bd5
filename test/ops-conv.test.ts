// conv2d forward and its three gradients on every backend, against the float64 reference kernels,
// over geometries chosen around the SIMD width (channels 1, 3, 4, 5, 8, 17; odd and
// non-multiple-of-4 widths) that jointly cover every kernel, stride, padding, dilation and
// grouping value of the issue, plus seeded random ones.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conv2d, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, init, backendName } from '../src/index.js';
import {
  BACKENDS, conv, convName, convOptions, convSums, expectClose, f64, once, poisonHeap,
  randomConvCases, refBiasGrad, refConvBackwardFilter, refConvBackwardInput, refConvForward, rng,
  tensor, tolFor, wShape, xShape, yShape, type ConvGeom,
} from './helpers.js';

// N, Cin, Cout, [H, W], kernel, stride, padding, dilation, groups
const CASES: ConvGeom[] = [
  conv(1, 1, 1, 5, 3),
  conv(1, 3, 4, 7, 3, 1, 1),
  conv(3, 4, 8, [9, 11], 3, 2, 1),
  conv(1, 5, 5, [11, 9], 5, 1, 2),
  conv(1, 8, 17, 13, 7, 2, 3),
  conv(3, 17, 3, [6, 7], 1),
  conv(1, 4, 4, 8, 2, 2),
  conv(1, 3, 5, 9, 3, 3),
  conv(1, 4, 8, 11, 3, 1, 2, 2),
  conv(1, 4, 4, 9, 3, 2, 1, 2, 2),
  conv(3, 8, 8, [7, 9], 3, 1, 1, 1, 8),
  conv(1, 17, 17, [5, 7], 3, 2, 1, 1, 17),
  conv(1, 6, 9, 7, 3, 1, 1, 1, 3),
  conv(1, 4, 8, 7, 3, 1, 1, 1, 4),
  conv(1, 3, 4, [9, 11], [1, 5], [1, 2], [0, 2]),
  conv(1, 5, 3, [11, 7], [5, 3], [2, 1], [2, 1], [1, 2]),
  conv(3, 1, 8, 15, 7, 3, 3),
  conv(1, 3, 3, 5, 3, 1, 3),
  conv(2, 3, 5, 5, 1, 2, 2),
  conv(1, 4, 8, [1, 17], [1, 3], 1, [0, 1]),
  conv(1, 8, 16, [9, 13], [2, 3], 2, 0, 2, 4),
  conv(3, 5, 17, [17, 5], [3, 2], [3, 2], [1, 0], [2, 1]),
  conv(1, 16, 32, 17, 3, 1, 1),
  conv(1, 3, 4, 3, 3),
  conv(2, 17, 5, 4, 5, 1, 3, 1),
  // Wide rows: the SIMD forward and filter gradient read panels of 8 positions from a padded,
  // column-phase-split copy of x, and the input gradient adds its tiles into one (assembly/im2col.ts);
  // strides 2 and 3, dilation, groups and uneven padding change where.
  conv(2, 3, 8, [10, 37], 3, 2, 1),
  conv(1, 4, 8, [9, 53], [3, 5], [1, 3], [1, 2], [1, 2]),
  conv(2, 6, 8, [8, 40], 3, 2, [0, 3], 1, 2),
  conv(1, 3, 5, [7, 44], [2, 4], 2, 1, [1, 3]),
  // 24 or more output channels per group: the forward copies each in-place panel into one packed
  // panel before its tiles run (assembly/gemm-core.ts, PACK_ROWS); 26 ends on a tile of 2 rows.
  conv(1, 3, 26, [6, 20], 3, 1, 1),
  conv(1, 4, 48, [5, 18], 3, 2, 1, 1, 2),
  // Unpadded stride 1 reads (and its input gradient adds into) x itself, no split copy.
  conv(2, 3, 6, [9, 21], 3),
  conv(1, 2, 4, [10, 12], [3, 5]),
  // Depthwise rows (assembly/depthwise-rows.ts): 16, 8 and 4 outputs at a time with an overlapping
  // last group (of 16 when 9 to 15 are left: widths 27 and 31), from a split plane or x itself; two
  // output channels per input channel; strides 2 and 3; the input gradient gathered (stride 1,
  // dilated too) or, past the taps' reach, scattered.
  conv(2, 6, 6, [9, 37], 3, 1, 1, 1, 6),
  conv(1, 2, 2, [5, 27], 3, 1, 1, 1, 2),
  conv(1, 3, 3, [9, 22], 3, 1, 2, 2, 3),
  conv(1, 4, 4, [6, 10], 3, 1, 3, 1, 4),
  conv(1, 4, 8, [8, 41], [3, 5], 2, [1, 2], [1, 2], 4),
  conv(2, 5, 5, [6, 23], 5, 3, 2, 1, 5),
  conv(1, 3, 3, [7, 20], 3, 1, 0, 1, 3),
  conv(1, 4, 4, [5, 6], 3, 1, 1, 1, 4),
  conv(1, 3, 3, [6, 62], 3, 2, 1, 1, 3),
  // Depthwise 3×3 at stride 2, padding 1. Rows of 16 or more: the forward reads x's rows in place
  // (forward3x3s2), as does, from 8 wide, the filter gradient with one output channel per input
  // channel (filterRows3x3s2): whole groups (widths 8, 16); an overlapping last group copied with
  // zeros past the row (widths 9 to 23); odd heights, whose last output row's lower taps are
  // padding; one row; two output channels per input channel. One output channel per input channel
  // and rows of 7 or more: the input gradient is gathered (input3x3s2): even and odd widths (an odd
  // one's last dy column has no right neighbour in dx), a last group of 4 dy columns overlapping
  // the one before (widths 12, 13, 23) or not (8, 9, 16), even and odd heights (an even one's last
  // dx row has no dy row below).
  conv(2, 3, 3, [5, 16], 3, 2, 1, 1, 3),
  conv(1, 2, 4, [8, 17], 3, 2, 1, 1, 2),
  conv(1, 4, 4, [1, 18], 3, 2, 1, 1, 4),
  conv(1, 3, 3, [2, 23], 3, 2, 1, 1, 3),
  conv(2, 5, 5, [7, 16], 3, 2, 1, 1, 5),
  conv(1, 2, 2, [4, 8], 3, 2, 1, 1, 2),
  conv(2, 3, 3, [3, 9], 3, 2, 1, 1, 3),
  conv(1, 4, 4, [6, 12], 3, 2, 1, 1, 4),
  conv(1, 2, 2, [11, 13], 3, 2, 1, 1, 2),
  // Depthwise 3×3 at stride 1, padding 1, rows of 56 or more: the forward, and the input gradient
  // gathered from dy with one output channel per input channel, read the rows in place
  // (forward3x3s1), the first and last rows beside a row of zeros (one row: both at once); a last
  // group of 16 overlapping the one before (widths 57, 60, 71) or not (64); two output channels
  // per input channel (whose input gradient is scattered). With one output channel per input
  // channel the filter gradient reads x in place from 8 wide (depthwiseFilter3x3s1): groups of 8
  // from 13 wide, then one of 4 (widths 57, 60, and 27 above) or none (71, and 37 above); a last
  // group of 4 overlapping the one before (widths 9, 57, 71, 37, 27) or not (8, 60).
  conv(1, 3, 3, [3, 8], 3, 1, 1, 1, 3),
  conv(2, 2, 2, [2, 9], 3, 1, 1, 1, 2),
  conv(1, 2, 2, [1, 57], 3, 1, 1, 1, 2),
  conv(2, 3, 3, [4, 60], 3, 1, 1, 1, 3),
  conv(1, 2, 4, [3, 64], 3, 1, 1, 1, 2),
  conv(1, 2, 2, [5, 71], 3, 1, 1, 1, 2),
  // One input channel, no groups: the SIMD filter gradient takes the depthwise kernels, output
  // channels two at a time (5: two pairs and one alone), with an overlapping last group of 4
  // positions (widths 26, 13, 6) and a last group of taps shorter than 4 (25, 6 taps).
  conv(2, 1, 5, [9, 30], 5),
  conv(1, 1, 6, [10, 28], 3, 2, 1, 2),
  conv(3, 1, 2, [6, 8], [2, 3], 1, [1, 0]),
];

const RANDOM = randomConvCases(0xc0ffee, 16);

// Large cases, their reference results (~10⁸ multiply-adds each) computed once for all backends.
// The first is large enough that each of the three GEMMs spans several packed blocks in every
// dimension (assembly/gemm-core.ts blocks rows by 128, depth by 256, columns by 2048): forward is
// (132 × 288) · (288 × 2115), the filter gradient has depth 2115, the input gradient 288 rows.
// The next two have split inputs of more than the 512 KB that the SIMD builds handle at a time
// (assembly/conv.ts): one image per chunk, then two images per chunk with a shorter last one. The
// API copies x and dy in chunks of about 1 MB (src/ops/conv.ts): for the filter gradient of the
// first of those two (2 images, then 1), for every op of the fourth (x and dy of 512 KB an image:
// 2 images, then 1, and 1 at a time for the filter gradient) and of the last, depthwise.
const LARGE = [
  { g: conv(1, 32, 132, [45, 47], 3, 1, 1), what: 'GEMM blocks in every dimension' },
  { g: conv(3, 16, 8, 64, 3, 1, 1), what: 'the batch in chunks of one image' },
  { g: conv(3, 12, 6, 64, 3, 2, 1, 1, 3), what: 'the batch in chunks of two images, groups 3' },
  { g: conv(3, 32, 32, 64, 3, 1, 1), what: 'images copied in by chunks of two and one (run)' },
  { g: conv(3, 8, 8, 128, 3, 1, 1, 1, 8), what: 'depthwise, its images copied in by chunks of one and two (run)' },
].map(({ g, what }, i) => {
  const r = rng(424242 + i);
  const x = tensor(xShape(g), r);
  const w = tensor(wShape(g), r);
  const dy = tensor(yShape(g), r);
  return {
    g, what, x, w, dy,
    y: once(() => refConvForward(g, f64(x.data), f64(w.data), null)),
    dx: once(() => refConvBackwardInput(g, f64(dy.data), f64(w.data))),
    dw: once(() => refConvBackwardFilter(g, f64(x.data), f64(dy.data))),
  };
});

describe.each(BACKENDS)('conv2d ops on the %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  it('runs on the requested backend', () => {
    expect(backendName()).toBe(backend);
  });

  describe.each([...CASES, ...RANDOM].map((g, i) => ({ g, i, name: convName(g) })))('$name', ({ g, i }) => {
    const r = rng(1000 + i);
    const x = tensor(xShape(g), r);
    const w = tensor(wShape(g), r);
    const b = tensor([g.Cout], r);
    const dy = tensor(yShape(g), r);
    const sums = convSums(g);

    it('forward with bias', () => {
      const y = conv2d(x, w, b, convOptions(g));
      expect(y.shape).toEqual(yShape(g));
      expectClose(y.data, refConvForward(g, f64(x.data), f64(w.data), f64(b.data)), tolFor(sums.forward), 'y');
    });

    it('forward without bias', () => {
      const y = conv2d(x, w, null, convOptions(g));
      expect(y.shape).toEqual(yShape(g));
      expectClose(y.data, refConvForward(g, f64(x.data), f64(w.data), null), tolFor(sums.forward), 'y');
    });

    it('backward input', () => {
      const dx = conv2dBackwardInput(dy, w, xShape(g), convOptions(g));
      expect(dx.shape).toEqual(xShape(g));
      expectClose(dx.data, refConvBackwardInput(g, f64(dy.data), f64(w.data)), tolFor(sums.input), 'dx');
    });

    it('backward filter', () => {
      const dw = conv2dBackwardFilter(x, dy, wShape(g), convOptions(g));
      expect(dw.shape).toEqual(wShape(g));
      expectClose(dw.data, refConvBackwardFilter(g, f64(x.data), f64(dy.data)), tolFor(sums.filter), 'dw');
    });

    it('backward bias', () => {
      const db = conv2dBackwardBias(dy);
      expect(db.shape).toEqual([g.Cout]);
      expectClose(db.data, refBiasGrad(f64(dy.data), g.N, g.Cout, g.Hout * g.Wout), tolFor(sums.filter), 'db');
    });
  });

  it.each(LARGE.map((c) => ({ ...c, name: convName(c.g) })))('$name: $what, forward and both gradients', (c) => {
    const { g, x, w, dy } = c;
    const sums = convSums(g);
    expectClose(conv2d(x, w, null, convOptions(g)).data, c.y(), tolFor(sums.forward), 'y');
    expectClose(conv2dBackwardInput(dy, w, xShape(g), convOptions(g)).data, c.dx(), tolFor(sums.input), 'dx');
    expectClose(conv2dBackwardFilter(x, dy, wShape(g), convOptions(g)).data, c.dw(), tolFor(sums.filter), 'dw');
  });

  it.each([[2, 3, 128, 128], [8, 2, 256, 256]])('backward bias over a long sum, %i×%i×%i×%i: within one ε of the exact sum', (...shape) => {
    // Tens of thousands of terms per channel, uniform in [-0.75, 1.25), so the sum grows steadily and
    // a float32 running sum drifts with it (summed so, db was off by up to 11 ε on the scalar build
    // and 2 ε on the SIMD ones). Blocks of float32 partial sums added in float64 stay within ε.
    const dy = tensor(shape, rng(11));
    dy.data.forEach((v, i) => { dy.data[i] = v + 0.25; });
    const [N, C, H, W] = shape;
    const exact = refBiasGrad(f64(dy.data), N, C, H * W);
    expectClose(conv2dBackwardBias(dy).data, exact, { atol: 0, rtol: 2 ** -23 }, 'db');
  });

  it('defaults: stride 1, no padding, dilation 1, groups 1, no bias', () => {
    const g = conv(2, 3, 4, [6, 5], 3);
    const r = rng(7);
    const x = tensor(xShape(g), r);
    const w = tensor(wShape(g), r);
    const y = conv2d(x, w);
    expect(y.shape).toEqual(yShape(g));
    expectClose(y.data, refConvForward(g, f64(x.data), f64(w.data), null), tolFor(28), 'y');
    expectClose(conv2d(x, w, undefined).data, y.data, { atol: 0, rtol: 0 }, 'bias undefined');
  });

  it('conv2d 1x1 input 2x2 kernel, by hand: one dot product', () => {
    const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 2, 2] };
    const w = { data: new Float32Array([10, 20, 30, 40]), shape: [1, 1, 2, 2] };
    const y = conv2d(x, w, { data: new Float32Array([0.5]), shape: [1] });
    expect(y.shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(y.data)).toEqual([1 * 10 + 2 * 20 + 3 * 30 + 4 * 40 + 0.5]);
  });

  it('conv2d 3x3 pad 1 on a 1x1 input, by hand: only the kernel centre meets data', () => {
    const x = { data: new Float32Array([2]), shape: [1, 1, 1, 1] };
    const w = { data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), shape: [1, 1, 3, 3] };
    expect(Array.from(conv2d(x, w, null, { padding: 1 }).data)).toEqual([10]);
    const dx = conv2dBackwardInput({ data: new Float32Array([3]), shape: [1, 1, 1, 1] }, w, [1, 1, 1, 1], { padding: 1 });
    expect(Array.from(dx.data)).toEqual([15]);
    const dw = conv2dBackwardFilter(x, { data: new Float32Array([3]), shape: [1, 1, 1, 1] }, [1, 1, 3, 3], { padding: 1 });
    expect(Array.from(dw.data)).toEqual([0, 0, 0, 0, 6, 0, 0, 0, 0]);
  });

  describe.each([conv(1, 3, 5, [7, 9], 3, 1, 1), conv(2, 4, 8, 6, 1), conv(1, 8, 8, 9, 3, 2, 1, 1, 8), conv(1, 4, 4, [6, 22], 3, 1, 1, 1, 4)].map((g) => ({ g, n: convName(g) })))(
    'non-finite values stay where the arithmetic puts them: $n',
    ({ g }) => {
      // NaN and ±Infinity reach only the outputs whose windows read them (the reference decides
      // which), and a clean call afterwards is finite: nothing non-finite survives in scratch.
      const r = rng(55);
      const x = tensor(xShape(g), r);
      const w = tensor(wShape(g), r);
      const dy = tensor(yShape(g), r);
      const bad = (t: { data: Float32Array }) => {
        const d = t.data.slice();
        d[0] = NaN;
        d[Math.floor(d.length / 2)] = Infinity;
        d[d.length - 1] = -Infinity;
        return d;
      };
      const xBad = { data: bad(x), shape: x.shape };
      const wBad = { data: bad(w), shape: w.shape };
      const dyBad = { data: bad(dy), shape: dy.shape };
      const sums = convSums(g);

      it('in x, w and dy, then clean calls', () => {
        expectClose(conv2d(xBad, w, null, convOptions(g)).data, refConvForward(g, f64(xBad.data), f64(w.data), null), tolFor(sums.forward), 'y');
        expectClose(conv2dBackwardFilter(xBad, dy, wShape(g), convOptions(g)).data,
          refConvBackwardFilter(g, f64(xBad.data), f64(dy.data)), tolFor(sums.filter), 'dw');
        expectClose(conv2dBackwardInput(dyBad, w, xShape(g), convOptions(g)).data,
          refConvBackwardInput(g, f64(dyBad.data), f64(w.data)), tolFor(sums.input), 'dx');
        // Non-finite weights (forward, input gradient) and dy (filter gradient), which the
        // padding's zeros would turn into NaN were padded taps not skipped (see the hand-worked
        // case below).
        expectClose(conv2d(x, wBad, null, convOptions(g)).data, refConvForward(g, f64(x.data), f64(wBad.data), null), tolFor(sums.forward), 'y, w non-finite');
        expectClose(conv2dBackwardFilter(x, dyBad, wShape(g), convOptions(g)).data,
          refConvBackwardFilter(g, f64(x.data), f64(dyBad.data)), tolFor(sums.filter), 'dw, dy non-finite');
        expectClose(conv2dBackwardInput(dy, wBad, xShape(g), convOptions(g)).data,
          refConvBackwardInput(g, f64(dy.data), f64(wBad.data)), tolFor(sums.input), 'dx, w non-finite');
        expectClose(conv2d(x, w, null, convOptions(g)).data, refConvForward(g, f64(x.data), f64(w.data), null), tolFor(sums.forward), 'clean y');
        expectClose(conv2dBackwardFilter(x, dy, wShape(g), convOptions(g)).data,
          refConvBackwardFilter(g, f64(x.data), f64(dy.data)), tolFor(sums.filter), 'clean dw');
        expectClose(conv2dBackwardInput(dy, w, xShape(g), convOptions(g)).data,
          refConvBackwardInput(g, f64(dy.data), f64(w.data)), tolFor(sums.input), 'clean dx');
      });
    },
  );

  // Hand-worked: a batch of 2 of 2×2 inputs of ones, a 3×3 kernel, padding 1; taps that fall in the
  // padding are skipped, as PyTorch 1.13's oneDNN path (batches from 2) does: it gives these values,
  // but for the depthwise filter gradient, whose kernel at this tiny size multiplies the padding's
  // zeros (NaN; at 8×8 it skips them too), as does its batch-1 im2col path (README, "Where
  // implementations differ"). Channel 0's top-left weight is Inf: tap (0, 0) of output (oh, ow) reads input
  // (oh − 1, ow − 1), which exists only for output (1, 1): y = [4, 4, 4, Inf] from channel 0 (every
  // window holds all four inputs), plus 4 from channel 1 without groups. Filter gradient with
  // dy[0] = Inf (output (0, 0)) on channel 0: tap (kh, kw) meets an input there only when kh and kw
  // are 1 or 2 (Inf); elsewhere the sum over the other outputs, which is what channel 1 (dy ones)
  // gives for every tap: the number of outputs that meet an input, [1, 2, 1] ⊗ [1, 2, 1].
  it.each([1, 2])('non-finite values meet no padding: padded taps are skipped (groups %i)', (groups) => {
    const ones = (n: number) => new Float32Array(n).fill(1);
    const x = { data: ones(16), shape: [2, 2, 2, 2] };
    const wData = ones(groups === 1 ? 36 : 18);
    wData[0] = Infinity;
    const w = { data: wData, shape: groups === 1 ? [2, 2, 3, 3] : [2, 1, 3, 3] };
    const y = conv2d(x, w, null, { padding: 1, groups });
    const c = groups === 1 ? 8 : 4;
    const image = [c, c, c, Infinity, c, c, c, c];
    expect(Array.from(y.data)).toEqual([...image, ...image]);
    const dyData = ones(16);
    dyData[0] = Infinity;
    const dw = conv2dBackwardFilter(x, { data: dyData, shape: [2, 2, 2, 2] }, w.shape, { padding: 1, groups });
    // Image 1 adds the finite pattern once more; without groups dw[co][ci] pairs dy channel co
    // with x channel ci.
    const inf = [2, 4, 2, 4, Infinity, Infinity, 2, Infinity, Infinity];
    const fin = [2, 4, 2, 4, 8, 4, 2, 4, 2];
    expect(Array.from(dw.data)).toEqual(groups === 1 ? [...inf, ...inf, ...fin, ...fin] : [...inf, ...fin]);
  });

  // Hand-worked, and what PyTorch 1.13 gives: a depthwise 1×2 kernel, stride 1, no padding, on rows
  // of 5 (4 outputs, enough for the SIMD row kernels): dx[iw] = w[0]·dy[iw] + w[1]·dy[iw − 1] over
  // the outputs that exist, so with w = [1, Inf] dx[0] = 1·dy[0] never meets the Inf (the SIMD
  // builds' gathered input gradient, which pads dy with zeros, made it 0·Inf = NaN).
  it('conv2dBackwardInput, depthwise: an infinite weight reaches only the dx elements it multiplies', () => {
    const w = { data: Float32Array.of(1, Infinity, 2, -1), shape: [2, 1, 1, 2] };
    const dy = { data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), shape: [1, 2, 1, 4] };
    const dx = conv2dBackwardInput(dy, w, [1, 2, 1, 5], { groups: 2 });
    expect(Array.from(dx.data)).toEqual([1, Infinity, Infinity, Infinity, Infinity, 10, 7, 8, 9, -8]);
  });

  // Hand-worked: one input channel, three output channels (the SIMD builds take the first two
  // together, the third alone), a 1×4 kernel on a row of 8: 5 outputs, so the last group of 4
  // positions (1..4) overlaps the first (0..3) and must add only position 4. x[2] = Inf meets taps
  // 0 and 1 inside that overlap; masking dy there before the product would give 0·Inf = NaN.
  // dw[co][kw] = Σ_ow dy[co][ow]·x[ow + kw]: ±Inf for taps 0-2, and tap 3 reads x[3..7] = 1 1 1 1 2.
  it('conv2dBackwardFilter, one input channel: a non-finite input in an overlapping last group counts once', () => {
    const x = { data: Float32Array.of(1, 1, Infinity, 1, 1, 1, 1, 2), shape: [1, 1, 1, 8] };
    const dy = { data: Float32Array.of(1, 1, 1, 1, 1, -2, -2, -2, -2, -2, 1, 2, 3, 4, 5), shape: [1, 3, 1, 5] };
    const dw = conv2dBackwardFilter(x, dy, [3, 1, 1, 4]);
    expect(Array.from(dw.data)).toEqual([
      Infinity, Infinity, Infinity, 6, -Infinity, -Infinity, -Infinity, -12, Infinity, Infinity, Infinity, 20,
    ]);
  });

  it('conv2d stride 2 backward input leaves rows no window reached at zero', () => {
    // 6x6 input, 3x3 kernel, stride 2: windows start at 0 and 2, so the last row and column of
    // the input are never read, and their gradient must be exactly 0 (not garbage from scratch).
    const g = conv(1, 2, 3, 6, 3, 2);
    const r = rng(99);
    const w = tensor(wShape(g), r);
    const dy = tensor(yShape(g), r);
    const dx = conv2dBackwardInput(dy, w, xShape(g), convOptions(g));
    for (let c = 0; c < 2; c++) {
      for (let k = 0; k < 6; k++) {
        expect(dx.data[c * 36 + 5 * 6 + k]).toBe(0);
        expect(dx.data[c * 36 + k * 6 + 5]).toBe(0);
      }
    }
  });
});
