// conv2d, its three gradients (torch.nn.grad.conv2d_input / conv2d_weight, and the bias sum) and
// convTranspose2d, which is conv2d's input gradient with the roles of input and output swapped.
import {
  checkGradShape, checkShape4, checkTensor, conv2dGeometry, convArgs, convOutputShape, convParams,
  convTranspose2dGeometry, shapeText, type Conv2dOptions, type ConvGeometry, type ConvTranspose2dOptions,
} from '../shapes.js';
import { sizeOf, Tensor, type TensorLike } from '../tensor.js';
import * as reference from '../reference/index.js';
import { checkBias, CHUNK_BYTES, run } from './run.js';

/** Which convolutions `run` hands a chunk of images at a time (about CHUNK_BYTES of input), each
 *  copied in just before the kernel reads it and its output copied out just after. Depthwise ones,
 *  bound by reading x (through the API on 8×64×56×56 3×3 at strides 1 and 2, minima of interleaved
 *  runs: forward −4..9%, filter gradient −9..21%, input gradient 0..−11%); every filter gradient, a
 *  sum over the images anyway (C3 on simd, A/B medians and minima through the API: −3..8%; C1, C2
 *  and C4 within ±2%); and the other forwards and input gradients whose weights fill at most a
 *  quarter of a chunk, since the GEMM packs them again for every chunk (through the API, medians of
 *  pairs of calls in turn: C3 forward −2..3% on relaxed-simd, simd and scalar, its input gradient
 *  −3%, 3×3 on 8×64×56×56 −2..4%, C1 within 1%; with 1.2 and 2.4 MB of weights, on 32×128×14×14 at
 *  stride 2 and 2×256×56×56, up to 2% slower). Returns run's `planes` and the batch of a chunk of
 *  `count` images. */
function imageChunks(g: ConvGeometry, filter = false): { planes: number; batch: (count: number) => number } {
  const weightBytes = 4 * g.Cout * (g.Cin / g.groups) * g.kH * g.kW;
  const chunked = filter || (g.groups > 1 && g.Cin === g.groups) || weightBytes <= CHUNK_BYTES / 4;
  return { planes: chunked ? g.N : 1, batch: (count) => (chunked ? count : g.N) };
}

// The padding's zeros and non-finite values. The WASM kernels read a zero-padded copy of x and
// multiply its zeros like any input, so 0 · ±Infinity or NaN makes NaN; PyTorch's usual CPU paths
// (oneDNN from batch 2, its depthwise forward) skip the padded taps and leave those outputs finite,
// as the reference kernels do. The two part only where a non-finite value meets the padding: a
// weight in a padded forward (a scan of the weights finds it before any work), or dy at an output
// whose window reaches the padding in the filter gradient (which then leaves NaN in dw: the small
// dw is checked after the kernel, and only then dy's border). Those calls are computed again by
// the reference kernels.

const padded = (g: ConvGeometry) => g.pH > 0 || g.pW > 0;

/** Neither ±Infinity nor NaN: v − v is then 0, else NaN. */
const finite = (v: number) => v - v === 0;

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!finite(a[i])) return false;
  return true;
}

function anyNaN(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== a[i]) return true;
  return false;
}

/** Whether dy (N, Cout, Hout, Wout) holds ±Infinity or NaN at an output whose window reaches
 *  into the padding. */
function nonFiniteAtBorder(dy: Float32Array, g: ConvGeometry): boolean {
  const { Hout, Wout } = g;
  const border = (o: number, s: number, p: number, k: number, d: number, size: number) =>
    o * s - p < 0 || o * s - p + (k - 1) * d >= size;
  for (let i = 0; i < dy.length; i++) {
    if (finite(dy[i])) continue;
    const ow = i % Wout, oh = Math.floor(i / Wout) % Hout;
    if (border(oh, g.sH, g.pH, g.kH, g.dH, g.H) || border(ow, g.sW, g.pW, g.kW, g.dW, g.W)) return true;
  }
  return false;
}

/** y = conv2d(x [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW]) + bias [Cout]. */
export function conv2d(
  x: TensorLike, weight: TensorLike, bias?: TensorLike | null, options?: Conv2dOptions,
): Tensor {
  const op = 'conv2d';
  checkTensor(x, `${op}: x`, 4);
  checkTensor(weight, `${op}: weight`, 4);
  const g = conv2dGeometry(op, x.shape, weight.shape, convParams(op, options, weight.shape.slice(2)));
  const b = checkBias(op, bias, g.Cout);
  const shape = convOutputShape(g);
  if (padded(g) && !allFinite(weight.data)) {
    const y = new Float32Array(sizeOf(shape));
    reference.conv2d_forward(y, x.data, weight.data, b, ...convArgs(g));
    return new Tensor(y, shape);
  }
  const { planes, batch } = imageChunks(g);
  const [y] = run(op, [x.data, weight.data, b], [{ size: sizeOf(shape) }],
    (k) => k.conv2d_scratch_bytes(...convArgs(g)),
    (k, [y, x, w, b], scratch, images) => k.conv2d_forward(y, x, w, b, scratch, ...convArgs(g, batch(images))),
    planes, [1, 2]);
  return new Tensor(y as Float32Array, shape);
}

/** dL/dx [inputShape] of conv2d, from dy (the gradient of its output) and the weight. */
export function conv2dBackwardInput(
  dy: TensorLike, weight: TensorLike, inputShape: readonly number[], options?: Conv2dOptions,
): Tensor {
  const op = 'conv2dBackwardInput';
  checkTensor(dy, `${op}: dy`, 4);
  checkTensor(weight, `${op}: weight`, 4);
  checkShape4(inputShape, `${op}: inputShape`);
  const p = convParams(op, options, weight.shape.slice(2));
  const g = conv2dGeometry(op, inputShape, weight.shape, p, { x: 'inputShape', weight: 'weight' });
  checkGradShape(op, 'dy', dy.shape, convOutputShape(g), `conv2d of inputShape ${shapeText(inputShape)} with weight ${shapeText(weight.shape)}`);
  const { planes, batch } = imageChunks(g);
  const [dx] = run(op, [dy.data, weight.data], [{ size: sizeOf(inputShape) }],
    (k) => k.conv2d_scratch_bytes(...convArgs(g)),
    (k, [dx, dy, w], scratch, images) => k.conv2d_backward_input(dx, dy, w, scratch, ...convArgs(g, batch(images))),
    planes, [1]);
  return new Tensor(dx as Float32Array, inputShape);
}

/** dL/dweight [weightShape] of conv2d, summed over the batch. */
export function conv2dBackwardFilter(
  x: TensorLike, dy: TensorLike, weightShape: readonly number[], options?: Conv2dOptions,
): Tensor {
  const op = 'conv2dBackwardFilter';
  checkTensor(x, `${op}: x`, 4);
  checkTensor(dy, `${op}: dy`, 4);
  checkShape4(weightShape, `${op}: weightShape`);
  const p = convParams(op, options, weightShape.slice(2));
  const g = conv2dGeometry(op, x.shape, weightShape, p, { x: 'x', weight: 'weightShape' });
  checkGradShape(op, 'dy', dy.shape, convOutputShape(g), `conv2d of x ${shapeText(x.shape)} with weightShape ${shapeText(weightShape)}`);
  const { planes, batch } = imageChunks(g, true);
  const [dw] = run(op, [x.data, dy.data], [{ size: sizeOf(weightShape), zero: true, whole: true }],
    (k) => k.conv2d_scratch_bytes(...convArgs(g)),
    (k, [dw, x, dy], scratch, images) => k.conv2d_backward_filter(dw, x, dy, scratch, ...convArgs(g, batch(images))),
    planes) as Float32Array[];
  if (padded(g) && anyNaN(dw) && nonFiniteAtBorder(dy.data, g)) {
    dw.fill(0);
    reference.conv2d_backward_filter(dw, x.data, dy.data, ...convArgs(g));
  }
  return new Tensor(dw, weightShape);
}

/** dL/dbias [C] of conv2d: dy [N, C, H, W] summed over N, H and W. */
export function conv2dBackwardBias(dy: TensorLike): Tensor {
  const op = 'conv2dBackwardBias';
  checkTensor(dy, `${op}: dy`, 4);
  const [N, C, H, W] = dy.shape;
  const [db] = run(op, [dy.data], [{ size: C, zero: true }], () => 0,
    (k, [db, dy]) => k.conv2d_backward_bias(db, dy, N, C, H * W));
  return new Tensor(db as Float32Array, [C]);
}

/** The transposed convolution (the adjoint of conv2d): x [N, Cin, H, W], weight
 *  [Cin, Cout/groups, kH, kW], output [N, Cout, (H−1)·s − 2p + d·(k−1) + outputPadding + 1, …]. */
export function convTranspose2d(
  x: TensorLike, weight: TensorLike, bias?: TensorLike | null, options?: ConvTranspose2dOptions,
): Tensor {
  const op = 'convTranspose2d';
  checkTensor(x, `${op}: x`, 4);
  checkTensor(weight, `${op}: weight`, 4);
  // g is the conv whose input is this op's output and whose output is x.
  const { geometry: g, outputShape } = convTranspose2dGeometry(op, x.shape, weight.shape, options);
  const b = checkBias(op, bias, g.Cin);
  const { planes, batch } = imageChunks(g);
  const [y] = run(op, [x.data, weight.data, b], [{ size: sizeOf(outputShape) }],
    (k) => k.conv2d_scratch_bytes(...convArgs(g)),
    (k, [y, x, w, b], scratch, images) => {
      k.conv2d_backward_input(y, x, w, scratch, ...convArgs(g, batch(images)));
      if (b) k.add_channel_bias(y, b, batch(images), g.Cin, g.H * g.W);
    },
    planes, [1, 2]);
  return new Tensor(y as Float32Array, outputShape);
}

