export { init, backendName, type BackendName, type InitOptions } from './runtime/backend.js';
export { ShapeError } from './errors.js';
export { Tensor, type TensorLike } from './tensor.js';
export type { Pair } from './shapes.js';
