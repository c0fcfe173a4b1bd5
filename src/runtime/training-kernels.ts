// The training half of the kernel ABI (activations, dropout, batch norm, losses, optimizer
// updates), with the same conventions as kernels.ts: outputs first, then inputs, then what the
// forward saved, then sizes and scalars. Parameter gradients (dgamma, dbeta) ACCUMULATE; every
// other output is OVERWRITTEN; optimizer kernels update their parameters and state in place.
// Implemented in assembly/{nn,loss,optim}.ts and in src/reference/training.ts.
// Every f32 buffer below holds n elements unless its comment gives a shape.

type Ptr = number;
type Int = number;

export interface TrainingKernels {
  /** x[i] = value for i < n: zeroes the gradient region in one call. */
  fill_f32(x: Ptr, value: number, n: Int): void;

  /** y = max(x, 0); NaN stays NaN. */
  relu_forward(y: Ptr, x: Ptr, n: Int): void;
  /** dx = x > 0 ? dy : 0. */
  relu_backward(dx: Ptr, dy: Ptr, x: Ptr, n: Int): void;
  /** y = x > 0 ? x : slope·x. */
  leaky_relu_forward(y: Ptr, x: Ptr, n: Int, slope: number): void;
  /** dx = x > 0 ? dy : slope·dy. */
  leaky_relu_backward(dx: Ptr, dy: Ptr, x: Ptr, n: Int, slope: number): void;
  /** y = 1 / (1 + exp(−x)). */
  sigmoid_forward(y: Ptr, x: Ptr, n: Int): void;
  /** dx = dy·y·(1 − y), from the forward's output y. */
  sigmoid_backward(dx: Ptr, dy: Ptr, y: Ptr, n: Int): void;
  /** y = tanh(x). */
  tanh_forward(y: Ptr, x: Ptr, n: Int): void;
  /** dx = dy·(1 − y²), from the forward's output y. */
  tanh_backward(dx: Ptr, dy: Ptr, y: Ptr, n: Int): void;

  /** y = x·mask·scale; mask holds 0 or 1 (drawn by the host from the model's seeded PRNG). */
  dropout_forward(y: Ptr, x: Ptr, mask: Ptr, n: Int, scale: number): void;
  /** dx = dy·mask·scale. */
  dropout_backward(dx: Ptr, dy: Ptr, mask: Ptr, n: Int, scale: number): void;

  /** y (N, C, HW) = (x − mean)·invstd·gamma + beta per channel. training = 1: mean and the biased
   *  variance of the batch, saved (saveMean, saveInvstd: C) for backward, and the running
   *  statistics (C) updated as PyTorch does (unbiased variance, weight `momentum`). training = 0:
   *  the running statistics are used, and saved as mean/invstd. gamma/beta 0 = affine off. */
  batchnorm2d_forward(y: Ptr, saveMean: Ptr, saveInvstd: Ptr, runningMean: Ptr, runningVar: Ptr,
    x: Ptr, gamma: Ptr, beta: Ptr, N: Int, C: Int, HW: Int, training: Int, momentum: number, eps: number): void;
  /** dx (N, C, HW) overwritten (0: not wanted); dgamma, dbeta (C) +=. training says whether the saved statistics
   *  were the batch's (their gradient flows into dx) or the running ones (constants). */
  batchnorm2d_backward(dx: Ptr, dgamma: Ptr, dbeta: Ptr, dy: Ptr, x: Ptr, gamma: Ptr,
    saveMean: Ptr, saveInvstd: Ptr, N: Int, C: Int, HW: Int, training: Int): void;

  /** loss (1 f32) = mean over the batch of −log softmax(logits)[label]; dlogits (N, C) =
   *  (softmax − onehot) / N. logits (N, C) f32, labels (N) i32 in [0, C). */
  softmax_cross_entropy(loss: Ptr, dlogits: Ptr, logits: Ptr, labels: Ptr, N: Int, C: Int): void;
  /** loss (1 f32) = mean of (y − target)² over n elements; dy = 2·(y − target) / n. */
  mse_loss(loss: Ptr, dy: Ptr, y: Ptr, target: Ptr, n: Int): void;

  /** PyTorch's SGD on n parameters: d = g + weightDecay·p; with momentum, buf = d on the first
   *  step (first = 1), else buf = momentum·buf + (1 − dampening)·d, and d = nesterov ? d +
   *  momentum·buf : buf; then p −= lr·d. buf is 0 when momentum is 0. */
  sgd_step(p: Ptr, buf: Ptr, g: Ptr, n: Int, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: Int, first: Int): void;
  /** PyTorch's Adam (decoupled = 0: g += weightDecay·p) or AdamW (decoupled = 1: p *= 1 −
   *  lr·weightDecay), with bias correction for `step` (1 on the first update). m, v: moments. */
  adam_step(p: Ptr, m: Ptr, v: Ptr, g: Ptr, n: Int, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: Int, step: Int): void;
}

export const TRAINING_KERNEL_NAMES = [
  'fill_f32',
  'relu_forward', 'relu_backward', 'leaky_relu_forward', 'leaky_relu_backward',
  'sigmoid_forward', 'sigmoid_backward', 'tanh_forward', 'tanh_backward',
  'dropout_forward', 'dropout_backward',
  'batchnorm2d_forward', 'batchnorm2d_backward',
  'softmax_cross_entropy', 'mse_loss',
  'sgd_step', 'adam_step',
] as const satisfies readonly (keyof TrainingKernels)[];
