// Bad input for every functional op (API.md, "Bad input"): each rule throws the right class with a
// message that names the argument, before any work: the inputs are untouched, the heap holds the
// same bytes as before, and the op still computes the right thing afterwards. Runs on the 'js'
// backend and on the 'simd' WASM build.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ShapeError, avgPool2d, avgPool2dBackward, conv2d, conv2dBackwardBias, conv2dBackwardFilter,
  conv2dBackwardInput, convTranspose2d, init, linear, maxPool2d, maxPool2dBackward, type TensorLike,
} from '../src/index.js';
import { backend, type BackendName } from '../src/runtime/backend.js';
import * as ref from '../src/reference/index.js';

const BACKENDS: BackendName[] = ['js', 'simd'];

/** A tensor of the given shape with distinct, deterministic values. */
function t(shape: number[], seed = 1): TensorLike {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)), shape };
}
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `element ${i}`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(expected[i]));
  }
}

// The valid arguments every bad case is a variation of.
const x = t([2, 3, 5, 5], 1);
const w = t([4, 3, 3, 3], 2);
const b = t([4], 3);
const dy = t([2, 4, 3, 3], 4); // conv2d(x, w) output shape
const tx = t([2, 4, 3, 3], 5); // convTranspose2d input; weight [4, 3, 3, 3] makes 3 channels of 5×5
const pdy = t([2, 3, 2, 2], 6); // pooling kernel 2 (stride 2) over 5×5
const lx = t([2, 3], 7);
const lw = t([4, 3], 8);

/** What each op must compute for the valid arguments, from the float64 reference kernels. */
const CHECKS: Record<string, () => void> = {
  conv2d() {
    const y = new Float64Array(2 * 4 * 9);
    ref.conv2d_forward(y, f64(x.data), f64(w.data), f64(b.data), 2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    const out = conv2d(x, w, b);
    expect(out.shape).toEqual([2, 4, 3, 3]);
    expectClose(out.data, y);
  },
  conv2dBackwardInput() {
    const dx = new Float64Array(2 * 3 * 25);
    ref.conv2d_backward_input(dx, f64(dy.data), f64(w.data), 2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    expectClose(conv2dBackwardInput(dy, w, [2, 3, 5, 5]).data, dx);
  },
  conv2dBackwardFilter() {
    const dw = new Float64Array(4 * 3 * 9);
    ref.conv2d_backward_filter(dw, f64(x.data), f64(dy.data), 2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    expectClose(conv2dBackwardFilter(x, dy, [4, 3, 3, 3]).data, dw);
  },
  conv2dBackwardBias() {
    const db = new Float64Array(4);
    ref.conv2d_backward_bias(db, f64(dy.data), 2, 4, 9);
    expectClose(conv2dBackwardBias(dy).data, db);
  },
  convTranspose2d() {
    const y = new Float64Array(2 * 3 * 25);
    ref.conv2d_backward_input(y, f64(tx.data), f64(w.data), 2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    ref.add_channel_bias(y, f64(b.data.subarray(0, 3)), 2, 3, 25);
    const out = convTranspose2d(tx, w, { data: b.data.slice(0, 3), shape: [3] });
    expect(out.shape).toEqual([2, 3, 5, 5]);
    expectClose(out.data, y);
  },
  maxPool2d() {
    const y = new Float64Array(24);
    const idx = new Int32Array(24);
    ref.maxpool2d_forward(y, idx, f64(x.data), 6, 5, 5, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1);
    const out = maxPool2d(x, { kernelSize: 2 });
    expectClose(out.output.data, y);
    expect([...out.indices]).toEqual([...idx]);
  },
  maxPool2dBackward() {
    const { indices } = maxPool2d(x, { kernelSize: 2 });
    const dx = new Float64Array(150);
    ref.maxpool2d_backward(dx, f64(pdy.data), indices, 6, 5, 5, 2, 2);
    expectClose(maxPool2dBackward(pdy, indices, [2, 3, 5, 5]).data, dx);
  },
  avgPool2d() {
    const y = new Float64Array(24);
    ref.avgpool2d_forward(y, f64(x.data), 6, 5, 5, 2, 2, 2, 2, 2, 2, 0, 0, 1);
    expectClose(avgPool2d(x, { kernelSize: 2 }).data, y);
  },
  avgPool2dBackward() {
    const dx = new Float64Array(150);
    ref.avgpool2d_backward(dx, f64(pdy.data), 6, 5, 5, 2, 2, 2, 2, 2, 2, 0, 0, 1);
    expectClose(avgPool2dBackward(pdy, [2, 3, 5, 5], { kernelSize: 2 }).data, dx);
  },
  linear() {
    const y = new Float64Array(8);
    ref.linear_forward(y, f64(lx.data), f64(lw.data), f64(b.data), 2, 3, 4);
    expectClose(linear(lx, lw, b).data, y);
  },
};

type ErrorClass = typeof ShapeError | typeof TypeError;
interface BadCase {
  op: keyof typeof CHECKS;
  what: string;
  call: () => unknown;
  error: ErrorClass;
  /** The argument the message must name. */
  names: RegExp;
  /** Values the message must show (expected and actual). */
  shows?: string[];
}

const f64Data = (s: TensorLike) => ({ data: Float64Array.from(s.data), shape: s.shape }) as unknown as TensorLike;
const short = (s: TensorLike) => ({ data: s.data.subarray(1), shape: s.shape });
const any = (v: unknown) => v as never;

const CASES: BadCase[] = [
  // conv2d
  { op: 'conv2d', what: 'x of rank 3', call: () => conv2d(t([3, 5, 5]), w), error: ShapeError, names: /\bx\b/, shows: ['4', '3'] },
  { op: 'conv2d', what: 'x.data shorter than its shape', call: () => conv2d(short(x), w), error: ShapeError, names: /\bx\.data/, shows: ['149', '150'] },
  { op: 'conv2d', what: 'x.data a Float64Array', call: () => conv2d(f64Data(x), w), error: TypeError, names: /\bx\.data/ },
  { op: 'conv2d', what: 'x a plain array', call: () => conv2d(any([1, 2, 3]), w), error: TypeError, names: /\bx\b/ },
  { op: 'conv2d', what: 'x missing', call: () => conv2d(any(undefined), w), error: TypeError, names: /\bx\b/ },
  { op: 'conv2d', what: 'weight of rank 2', call: () => conv2d(x, t([4, 27])), error: ShapeError, names: /weight/ },
  { op: 'conv2d', what: 'weight.data a plain array', call: () => conv2d(x, any({ data: [...w.data], shape: w.shape })), error: TypeError, names: /weight/ },
  { op: 'conv2d', what: 'x channels not matching the weight', call: () => conv2d(x, t([4, 2, 3, 3])), error: ShapeError, names: /\bx\b.*weight|weight.*\bx\b/, shows: ['3', '2'] },
  { op: 'conv2d', what: 'x channels not divisible by groups', call: () => conv2d(x, t([4, 1, 3, 3]), null, { groups: 2 }), error: ShapeError, names: /groups/, shows: ['3', '2'] },
  { op: 'conv2d', what: 'weight outputs not divisible by groups', call: () => conv2d(t([1, 4, 5, 5]), t([3, 2, 3, 3]), null, { groups: 2 }), error: ShapeError, names: /weight/, shows: ['3', '2'] },
  { op: 'conv2d', what: 'weight channels times groups not x channels', call: () => conv2d(t([1, 4, 5, 5]), t([4, 4, 3, 3]), null, { groups: 2 }), error: ShapeError, names: /weight/, shows: ['4', '8'] },
  { op: 'conv2d', what: 'kernel larger than the padded input', call: () => conv2d(x, t([4, 3, 7, 7]), null, { padding: 0 }), error: ShapeError, names: /weight/, shows: ['7', '5'] },
  { op: 'conv2d', what: 'dilated kernel larger than the padded input', call: () => conv2d(x, w, null, { dilation: 3 }), error: ShapeError, names: /weight/, shows: ['7', '5'] },
  { op: 'conv2d', what: 'stride 0', call: () => conv2d(x, w, null, { stride: 0 }), error: ShapeError, names: /stride/, shows: ['0'] },
  { op: 'conv2d', what: 'negative stride height', call: () => conv2d(x, w, null, { stride: [-1, 1] }), error: ShapeError, names: /stride/, shows: ['-1'] },
  { op: 'conv2d', what: 'dilation 0', call: () => conv2d(x, w, null, { dilation: [1, 0] }), error: ShapeError, names: /dilation/ },
  { op: 'conv2d', what: 'negative padding', call: () => conv2d(x, w, null, { padding: -1 }), error: ShapeError, names: /padding/, shows: ['-1'] },
  { op: 'conv2d', what: 'padding NaN', call: () => conv2d(x, w, null, { padding: NaN }), error: TypeError, names: /padding/, shows: ['NaN'] },
  { op: 'conv2d', what: 'stride Infinity', call: () => conv2d(x, w, null, { stride: [1, Infinity] }), error: TypeError, names: /stride/, shows: ['[1, Infinity]'] },
  { op: 'conv2d', what: 'groups 0', call: () => conv2d(x, w, null, { groups: 0 }), error: ShapeError, names: /groups/ },
  { op: 'conv2d', what: 'bias of the wrong length', call: () => conv2d(x, w, t([3])), error: ShapeError, names: /bias/, shows: ['3', '4'] },
  { op: 'conv2d', what: 'bias of rank 2', call: () => conv2d(x, w, t([1, 4])), error: ShapeError, names: /bias/ },
  { op: 'conv2d', what: 'bias.data a Float64Array', call: () => conv2d(x, w, f64Data(b)), error: TypeError, names: /bias/ },
  { op: 'conv2d', what: "padding 'same' at stride 2", call: () => conv2d(x, w, null, { padding: 'same', stride: [1, 2] }), error: ShapeError, names: /padding 'same'.*stride/, shows: ['[1, 2]'] },
  { op: 'conv2d', what: "padding 'same' for an even kernel", call: () => conv2d(x, t([4, 3, 2, 3]), null, { padding: 'same' }), error: ShapeError, names: /padding 'same'/, shows: ['[2, 3]', '[1, 2]'] },
  { op: 'conv2dBackwardFilter', what: "padding 'same' for an even dilated kernel", call: () => conv2dBackwardFilter(x, t([2, 4, 5, 5]), [4, 3, 3, 2], { padding: 'same', dilation: [1, 3] }), error: ShapeError, names: /padding 'same'/, shows: ['[2, 3]'] },
  { op: 'conv2d', what: 'padding a string other than same or valid', call: () => conv2d(x, w, null, { padding: any('SAME') }), error: TypeError, names: /padding/, shows: ['"SAME"', "'same' or 'valid'"] },
  { op: 'convTranspose2d', what: "padding 'same' (PyTorch's takes numbers)", call: () => convTranspose2d(tx, w, null, { padding: any('same') }), error: TypeError, names: /padding/, shows: ['"same"'] },
  { op: 'conv2d', what: 'options not an object', call: () => conv2d(x, w, null, any(3)), error: TypeError, names: /options/ },
  // conv2dBackwardInput
  { op: 'conv2dBackwardInput', what: 'dy batch not matching inputShape', call: () => conv2dBackwardInput(t([1, 4, 3, 3]), w, [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['1', '2'] },
  { op: 'conv2dBackwardInput', what: 'dy channels not matching the weight', call: () => conv2dBackwardInput(t([2, 5, 3, 3]), w, [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['5', '4'] },
  { op: 'conv2dBackwardInput', what: 'dy spatial size not the forward output', call: () => conv2dBackwardInput(t([2, 4, 4, 3]), w, [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['4', '3'] },
  { op: 'conv2dBackwardInput', what: 'dy of rank 3', call: () => conv2dBackwardInput(t([4, 3, 3]), w, [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/ },
  { op: 'conv2dBackwardInput', what: 'dy.data a Float64Array', call: () => conv2dBackwardInput(f64Data(dy), w, [2, 3, 5, 5]), error: TypeError, names: /\bdy\b/ },
  { op: 'conv2dBackwardInput', what: 'inputShape of rank 3', call: () => conv2dBackwardInput(dy, w, [3, 5, 5]), error: ShapeError, names: /inputShape/ },
  { op: 'conv2dBackwardInput', what: 'inputShape channels not matching the weight', call: () => conv2dBackwardInput(dy, w, [2, 2, 5, 5]), error: ShapeError, names: /inputShape/, shows: ['2', '3'] },
  { op: 'conv2dBackwardInput', what: 'inputShape not an array', call: () => conv2dBackwardInput(dy, w, any('2,3,5,5')), error: TypeError, names: /inputShape/ },
  { op: 'conv2dBackwardInput', what: 'kernel larger than the padded inputShape', call: () => conv2dBackwardInput(dy, w, [2, 3, 2, 2]), error: ShapeError, names: /weight/ },
  { op: 'conv2dBackwardInput', what: 'stride 0', call: () => conv2dBackwardInput(dy, w, [2, 3, 5, 5], { stride: 0 }), error: ShapeError, names: /stride/ },
  // conv2dBackwardFilter
  { op: 'conv2dBackwardFilter', what: 'weightShape channels not matching x', call: () => conv2dBackwardFilter(x, dy, [4, 2, 3, 3]), error: ShapeError, names: /weightShape/ },
  { op: 'conv2dBackwardFilter', what: 'weightShape of rank 5', call: () => conv2dBackwardFilter(x, dy, [4, 3, 3, 3, 1]), error: ShapeError, names: /weightShape/ },
  { op: 'conv2dBackwardFilter', what: 'dy channels not matching weightShape', call: () => conv2dBackwardFilter(x, dy, [8, 3, 3, 3]), error: ShapeError, names: /\bdy\b/, shows: ['4', '8'] },
  { op: 'conv2dBackwardFilter', what: 'dy spatial size not the forward output', call: () => conv2dBackwardFilter(x, dy, [4, 3, 3, 3], { padding: 1 }), error: ShapeError, names: /\bdy\b/, shows: ['3', '5'] },
  { op: 'conv2dBackwardFilter', what: 'dy batch not matching x', call: () => conv2dBackwardFilter(t([3, 3, 5, 5]), dy, [4, 3, 3, 3]), error: ShapeError, names: /\bdy\b/, shows: ['2', '3'] },
  { op: 'conv2dBackwardFilter', what: 'x of rank 2', call: () => conv2dBackwardFilter(t([2, 75]), dy, [4, 3, 3, 3]), error: ShapeError, names: /\bx\b/ },
  { op: 'conv2dBackwardFilter', what: 'groups not dividing', call: () => conv2dBackwardFilter(x, dy, [4, 1, 3, 3], { groups: 3 }), error: ShapeError, names: /groups/ },
  // conv2dBackwardBias
  { op: 'conv2dBackwardBias', what: 'dy of rank 2', call: () => conv2dBackwardBias(t([2, 4])), error: ShapeError, names: /\bdy\b/ },
  { op: 'conv2dBackwardBias', what: 'dy.data longer than its shape', call: () => conv2dBackwardBias({ data: new Float32Array(73), shape: dy.shape }), error: ShapeError, names: /\bdy\b/, shows: ['73', '72'] },
  { op: 'conv2dBackwardBias', what: 'dy.data an Int32Array', call: () => conv2dBackwardBias(any({ data: new Int32Array(72), shape: dy.shape })), error: TypeError, names: /\bdy\b/ },
  // convTranspose2d
  { op: 'convTranspose2d', what: 'x channels not matching weight dimension 0', call: () => convTranspose2d(t([2, 5, 3, 3]), w), error: ShapeError, names: /\bx\b/, shows: ['5', '4'] },
  { op: 'convTranspose2d', what: 'x channels not divisible by groups', call: () => convTranspose2d(tx, w, null, { groups: 3 }), error: ShapeError, names: /groups/ },
  { op: 'convTranspose2d', what: 'outputPadding not below stride or dilation', call: () => convTranspose2d(tx, w, null, { stride: 2, outputPadding: 2 }), error: ShapeError, names: /outputPadding/, shows: ['2'] },
  { op: 'convTranspose2d', what: 'outputPadding with stride and dilation 1', call: () => convTranspose2d(tx, w, null, { outputPadding: [0, 1] }), error: ShapeError, names: /outputPadding/ },
  { op: 'convTranspose2d', what: 'negative outputPadding', call: () => convTranspose2d(tx, w, null, { outputPadding: -1 }), error: ShapeError, names: /outputPadding/ },
  { op: 'convTranspose2d', what: 'padding leaving no output', call: () => convTranspose2d(t([1, 4, 1, 1]), t([4, 3, 1, 1]), null, { padding: 1 }), error: ShapeError, names: /padding/ },
  { op: 'convTranspose2d', what: 'bias of the wrong length', call: () => convTranspose2d(tx, w, b), error: ShapeError, names: /bias/, shows: ['4', '3'] },
  { op: 'convTranspose2d', what: 'weight of rank 3', call: () => convTranspose2d(tx, t([4, 3, 9])), error: ShapeError, names: /weight/ },
  { op: 'convTranspose2d', what: 'dilation 0', call: () => convTranspose2d(tx, w, null, { dilation: 0 }), error: ShapeError, names: /dilation/ },
  { op: 'convTranspose2d', what: 'x.data a Float64Array', call: () => convTranspose2d(f64Data(tx), w), error: TypeError, names: /\bx\b/ },
  // Options an op does not take (PyTorch refuses an unexpected keyword argument too); the
  // PyTorch options it does not implement, at a value that asks for something.
  { op: 'conv2d', what: 'an unknown option (TF.js\'s strides)', call: () => conv2d(x, w, null, any({ strides: 2 })), error: TypeError, names: /strides/, shows: ['stride, padding, dilation, groups'] },
  { op: 'conv2dBackwardInput', what: 'an unknown option', call: () => conv2dBackwardInput(dy, w, [2, 3, 5, 5], any({ pad: 1 })), error: TypeError, names: /\bpad\b/ },
  { op: 'conv2dBackwardFilter', what: 'an unknown option', call: () => conv2dBackwardFilter(x, dy, [4, 3, 3, 3], any({ outputPadding: 0 })), error: TypeError, names: /outputPadding/ },
  { op: 'convTranspose2d', what: 'an unknown option', call: () => convTranspose2d(tx, w, null, any({ output_padding: 1 })), error: TypeError, names: /output_padding/, shows: ['outputPadding'] },
  { op: 'maxPool2d', what: 'ceilMode true', call: () => maxPool2d(x, any({ kernelSize: 2, ceilMode: true })), error: TypeError, names: /ceilMode/, shows: ['floor mode'] },
  { op: 'maxPool2d', what: 'returnIndices false', call: () => maxPool2d(x, any({ kernelSize: 2, returnIndices: false })), error: TypeError, names: /returnIndices/ },
  { op: 'avgPool2d', what: 'divisorOverride 1', call: () => avgPool2d(x, any({ kernelSize: 2, divisorOverride: 1 })), error: TypeError, names: /divisorOverride/, shows: ['1'] },
  { op: 'avgPool2d', what: 'a dilation (max pooling\'s option)', call: () => avgPool2d(x, any({ kernelSize: 2, dilation: 2 })), error: TypeError, names: /dilation/, shows: ['countIncludePad'] },
  { op: 'avgPool2dBackward', what: 'ceilMode true', call: () => avgPool2dBackward(pdy, [2, 3, 5, 5], any({ kernelSize: 2, ceilMode: true })), error: TypeError, names: /ceilMode/ },
  // maxPool2d
  { op: 'maxPool2d', what: 'no options', call: () => maxPool2d(x, any(undefined)), error: TypeError, names: /options/ },
  { op: 'maxPool2d', what: 'no kernelSize', call: () => maxPool2d(x, any({ stride: 2 })), error: TypeError, names: /kernelSize/ },
  { op: 'maxPool2d', what: 'padding over half the kernel', call: () => maxPool2d(x, { kernelSize: 3, padding: 2 }), error: ShapeError, names: /padding/, shows: ['2', '3'] },
  { op: 'maxPool2d', what: 'padding over half the kernel width', call: () => maxPool2d(x, { kernelSize: [3, 2], padding: [1, 2] }), error: ShapeError, names: /padding/ },
  { op: 'maxPool2d', what: 'kernel larger than the input', call: () => maxPool2d(x, { kernelSize: 6 }), error: ShapeError, names: /kernelSize/, shows: ['6', '5'] },
  { op: 'maxPool2d', what: 'kernelSize 0', call: () => maxPool2d(x, { kernelSize: 0 }), error: ShapeError, names: /kernelSize/ },
  { op: 'maxPool2d', what: 'stride 0', call: () => maxPool2d(x, { kernelSize: 2, stride: 0 }), error: ShapeError, names: /stride/ },
  { op: 'maxPool2d', what: 'dilation 0', call: () => maxPool2d(x, { kernelSize: 2, dilation: 0 }), error: ShapeError, names: /dilation/ },
  { op: 'maxPool2d', what: 'negative padding', call: () => maxPool2d(x, { kernelSize: 2, padding: -1 }), error: ShapeError, names: /padding/ },
  { op: 'maxPool2d', what: 'x of rank 3', call: () => maxPool2d(t([3, 5, 5]), { kernelSize: 2 }), error: ShapeError, names: /\bx\b/ },
  { op: 'maxPool2d', what: 'x.data a Float64Array', call: () => maxPool2d(f64Data(x), { kernelSize: 2 }), error: TypeError, names: /\bx\b/ },
  // maxPool2dBackward
  { op: 'maxPool2dBackward', what: 'indices shorter than dy', call: () => maxPool2dBackward(pdy, new Int32Array(23), [2, 3, 5, 5]), error: ShapeError, names: /indices/, shows: ['23', '24'] },
  { op: 'maxPool2dBackward', what: 'indices a Float32Array', call: () => maxPool2dBackward(pdy, any(new Float32Array(24)), [2, 3, 5, 5]), error: TypeError, names: /indices/ },
  { op: 'maxPool2dBackward', what: 'dy batch not matching inputShape', call: () => maxPool2dBackward(pdy, new Int32Array(24), [3, 3, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['2', '3'] },
  { op: 'maxPool2dBackward', what: 'dy channels not matching inputShape', call: () => maxPool2dBackward(pdy, new Int32Array(24), [2, 4, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['3', '4'] },
  { op: 'maxPool2dBackward', what: 'dy wider than any pooling of inputShape', call: () => maxPool2dBackward(t([2, 3, 2, 7]), new Int32Array(84), [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/, shows: ['7', '6'] },
  { op: 'maxPool2dBackward', what: 'inputShape of rank 3', call: () => maxPool2dBackward(pdy, new Int32Array(24), [3, 5, 5]), error: ShapeError, names: /inputShape/ },
  { op: 'maxPool2dBackward', what: 'dy of rank 2', call: () => maxPool2dBackward(t([6, 4]), new Int32Array(24), [2, 3, 5, 5]), error: ShapeError, names: /\bdy\b/ },
  // avgPool2d
  { op: 'avgPool2d', what: 'no options', call: () => avgPool2d(x, any(undefined)), error: TypeError, names: /options/ },
  { op: 'avgPool2d', what: 'no kernelSize', call: () => avgPool2d(x, any({ padding: 0 })), error: TypeError, names: /kernelSize/ },
  { op: 'avgPool2d', what: 'padding over half the kernel', call: () => avgPool2d(x, { kernelSize: 2, padding: 2 }), error: ShapeError, names: /padding/ },
  { op: 'avgPool2d', what: 'kernel larger than the padded input', call: () => avgPool2d(t([1, 1, 2, 2]), { kernelSize: 5, padding: 1 }), error: ShapeError, names: /kernelSize/ },
  { op: 'avgPool2d', what: 'stride 0', call: () => avgPool2d(x, { kernelSize: 2, stride: [2, 0] }), error: ShapeError, names: /stride/ },
  { op: 'avgPool2d', what: 'countIncludePad not a boolean', call: () => avgPool2d(x, { kernelSize: 2, countIncludePad: any('no') }), error: TypeError, names: /countIncludePad/ },
  { op: 'avgPool2d', what: 'x of rank 5', call: () => avgPool2d(t([1, 2, 3, 5, 5]), { kernelSize: 2 }), error: ShapeError, names: /\bx\b/ },
  // avgPool2dBackward
  { op: 'avgPool2dBackward', what: 'dy spatial size not the forward output', call: () => avgPool2dBackward(t([2, 3, 3, 3]), [2, 3, 5, 5], { kernelSize: 2 }), error: ShapeError, names: /\bdy\b/, shows: ['3', '2'] },
  { op: 'avgPool2dBackward', what: 'dy channels not matching inputShape', call: () => avgPool2dBackward(pdy, [2, 1, 5, 5], { kernelSize: 2 }), error: ShapeError, names: /\bdy\b/, shows: ['3', '1'] },
  { op: 'avgPool2dBackward', what: 'inputShape of rank 2', call: () => avgPool2dBackward(pdy, [5, 5], { kernelSize: 2 }), error: ShapeError, names: /inputShape/ },
  { op: 'avgPool2dBackward', what: 'no options', call: () => avgPool2dBackward(pdy, [2, 3, 5, 5], any(undefined)), error: TypeError, names: /options/ },
  { op: 'avgPool2dBackward', what: 'padding over half the kernel', call: () => avgPool2dBackward(pdy, [2, 3, 5, 5], { kernelSize: 2, padding: 2 }), error: ShapeError, names: /padding/ },
  // linear
  { op: 'linear', what: 'x of rank 4', call: () => linear(x, lw), error: ShapeError, names: /\bx\b/, shows: ['2', '4'] },
  { op: 'linear', what: 'weight of rank 1', call: () => linear(lx, t([12])), error: ShapeError, names: /weight/ },
  { op: 'linear', what: 'weight in-features not matching x', call: () => linear(lx, t([4, 5])), error: ShapeError, names: /weight/, shows: ['3', '5'] },
  { op: 'linear', what: 'bias of the wrong length', call: () => linear(lx, lw, t([3])), error: ShapeError, names: /bias/, shows: ['3', '4'] },
  { op: 'linear', what: 'x.data a Float64Array', call: () => linear(f64Data(lx), lw), error: TypeError, names: /\bx\b/ },
  { op: 'linear', what: 'weight.data shorter than its shape', call: () => linear(lx, short(lw)), error: ShapeError, names: /weight/, shows: ['11', '12'] },
  // Sizes past the kernels' i32 arguments or WebAssembly's 4 GiB (these trapped, hung, or computed
  // wrong values on the WASM builds before they were checked)
  { op: 'conv2d', what: 'stride past 32 bits', call: () => conv2d(x, w, null, { stride: 2 ** 32 }), error: ShapeError, names: /stride/, shows: ['2147483647', '4294967296'] },
  { op: 'conv2d', what: 'groups past 32 bits', call: () => conv2d(x, w, null, { groups: 2 ** 31 }), error: ShapeError, names: /groups/, shows: ['2147483647'] },
  { op: 'conv2d', what: 'padding whose padded image passes 1 GiB', call: () => conv2d(t([1, 1, 1, 1]), t([1, 1, 1, 1]), null, { padding: 20000, stride: 40000 }), error: ShapeError, names: /padd/, shows: ['40001', '20000'] },
  { op: 'conv2dBackwardInput', what: 'inputShape past 32 bits', call: () => conv2dBackwardInput(dy, w, [2, 3, 2 ** 31, 5]), error: ShapeError, names: /inputShape/, shows: ['2147483648'] },
  { op: 'conv2dBackwardBias', what: 'an empty dy with channels past 32 bits', call: () => conv2dBackwardBias({ data: new Float32Array(0), shape: [0, 2 ** 40, 1, 1] }), error: ShapeError, names: /\bdy\b/, shows: ['1099511627776'] },
  { op: 'convTranspose2d', what: 'stride past 32 bits', call: () => convTranspose2d(t([1, 1, 2, 1]), t([1, 1, 1, 1]), null, { stride: [2 ** 32, 1], padding: [2 ** 31 - 1, 0] }), error: ShapeError, names: /stride/ },
  { op: 'convTranspose2d', what: 'an output whose padded image passes 1 GiB', call: () => convTranspose2d(t([1, 1, 2, 2]), t([1, 1, 1, 1]), null, { stride: 100000 }), error: ShapeError, names: /padded image/ },
  { op: 'maxPool2d', what: 'dilation past 32 bits', call: () => maxPool2d(x, { kernelSize: 1, dilation: 2 ** 32 }), error: ShapeError, names: /dilation/ },
  { op: 'maxPool2dBackward', what: 'an inputShape past 4 GiB', call: () => maxPool2dBackward(t([1, 1, 1, 1]), new Int32Array(1), [1, 1, 50000, 50000]), error: ShapeError, names: /maxPool2dBackward/, shows: ['4 GiB'] },
  { op: 'avgPool2dBackward', what: 'an inputShape past 4 GiB', call: () => avgPool2dBackward(t([1, 1, 1, 1]), [1, 1, 60000, 60000], { kernelSize: 60000 }), error: ShapeError, names: /avgPool2dBackward/, shows: ['4 GiB'] },
  { op: 'linear', what: 'weight with out-features past 32 bits', call: () => linear({ data: new Float32Array(0), shape: [1, 0] }, { data: new Float32Array(0), shape: [2 ** 40, 0] }), error: ShapeError, names: /weight/ },
];

const ALL_INPUTS = [x, w, b, dy, tx, pdy, lx, lw];

describe.each(BACKENDS)('bad input on the %s backend', (name) => {
  beforeAll(() => init({ backend: name }));

  it('runs on the requested backend', () => {
    expect(backend().name).toBe(name);
  });

  it.each(Object.keys(CHECKS))('%s works on valid input', (op) => {
    CHECKS[op]();
  });

  it.each(CASES.map((c) => [`${c.op}: ${c.what}`, c] as const))('%s', (_, c) => {
    const heap = backend().heap;
    const before = heap.allocatedBytes;
    const snapshot = ALL_INPUTS.map((s) => s.data.slice());
    let thrown: unknown;
    try {
      c.call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'it must throw').toBeInstanceOf(c.error);
    // A TypeError case must not be a ShapeError (a RangeError), and the other way round.
    if (c.error === TypeError) expect(thrown).not.toBeInstanceOf(RangeError);
    const message = (thrown as Error).message;
    expect(message).toMatch(c.names);
    for (const v of c.shows ?? []) expect(message).toContain(v);
    expect(heap.allocatedBytes).toBe(before);
    ALL_INPUTS.forEach((s, i) => expect(s.data).toEqual(snapshot[i]));
    CHECKS[c.op]();
    expect(heap.allocatedBytes).toBe(before);
  });

  it('ShapeError is a RangeError named ShapeError', () => {
    const e = (() => {
      try {
        conv2d(x, t([4, 2, 3, 3]));
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(RangeError);
    expect(e?.name).toBe('ShapeError');
  });

  it('accepts the optional arguments the API allows', () => {
    expect(conv2d(x, w).shape).toEqual([2, 4, 3, 3]);
    expect(conv2d(x, w, undefined).shape).toEqual([2, 4, 3, 3]);
    expect(conv2d(x, w, null, {}).shape).toEqual([2, 4, 3, 3]);
    expect(conv2d(x, w, b, { padding: 5 }).shape).toEqual([2, 4, 13, 13]); // padding beyond half the kernel
    // PyTorch's named paddings (test/ops-torch.test.ts checks their values).
    expect(conv2d(x, w, b, { padding: 'same' }).shape).toEqual([2, 4, 5, 5]);
    expect(conv2d(x, w, b, { padding: 'valid', stride: 2 }).shape).toEqual([2, 4, 2, 2]);
    expect(convTranspose2d(tx, w).shape).toEqual([2, 3, 5, 5]);
    // outputPadding below dilation but not below stride is allowed, as in PyTorch.
    expect(convTranspose2d(tx, w, null, { dilation: 2, outputPadding: 1 }).shape).toEqual([2, 3, 8, 8]);
    expect(maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }).output.shape).toEqual([2, 3, 5, 5]);
    expect(avgPool2d(x, { kernelSize: [3, 1], padding: [1, 0] }).shape).toEqual([2, 3, 2, 5]);
    expect(linear(lx, lw, null).shape).toEqual([2, 4]);
    // A field set to undefined is absent; PyTorch options at the value that asks for nothing pass.
    expect(conv2d(x, w, null, any({ stride: undefined, strides: undefined })).shape).toEqual([2, 4, 3, 3]);
    expect(maxPool2d(x, any({ kernelSize: 2, ceilMode: false, returnIndices: true })).output.shape).toEqual([2, 3, 2, 2]);
    expect(avgPool2d(x, any({ kernelSize: 2, ceilMode: false, divisorOverride: null })).shape).toEqual([2, 3, 2, 2]);
  });

  it('a batch of 0 gives empty outputs and zero parameter gradients without touching the heap', () => {
    const heap = backend().heap;
    const before = heap.allocatedBytes;
    const x0 = t([0, 3, 5, 5]);
    const dy0 = t([0, 4, 3, 3]);
    expect(conv2d(x0, w, b).shape).toEqual([0, 4, 3, 3]);
    expect(conv2dBackwardInput(dy0, w, [0, 3, 5, 5]).data.length).toBe(0);
    const dw = conv2dBackwardFilter(x0, dy0, [4, 3, 3, 3]);
    expect(dw.shape).toEqual([4, 3, 3, 3]);
    expect([...dw.data].every((v) => v === 0)).toBe(true);
    expect([...conv2dBackwardBias(dy0).data]).toEqual([0, 0, 0, 0]);
    expect(convTranspose2d(t([0, 4, 3, 3]), w).shape).toEqual([0, 3, 5, 5]);
    const { output, indices } = maxPool2d(x0, { kernelSize: 2 });
    expect(output.shape).toEqual([0, 3, 2, 2]);
    expect(indices.length).toBe(0);
    expect(maxPool2dBackward(t([0, 3, 2, 2]), indices, [0, 3, 5, 5]).shape).toEqual([0, 3, 5, 5]);
    expect(avgPool2d(x0, { kernelSize: 2 }).shape).toEqual([0, 3, 2, 2]);
    expect(linear(t([0, 3]), lw, b).shape).toEqual([0, 4]);
    // No input features: the empty sum leaves the bias.
    expect([...linear(t([2, 0]), t([4, 0]), b).data]).toEqual([...b.data, ...b.data]);
    expect(heap.allocatedBytes).toBe(before);
  });
});

describe('a kernel that throws midway', () => {
  beforeAll(() => init({ backend: 'js' }));

  it('releases every buffer and leaves the op usable', () => {
    // The 'js' backend's kernels are a plain object, so one can be made to fail for one call.
    const k = backend().k as unknown as Record<string, unknown>;
    const heap = backend().heap;
    const before = heap.allocatedBytes;
    const original = k.conv2d_forward;
    k.conv2d_forward = () => {
      throw new Error('kernel failure');
    };
    try {
      expect(() => conv2d(x, w, b)).toThrow('kernel failure');
    } finally {
      k.conv2d_forward = original;
    }
    expect(heap.allocatedBytes).toBe(before);
    CHECKS.conv2d();
  });
});
