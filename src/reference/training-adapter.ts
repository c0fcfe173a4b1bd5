// The training half of the 'js' backend: the TrainingKernels ABI over the reference kernels of
// training.ts, with views of the heap made at the moment of each call. A pointer of 0 (an absent
// gamma, beta or momentum buffer) becomes null.
import type { Heap } from '../runtime/memory.js';
import type { TrainingKernels } from '../runtime/training-kernels.js';
import * as ref from './training.js';

export function trainingKernels(heap: Heap): TrainingKernels {
  const f32 = (ptr: number, len: number) => heap.f32(ptr, len);
  const opt = (ptr: number, len: number) => (ptr === 0 ? null : heap.f32(ptr, len));

  return {
    fill_f32: (x, value, n) => ref.fill_f32(f32(x, n), value, n),

    relu_forward: (y, x, n) => ref.relu_forward(f32(y, n), f32(x, n), n),
    relu_backward: (dx, dy, x, n) => ref.relu_backward(f32(dx, n), f32(dy, n), f32(x, n), n),
    leaky_relu_forward: (y, x, n, slope) => ref.leaky_relu_forward(f32(y, n), f32(x, n), n, slope),
    leaky_relu_backward: (dx, dy, x, n, slope) =>
      ref.leaky_relu_backward(f32(dx, n), f32(dy, n), f32(x, n), n, slope),
    sigmoid_forward: (y, x, n) => ref.sigmoid_forward(f32(y, n), f32(x, n), n),
    sigmoid_backward: (dx, dy, y, n) => ref.sigmoid_backward(f32(dx, n), f32(dy, n), f32(y, n), n),
    tanh_forward: (y, x, n) => ref.tanh_forward(f32(y, n), f32(x, n), n),
    tanh_backward: (dx, dy, y, n) => ref.tanh_backward(f32(dx, n), f32(dy, n), f32(y, n), n),

    dropout_forward: (y, x, mask, n, scale) =>
      ref.dropout_forward(f32(y, n), f32(x, n), f32(mask, n), n, scale),
    dropout_backward: (dx, dy, mask, n, scale) =>
      ref.dropout_backward(f32(dx, n), f32(dy, n), f32(mask, n), n, scale),

    batchnorm2d_forward(y, saveMean, saveInvstd, runningMean, runningVar, x, gamma, beta, N, C, HW,
      training, momentum, eps) {
      const size = N * C * HW;
      ref.batchnorm2d_forward(f32(y, size), f32(saveMean, C), f32(saveInvstd, C), f32(runningMean, C),
        f32(runningVar, C), f32(x, size), opt(gamma, C), opt(beta, C), N, C, HW, training, momentum, eps);
    },
    batchnorm2d_backward(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvstd, N, C, HW, training) {
      const size = N * C * HW;
      ref.batchnorm2d_backward(opt(dx, size), opt(dgamma, C), opt(dbeta, C), f32(dy, size), f32(x, size),
        opt(gamma, C), f32(saveMean, C), f32(saveInvstd, C), N, C, HW, training);
    },

    softmax_cross_entropy: (loss, dlogits, logits, labels, N, C) =>
      ref.softmax_cross_entropy(f32(loss, 1), f32(dlogits, N * C), f32(logits, N * C), heap.i32(labels, N), N, C),
    mse_loss: (loss, dy, y, target, n) => ref.mse_loss(f32(loss, 1), f32(dy, n), f32(y, n), f32(target, n), n),

    sgd_step: (p, buf, g, n, lr, momentum, dampening, weightDecay, nesterov, first) =>
      ref.sgd_step(f32(p, n), opt(buf, n), f32(g, n), n, lr, momentum, dampening, weightDecay, nesterov, first),
    adam_step: (p, m, v, g, n, lr, beta1, beta2, eps, weightDecay, decoupled, step) =>
      ref.adam_step(f32(p, n), f32(m, n), f32(v, n), f32(g, n), n, lr, beta1, beta2, eps, weightDecay,
        decoupled, step),
  };
}
