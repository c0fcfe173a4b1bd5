// The 'js' backend: the kernel ABI of src/runtime/kernels.ts over the reference kernels, with
// views of the heap made at the moment of each call.
import type { Heap } from '../runtime/memory.js';
import type { Kernels } from '../runtime/kernels.js';
import { trainingKernels } from './training-adapter.js';

export function createReferenceKernels(heap: Heap): Kernels {
  throw new Error('TODO: core reference kernels');
}
