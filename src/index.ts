export { init, backendName, type BackendName, type InitOptions } from './runtime/backend.js';
export { ShapeError } from './errors.js';
export { Tensor, type TensorLike } from './tensor.js';
export type { Pair, Conv2dOptions, ConvTranspose2dOptions, MaxPool2dOptions, AvgPool2dOptions } from './shapes.js';
export { conv2d, conv2dBackwardInput, conv2dBackwardFilter, conv2dBackwardBias, convTranspose2d } from './ops/conv.js';
export { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } from './ops/pool.js';
export { linear } from './ops/linear.js';
export {
  Layer, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, Dropout, BatchNorm2d,
  type Conv2dLayerOptions, type ConvTranspose2dLayerOptions, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions,
  type LinearLayerOptions, type BatchNorm2dOptions,
} from './layers/index.js';
export { Sequential, type CompileOptions, type LossName, type Targets } from './model/sequential.js';
export { Optimizer, SGD, Adam, AdamW, type SGDOptions, type AdamOptions } from './model/optimizers.js';
export type { FitData, FitOptions, FitResult, BatchReport, EpochReport } from './model/fit.js';
export type { MemoryReport } from './model/plan.js';
