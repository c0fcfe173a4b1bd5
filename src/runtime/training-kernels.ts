// The training half of the kernel ABI (activations, dropout, batch norm, losses, optimizer
// updates), with the same conventions as kernels.ts. Implemented in assembly/{nn,loss,optim}.ts
// and in src/reference/training.ts.

export interface TrainingKernels {}

export const TRAINING_KERNEL_NAMES = [] as const satisfies readonly (keyof TrainingKernels)[];
