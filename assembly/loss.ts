// Losses: each writes the batch-mean loss to one f32 and overwrites the gradient of its input,
// already divided by the batch, so the backward pass starts from it directly.
import { ld, st } from './simd';

/** Mean over the batch of −log softmax(logits)[label], and dlogits = (softmax − onehot) / N.
 *  Stable: every exponent is taken after subtracting the row maximum. */
export function softmax_cross_entropy(
  loss: usize,     // (1) f32
  dlogits: usize,  // (N, C) f32, overwritten
  logits: usize,   // (N, C) f32
  labels: usize,   // (N) i32 in [0, C)
  N: i32, C: i32,
): void {
  let total: f64 = 0;
  const invN = <f32>1 / <f32>N;
  for (let n = 0; n < N; n++) {
    const z = logits + (<usize>(n * C) << 2);
    const d = dlogits + (<usize>(n * C) << 2);
    let zmax = -Infinity as f32;
    for (let c = 0; c < C; c++) zmax = max<f32>(zmax, ld(z, c));
    let sum: f32 = 0;
    for (let c = 0; c < C; c++) {
      const e = Mathf.exp(ld(z, c) - zmax);
      st(d, c, e);
      sum += e;
    }
    const label = load<i32>(labels + (<usize>n << 2));
    total += <f64>(zmax + Mathf.log(sum) - ld(z, label));
    const scale = invN / sum;
    for (let c = 0; c < C; c++) st(d, c, ld(d, c) * scale);
    st(d, label, ld(d, label) - invN);
  }
  st(loss, 0, <f32>(total / <f64>N));
}

/** Mean over n elements of (y − target)², and dy = 2·(y − target) / n. */
export function mse_loss(
  loss: usize,    // (1) f32
  dy: usize,      // (n) f32, overwritten
  y: usize,       // (n) f32
  target: usize,  // (n) f32
  n: i32,
): void {
  let total: f64 = 0;
  const scale = <f32>2 / <f32>n;
  for (let i = 0; i < n; i++) {
    const d = ld(y, i) - ld(target, i);
    total += <f64>(d * d);
    st(dy, i, d * scale);
  }
  st(loss, 0, <f32>(total / <f64>n));
}
