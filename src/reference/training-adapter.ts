import type { Heap } from '../runtime/memory.js';
import type { TrainingKernels } from '../runtime/training-kernels.js';

export function trainingKernels(heap: Heap): TrainingKernels {
  return {};
}
