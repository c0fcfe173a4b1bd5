// Max and average pooling and their input gradients, as torch.nn.functional computes them
// (the tie, NaN and divisor rules are written down in src/reference/pool.ts).
import { ShapeError } from '../errors.js';
import {
  checkGradShape, checkImageShape, checkShape4, checkTensor, countIncludePad, pool2dGeometry, poolArgs,
  poolOutputShape, shapeText, type AvgPool2dOptions, type MaxPool2dOptions,
} from '../shapes.js';
import { sizeOf, Tensor, type TensorLike } from '../tensor.js';
import { run } from './run.js';

/** Window maxima of x [N, C, H, W], and for each the flat h·W + w of the chosen element in its plane. */
export function maxPool2d(x: TensorLike, options: MaxPool2dOptions): { output: Tensor; indices: Int32Array } {
  const op = 'maxPool2d';
  checkTensor(x, `${op}: x`, 4);
  const g = pool2dGeometry(op, 'max', x.shape, options);
  const shape = poolOutputShape(g);
  const size = sizeOf(shape);
  const [y, indices] = run(op, [x.data], [{ size }, { size, int: true }], () => 0,
    (k, [y, indices, x], _, planes) => k.maxpool2d_forward(y, indices, x, ...poolArgs(g, planes), g.dH, g.dW),
    g.N * g.C);
  return { output: new Tensor(y as Float32Array, shape), indices: indices as Int32Array };
}

/** dL/dx [inputShape] of max pooling: each dy element goes to the input element its index names. */
export function maxPool2dBackward(dy: TensorLike, indices: Int32Array, inputShape: readonly number[]): Tensor {
  const op = 'maxPool2dBackward';
  checkTensor(dy, `${op}: dy`, 4);
  if (!(indices instanceof Int32Array)) {
    throw new TypeError(`${op}: indices must be an Int32Array; got ${(indices as object)?.constructor?.name ?? typeof indices}`);
  }
  checkShape4(inputShape, `${op}: inputShape`);
  checkImageShape(op, 'inputShape', inputShape);
  const [N, C, H, W] = inputShape;
  for (const [i, label] of [[0, 'batch'], [1, 'channels']] as const) {
    if (dy.shape[i] !== inputShape[i]) {
      throw new ShapeError(`${op}: dy has ${label} ${dy.shape[i]}, expected ${inputShape[i]} from inputShape ${shapeText(inputShape)}; dy shape ${shapeText(dy.shape)}`);
    }
  }
  // The options are not known here, but no pooling of an H×W plane with padding at most half the
  // kernel has more than H + 1 rows or W + 1 columns.
  for (const [i, label] of [[2, 'height'], [3, 'width']] as const) {
    if (dy.shape[i] > inputShape[i] + 1) {
      throw new ShapeError(`${op}: dy has ${label} ${dy.shape[i]}, expected at most ${inputShape[i] + 1} for inputShape ${shapeText(inputShape)}; dy shape ${shapeText(dy.shape)}`);
    }
  }
  if (indices.length !== dy.data.length) {
    throw new ShapeError(`${op}: indices has ${indices.length} elements, expected ${dy.data.length} (one per element of dy ${shapeText(dy.shape)})`);
  }
  // An index outside its plane (from a dilated window wholly in the padding) is ignored by the
  // kernels, so index values need no check here.
  const [, , Hout, Wout] = dy.shape;
  const [dx] = run(op, [dy.data, indices], [{ size: sizeOf(inputShape) }], () => 0,
    (k, [dx, dy, indices], _, planes) => k.maxpool2d_backward(dx, dy, indices, planes, H, W, Hout, Wout), N * C);
  return new Tensor(dx as Float32Array, inputShape);
}

/** Window means of x [N, C, H, W]; padding counts as zeros unless countIncludePad is false. */
export function avgPool2d(x: TensorLike, options: AvgPool2dOptions): Tensor {
  const op = 'avgPool2d';
  checkTensor(x, `${op}: x`, 4);
  const g = pool2dGeometry(op, 'avg', x.shape, options);
  const include = countIncludePad(op, options);
  const shape = poolOutputShape(g);
  const [y] = run(op, [x.data], [{ size: sizeOf(shape) }], () => 0,
    (k, [y, x], _, planes) => k.avgpool2d_forward(y, x, ...poolArgs(g, planes), include), g.N * g.C);
  return new Tensor(y as Float32Array, shape);
}

/** dL/dx [inputShape] of average pooling with the same options as the forward. */
export function avgPool2dBackward(dy: TensorLike, inputShape: readonly number[], options: AvgPool2dOptions): Tensor {
  const op = 'avgPool2dBackward';
  checkTensor(dy, `${op}: dy`, 4);
  checkShape4(inputShape, `${op}: inputShape`);
  const g = pool2dGeometry(op, 'avg', inputShape, options, 'inputShape');
  const include = countIncludePad(op, options);
  checkGradShape(op, 'dy', dy.shape, poolOutputShape(g), `avgPool2d of inputShape ${shapeText(inputShape)}`);
  const [dx] = run(op, [dy.data], [{ size: sizeOf(inputShape) }], () => 0,
    (k, [dx, dy], _, planes) => k.avgpool2d_backward(dx, dy, ...poolArgs(g, planes), include), g.N * g.C);
  return new Tensor(dx as Float32Array, inputShape);
}
