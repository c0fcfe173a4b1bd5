// Reference fully connected layer: x (N, inF), w (outF, inF) as in torch.nn.Linear.
import type { Arr } from './index.js';

/** y (N, outF) = x (N, inF) · wᵀ + b (outF). Overwritten. */
export function linear_forward(y: Arr, x: Arr, w: Arr, b: Arr | null, N: number, inF: number, outF: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < outF; o++) {
      let sum = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) sum += x[n * inF + i] * w[o * inF + i];
      y[n * outF + o] = sum;
    }
  }
}

/** dx (N, inF) = dy (N, outF) · w. Overwritten. */
export function linear_backward_input(dx: Arr, dy: Arr, w: Arr, N: number, inF: number, outF: number): void {
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < inF; i++) {
      let sum = 0;
      for (let o = 0; o < outF; o++) sum += dy[n * outF + o] * w[o * inF + i];
      dx[n * inF + i] = sum;
    }
  }
}

/** dw (outF, inF) += dyᵀ · x: a parameter gradient, so it accumulates. */
export function linear_backward_weight(dw: Arr, x: Arr, dy: Arr, N: number, inF: number, outF: number): void {
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) {
      let sum = 0;
      for (let n = 0; n < N; n++) sum += dy[n * outF + o] * x[n * inF + i];
      dw[o * inF + i] += sum;
    }
  }
}
