// Optimizer updates and the gradient fill, over whole regions: a model lays out its parameters,
// their gradients and each optimizer state buffer in the same order, so one call updates every
// parameter. Formulas are PyTorch's (torch.optim.SGD, Adam, AdamW, single-tensor path).
import { at, ld, st, madd, fill } from './simd';

/** x[i] = value for i < n: zeroing the gradients after a step is one call. */
export function fill_f32(x: usize, value: f32, n: i32): void {
  fill(x, value, n);
}

/** d = g + weightDecay·p; with momentum: buf = first ? d : momentum·buf + (1 − dampening)·d and
 *  d = nesterov ? d + momentum·buf : buf; then p −= lr·d. */
export function sgd_step(
  p: usize,    // (n) f32, updated
  buf: usize,  // (n) f32 momentum buffer, updated; 0 when momentum is 0
  g: usize,    // (n) f32 gradient
  n: i32, lr: f32, momentum: f32, dampening: f32, weightDecay: f32, nesterov: i32, first: i32,
): void {
  const useBuf = momentum != 0 && buf != 0;
  // On the first step PyTorch sets buf = d: keep = 0 and add = 1 say that without a branch
  // (the buffer starts zeroed, so 0·buf is 0).
  const keep: f32 = first ? 0 : momentum;
  const add: f32 = first ? 1 : 1 - dampening;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vwd = f32x4.splat(weightDecay);
    const vkeep = f32x4.splat(keep);
    const vadd = f32x4.splat(add);
    const vmom = f32x4.splat(momentum);
    const vlr = f32x4.splat(-lr);
    for (; i + 4 <= n; i += 4) {
      const pi = v128.load(at(p, i));
      let d = madd(pi, vwd, v128.load(at(g, i)));
      if (useBuf) {
        const b = madd(v128.load(at(buf, i)), vkeep, f32x4.mul(d, vadd));
        v128.store(at(buf, i), b);
        d = nesterov ? madd(b, vmom, d) : b;
      }
      v128.store(at(p, i), madd(d, vlr, pi));
    }
  }
  for (; i < n; i++) {
    const pi = ld(p, i);
    let d = ld(g, i) + weightDecay * pi;
    if (useBuf) {
      const b = keep * ld(buf, i) + add * d;
      st(buf, i, b);
      d = nesterov ? d + momentum * b : b;
    }
    st(p, i, pi - lr * d);
  }
}

/** Adam (decoupled = 0: g += weightDecay·p) or AdamW (decoupled = 1: p *= 1 − lr·weightDecay):
 *  m += (1 − β1)(g − m); v = β2·v + (1 − β2)·g²; p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps). */
export function adam_step(
  p: usize,  // (n) f32, updated
  m: usize,  // (n) f32 first moment, updated
  v: usize,  // (n) f32 second moment, updated
  g: usize,  // (n) f32 gradient
  n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, decoupled: i32, step: i32,
): void {
  // The bias corrections in f64, as PyTorch computes them in Python floats.
  const stepSize = <f32>(<f64>lr / (1 - Math.pow(<f64>beta1, <f64>step)));
  const invBias2Sqrt = <f32>(1 / Math.sqrt(1 - Math.pow(<f64>beta2, <f64>step)));
  const decay: f32 = decoupled ? 1 - lr * weightDecay : 1;
  const coupled: f32 = decoupled ? 0 : weightDecay;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vdecay = f32x4.splat(decay);
    const vcoupled = f32x4.splat(coupled);
    const vb1 = f32x4.splat(1 - beta1);
    const vb2 = f32x4.splat(beta2);
    const v1b2 = f32x4.splat(1 - beta2);
    const vinv = f32x4.splat(invBias2Sqrt);
    const veps = f32x4.splat(eps);
    const vstep = f32x4.splat(stepSize);
    for (; i + 4 <= n; i += 4) {
      const pi = f32x4.mul(v128.load(at(p, i)), vdecay);
      const gi = madd(v128.load(at(p, i)), vcoupled, v128.load(at(g, i)));
      const mi0 = v128.load(at(m, i));
      const mi = madd(f32x4.sub(gi, mi0), vb1, mi0);
      const vi = madd(f32x4.mul(gi, gi), v1b2, f32x4.mul(v128.load(at(v, i)), vb2));
      v128.store(at(m, i), mi);
      v128.store(at(v, i), vi);
      const denom = madd(f32x4.sqrt(vi), vinv, veps);
      v128.store(at(p, i), f32x4.sub(pi, f32x4.div(f32x4.mul(mi, vstep), denom)));
    }
  }
  for (; i < n; i++) {
    const gi = ld(g, i) + coupled * ld(p, i);
    const pi = ld(p, i) * decay;
    const mi = ld(m, i) + (1 - beta1) * (gi - ld(m, i));
    const vi = beta2 * ld(v, i) + (1 - beta2) * gi * gi;
    st(m, i, mi);
    st(v, i, vi);
    st(p, i, pi - (stepSize * mi) / (Mathf.sqrt(vi) * invBias2Sqrt + eps));
  }
}
