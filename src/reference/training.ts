// Reference training kernels: activations, dropout, batch norm, losses and optimizer updates with
// the names and argument order of src/runtime/training-kernels.ts, arrays instead of pointers,
// `null` where the ABI passes 0, and float64 accumulation. Written to be read.
import type { Arr } from './index.js';

export function fill_f32(x: Arr, value: number, n: number): void {
  x.fill(value, 0, n);
}

export function relu_forward(y: Arr, x: Arr, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];
}

export function relu_backward(dx: Arr, dy: Arr, x: Arr, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] <= 0 ? 0 : dy[i]; // NaN passes dy, as in torch
}

export function leaky_relu_forward(y: Arr, x: Arr, n: number, slope: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

export function leaky_relu_backward(dx: Arr, dy: Arr, x: Arr, n: number, slope: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

export function sigmoid_forward(y: Arr, x: Arr, n: number): void {
  for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
}

export function sigmoid_backward(dx: Arr, dy: Arr, y: Arr, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
}

export function tanh_forward(y: Arr, x: Arr, n: number): void {
  for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
}

export function tanh_backward(dx: Arr, dy: Arr, y: Arr, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

export function dropout_forward(y: Arr, x: Arr, mask: Arr, n: number, scale: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] * mask[i] * scale;
}

export function dropout_backward(dx: Arr, dy: Arr, mask: Arr, n: number, scale: number): void {
  dropout_forward(dx, dy, mask, n, scale);
}

export function batchnorm2d_forward(
  y: Arr, saveMean: Arr, saveInvstd: Arr, runningMean: Arr, runningVar: Arr,
  x: Arr, gamma: Arr | null, beta: Arr | null,
  N: number, C: number, HW: number, training: number, momentum: number, eps: number,
): void {
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    let mean: number;
    let variance: number;
    if (training) {
      let sum = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sum += x[(n * C + c) * HW + i];
      mean = sum / M;
      let sq = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sq += (x[(n * C + c) * HW + i] - mean) ** 2;
      variance = sq / M;
      runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
      runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (sq / (M - 1));
    } else {
      mean = runningMean[c];
      variance = runningVar[c];
    }
    const invstd = 1 / Math.sqrt(variance + eps);
    saveMean[c] = mean;
    saveInvstd[c] = invstd;
    const g = gamma ? gamma[c] : 1;
    const b = beta ? beta[c] : 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const j = (n * C + c) * HW + i;
        y[j] = (x[j] - mean) * invstd * g + b;
      }
    }
  }
}

export function batchnorm2d_backward(
  dx: Arr | null, dgamma: Arr | null, dbeta: Arr | null, dy: Arr, x: Arr, gamma: Arr | null,
  saveMean: Arr, saveInvstd: Arr, N: number, C: number, HW: number, training: number,
): void {
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    const mean = saveMean[c];
    const invstd = saveInvstd[c];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const j = (n * C + c) * HW + i;
        sumDy += dy[j];
        sumDyXhat += dy[j] * (x[j] - mean) * invstd;
      }
    }
    if (dgamma) dgamma[c] += sumDyXhat;
    if (dbeta) dbeta[c] += sumDy;
    if (!dx) continue;
    const g = gamma ? gamma[c] : 1;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const j = (n * C + c) * HW + i;
        const xhat = (x[j] - mean) * invstd;
        dx[j] = training
          ? (g * invstd / M) * (M * dy[j] - sumDy - xhat * sumDyXhat)
          : g * invstd * dy[j];
      }
    }
  }
}

export function softmax_cross_entropy(
  loss: Arr, dlogits: Arr, logits: Arr, labels: Int32Array, N: number, C: number,
): void {
  let total = 0;
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[n * C + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[n * C + c] - max);
    const logSumExp = max + Math.log(sum);
    total += logSumExp - logits[n * C + labels[n]];
    for (let c = 0; c < C; c++) {
      const p = Math.exp(logits[n * C + c] - logSumExp);
      dlogits[n * C + c] = (p - (c === labels[n] ? 1 : 0)) / N;
    }
  }
  loss[0] = total / N;
}

export function mse_loss(loss: Arr, dy: Arr, y: Arr, target: Arr, n: number): void {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i] - target[i];
    total += d * d;
    dy[i] = (2 * d) / n;
  }
  loss[0] = total / n;
}

export function sgd_step(
  p: Arr, buf: Arr | null, g: Arr, n: number, lr: number, momentum: number, dampening: number,
  weightDecay: number, nesterov: number, first: number,
): void {
  for (let i = 0; i < n; i++) {
    let d = g[i] + weightDecay * p[i];
    if (momentum !== 0 && buf) {
      buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

export function adam_step(
  p: Arr, m: Arr, v: Arr, g: Arr, n: number, lr: number, beta1: number, beta2: number,
  eps: number, weightDecay: number, decoupled: number, step: number,
): void {
  const stepSize = lr / (1 - beta1 ** step);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
  for (let i = 0; i < n; i++) {
    let gi = g[i];
    if (decoupled) p[i] *= 1 - lr * weightDecay;
    else gi += weightDecay * p[i];
    m[i] += (1 - beta1) * (gi - m[i]);
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bias2Sqrt + eps);
  }
}
