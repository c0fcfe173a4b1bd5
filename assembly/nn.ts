// Activations, dropout and batch normalisation, forward and backward side by side.
// Every buffer is f32 with n elements unless its comment gives a shape. Outputs are overwritten;
// the parameter gradients of batch norm (dgamma, dbeta) accumulate. y may alias x (in place).
// The SIMD builds do four lanes at a time and finish the tail with the scalar loop below them.
import { at, ld, st, madd } from './simd';

// ---- ReLU ----

/** torch.relu: x < 0 ? 0 : x, so NaN and −0 pass through (PyTorch keeps relu(−0) = −0). In SIMD
 *  that is pmax(x, 0), one instruction on x86, where f32x4.max takes several to order −0 below +0
 *  and propagate NaN. */
export function relu_forward(y: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.pmax(v128.load(at(x, i)), zero));
  }
  for (; i < n; i++) st(y, i, ld(x, i) < 0 ? 0 : ld(x, i));
}

/** torch's threshold_backward: dy where x > 0 or x is NaN (where the output is not ≤ 0), else 0. */
export function relu_backward(dx: usize, dy: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      v128.store(at(dx, i), v128.andnot(v128.load(at(dy, i)), f32x4.le(v128.load(at(x, i)), zero)));
    }
  }
  for (; i < n; i++) st(dx, i, ld(x, i) <= 0 ? 0 : ld(dy, i));
}

// ---- LeakyReLU: the negative side is scaled by `slope` ----

/** out = x > 0 ? v : slope·v, with v = x (forward) or dy (backward). */
function leaky(out: usize, v: usize, x: usize, n: i32, slope: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const s = f32x4.splat(slope);
    for (; i + 4 <= n; i += 4) {
      const vi = v128.load(at(v, i));
      const positive = f32x4.gt(v128.load(at(x, i)), zero);
      v128.store(at(out, i), v128.bitselect(vi, f32x4.mul(vi, s), positive));
    }
  }
  for (; i < n; i++) {
    const vi = ld(v, i);
    st(out, i, ld(x, i) > 0 ? vi : vi * slope);
  }
}

export function leaky_relu_forward(y: usize, x: usize, n: i32, slope: f32): void {
  leaky(y, x, x, n, slope);
}

export function leaky_relu_backward(dx: usize, dy: usize, x: usize, n: i32, slope: f32): void {
  leaky(dx, dy, x, n, slope);
}

// ---- Sigmoid and Tanh: there is no SIMD exp, so the forwards are scalar; the backwards use
// the forward's output y ----

export function sigmoid_forward(y: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) st(y, i, <f32>1 / (<f32>1 + Mathf.exp(-ld(x, i))));
}

export function sigmoid_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const yi = v128.load(at(y, i));
      v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.mul(yi, f32x4.sub(one, yi))));
    }
  }
  for (; i < n; i++) {
    const yi = ld(y, i);
    st(dx, i, ld(dy, i) * (yi * (1 - yi)));
  }
}

export function tanh_forward(y: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) st(y, i, Mathf.tanh(ld(x, i)));
}

export function tanh_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const yi = v128.load(at(y, i));
      v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.sub(one, f32x4.mul(yi, yi))));
    }
  }
  for (; i < n; i++) {
    const yi = ld(y, i);
    st(dx, i, ld(dy, i) * (1 - yi * yi));
  }
}

// ---- Dropout: the mask (0 or 1) is drawn by the host; both directions scale by the same mask ----

function maskScale(out: usize, v: usize, mask: usize, n: i32, scale: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(scale);
    for (; i + 4 <= n; i += 4) {
      v128.store(at(out, i), f32x4.mul(f32x4.mul(v128.load(at(v, i)), v128.load(at(mask, i))), s));
    }
  }
  for (; i < n; i++) st(out, i, ld(v, i) * ld(mask, i) * scale);
}

export function dropout_forward(y: usize, x: usize, mask: usize, n: i32, scale: f32): void {
  maskScale(y, x, mask, n, scale);
}

export function dropout_backward(dx: usize, dy: usize, mask: usize, n: i32, scale: f32): void {
  maskScale(dx, dy, mask, n, scale);
}

// ---- BatchNorm2d over (N, C, HW): statistics per channel c across n and the HW positions ----

/** out[j] = v[j]·a + b over the HW elements of one plane. */
function affinePlane(out: usize, v: usize, HW: i32, a: f32, b: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a);
    const vb = f32x4.splat(b);
    for (; i + 4 <= HW; i += 4) v128.store(at(out, i), madd(v128.load(at(v, i)), va, vb));
  }
  for (; i < HW; i++) st(out, i, ld(v, i) * a + b);
}

/** Steps after which the f32 partial sums of planeSum and dySums go into their f64 totals. */
const BLOCK_STEPS = 32;

/** Σ over the HW elements of one plane of x − shift, or of (x − shift)², each term computed in
 *  f32. SIMD builds add 16 terms a step into four f32x4 partial sums, so that an add does not wait
 *  on the one before, and every BLOCK_STEPS steps add those into an f64 total: no f32 sum takes
 *  more than BLOCK_STEPS terms, so a large plane keeps its precision. (Against four f64x2 sums of
 *  8 terms a step, kernels alone, simd: forward −18..34%, backward with dySums −43..53%.) The
 *  scalar build adds the terms one by one in f64 (four sums were no faster there). */
function planeSum(x: usize, HW: i32, shift: f32, square: bool): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(shift);
    let total = f64x2.splat(0);
    while (i + 16 <= HW) {
      const end = min(HW - 15, i + 16 * BLOCK_STEPS);
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += 16) {
        let d0 = f32x4.sub(v128.load(at(x, i)), vs), d1 = f32x4.sub(v128.load(at(x, i), 16), vs);
        let d2 = f32x4.sub(v128.load(at(x, i), 32), vs), d3 = f32x4.sub(v128.load(at(x, i), 48), vs);
        if (square) {
          d0 = f32x4.mul(d0, d0);
          d1 = f32x4.mul(d1, d1);
          d2 = f32x4.mul(d2, d2);
          d3 = f32x4.mul(d3, d3);
        }
        a0 = f32x4.add(a0, d0);
        a1 = f32x4.add(a1, d1);
        a2 = f32x4.add(a2, d2);
        a3 = f32x4.add(a3, d3);
      }
      const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      total = f64x2.add(total, promoteSum(a));
    }
    s = f64x2.extract_lane(total, 0) + f64x2.extract_lane(total, 1);
  }
  for (; i < HW; i++) {
    const d = ld(x, i) - shift;
    s += square ? <f64>(d * d) : <f64>d;
  }
  return s;
}

/** Σ dy left here by dySums. */
let sumOfDy: f64 = 0;

/** Over the HW elements of one plane, in one pass over x and dy (the backward's two sums had
 *  been two passes): returns Σ (x − mean)·dy and leaves Σ dy in sumOfDy. Summed as planeSum sums,
 *  8 terms a step into two partial sums of each kind. */
function dySums(x: usize, dy: usize, HW: i32, mean: f32): f64 {
  let i = 0;
  let sd: f64 = 0, sxd: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(mean);
    let td = f64x2.splat(0), txd = td;
    while (i + 8 <= HW) {
      const end = min(HW - 7, i + 8 * BLOCK_STEPS);
      let d0 = f32x4.splat(0), d1 = d0, xd0 = d0, xd1 = d0;
      for (; i < end; i += 8) {
        const g0 = v128.load(at(dy, i)), g1 = v128.load(at(dy, i), 16);
        d0 = f32x4.add(d0, g0);
        d1 = f32x4.add(d1, g1);
        xd0 = f32x4.add(xd0, f32x4.mul(f32x4.sub(v128.load(at(x, i)), vm), g0));
        xd1 = f32x4.add(xd1, f32x4.mul(f32x4.sub(v128.load(at(x, i), 16), vm), g1));
      }
      td = f64x2.add(td, promoteSum(f32x4.add(d0, d1)));
      txd = f64x2.add(txd, promoteSum(f32x4.add(xd0, xd1)));
    }
    sd = f64x2.extract_lane(td, 0) + f64x2.extract_lane(td, 1);
    sxd = f64x2.extract_lane(txd, 0) + f64x2.extract_lane(txd, 1);
  }
  for (; i < HW; i++) {
    const g = ld(dy, i);
    sd += <f64>g;
    sxd += <f64>((ld(x, i) - mean) * g);
  }
  sumOfDy = sd;
  return sxd;
}

/** The four lanes of a, added pairwise in f64: (a0 + a2, a1 + a3). */
@inline function promoteSum(a: v128): v128 {
  return f64x2.add(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
}

export function batchnorm2d_forward(
  y: usize,            // (N, C, HW) f32
  saveMean: usize,     // (C) f32: the mean used, for backward
  saveInvstd: usize,   // (C) f32: 1 / sqrt(var + eps) used, for backward
  runningMean: usize,  // (C) f32, updated when training
  runningVar: usize,   // (C) f32, updated when training (unbiased variance)
  x: usize,            // (N, C, HW) f32
  gamma: usize,        // (C) f32 or 0
  beta: usize,         // (C) f32 or 0
  N: i32, C: i32, HW: i32, training: i32, momentum: f32, eps: f32,
): void {
  const M = N * HW;
  const plane = <usize>HW << 2;
  const stride = <usize>C * plane;
  for (let c = 0; c < C; c++) {
    const base = <usize>c * plane;
    let mean: f32, variance: f32;
    if (training) {
      let s: f64 = 0;
      for (let n = 0; n < N; n++) s += planeSum(x + base + <usize>n * stride, HW, 0, false);
      mean = <f32>(s / <f64>M);
      let sq: f64 = 0;
      for (let n = 0; n < N; n++) sq += planeSum(x + base + <usize>n * stride, HW, mean, true);
      variance = <f32>(sq / <f64>M);
      const m = momentum;
      st(runningMean, c, (1 - m) * ld(runningMean, c) + m * mean);
      st(runningVar, c, (1 - m) * ld(runningVar, c) + m * <f32>(sq / <f64>(M - 1)));
    } else {
      mean = ld(runningMean, c);
      variance = ld(runningVar, c);
    }
    const invstd = <f32>1 / Mathf.sqrt(variance + eps);
    st(saveMean, c, mean);
    st(saveInvstd, c, invstd);
    const a = invstd * (gamma ? ld(gamma, c) : <f32>1);
    const b = (beta ? ld(beta, c) : <f32>0) - mean * a;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * stride;
      affinePlane(y + o, x + o, HW, a, b);
    }
  }
}

export function batchnorm2d_backward(
  dx: usize,           // (N, C, HW) f32, overwritten; 0 when not wanted (first layer)
  dgamma: usize,       // (C) f32 +=, or 0
  dbeta: usize,        // (C) f32 +=, or 0
  dy: usize,           // (N, C, HW) f32
  x: usize,            // (N, C, HW) f32: the forward's input
  gamma: usize,        // (C) f32 or 0
  saveMean: usize,     // (C) f32 from the forward
  saveInvstd: usize,   // (C) f32 from the forward
  N: i32, C: i32, HW: i32, training: i32,
): void {
  const M = N * HW;
  const plane = <usize>HW << 2;
  const stride = <usize>C * plane;
  for (let c = 0; c < C; c++) {
    const base = <usize>c * plane;
    const mean = ld(saveMean, c);
    const invstd = ld(saveInvstd, c);
    let sumDy: f64 = 0, sumDyCentered: f64 = 0;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * stride;
      sumDyCentered += dySums(x + o, dy + o, HW, mean);
      sumDy += sumOfDy;
    }
    const sumDyXhat = <f32>(sumDyCentered * <f64>invstd);
    if (dgamma) st(dgamma, c, ld(dgamma, c) + sumDyXhat);
    if (dbeta) st(dbeta, c, ld(dbeta, c) + <f32>sumDy);
    if (!dx) continue;
    const k = invstd * (gamma ? ld(gamma, c) : <f32>1);
    // dx = k·(dy − mean(dy) − xhat·mean(dy·xhat)) = k·dy − (x − mean)·k·invstd·mean(dy·xhat) − k·mean(dy)
    const meanDy = training ? <f32>(sumDy / <f64>M) : 0;
    const meanDyXhat = training ? sumDyXhat / <f32>M : 0;
    const xCoef = -k * invstd * meanDyXhat;
    const constant = -k * meanDy - xCoef * mean;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * stride;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const vk = f32x4.splat(k);
        const vx = f32x4.splat(xCoef);
        const vc = f32x4.splat(constant);
        for (; i + 4 <= HW; i += 4) {
          const t = madd(v128.load(at(x + o, i)), vx, vc);
          v128.store(at(dx + o, i), madd(v128.load(at(dy + o, i)), vk, t));
        }
      }
      for (; i < HW; i++) st(dx + o, i, ld(dy + o, i) * k + (ld(x + o, i) * xCoef + constant));
    }
  }
}
