export { init, backendName, type BackendName, type InitOptions } from './runtime/backend.js';
export { ShapeError } from './errors.js';
export { Tensor, type TensorLike } from './tensor.js';
export type { Pair, Conv2dOptions, ConvTranspose2dOptions, MaxPool2dOptions, AvgPool2dOptions } from './shapes.js';
export { conv2d, conv2dBackwardInput, conv2dBackwardFilter, conv2dBackwardBias, convTranspose2d } from './ops/conv.js';
export { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } from './ops/pool.js';
export { linear } from './ops/linear.js';
