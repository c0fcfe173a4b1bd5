// The training kernels of every WASM build against the float64 reference (src/reference/training.ts),
// at sizes around the SIMD width (1, 3, 4, 5, 17, 64 + 3) where tails and edge lanes break.
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, init } from '../src/runtime/backend.js';
import type { Heap } from '../src/runtime/memory.js';
import type { TrainingKernels } from '../src/runtime/training-kernels.js';
import * as ref from '../src/reference/training.js';

const TARGETS = ['relaxed-simd', 'simd', 'scalar'] as const;
const SIZES = [1, 3, 4, 5, 17, 67];

let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
function randn(n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale + offset);
}
const f64 = (a: Float32Array) => Float64Array.from(a);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

describe.each(TARGETS)('training kernels, %s build', (target) => {
  let heap: Heap;
  let k: TrainingKernels;
  beforeAll(async () => {
    await init({ backend: target });
    ({ heap, k } = backend());
  });
  const read = (p: number, n: number) => Float32Array.from(heap.f32(p, n));

  it.each(SIZES)('elementwise activations and dropout, n = %i', (n) => {
    const x = randn(n, 3);
    const dy = randn(n);
    const mask = Float32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
    const px = heap.put(x), pdy = heap.put(dy), pm = heap.put(mask), out = heap.alloc(4 * n), y = heap.alloc(4 * n);
    const cases: [string, () => void, (o: Float64Array) => void][] = [
      ['relu_forward', () => k.relu_forward(out, px, n), (o) => ref.relu_forward(o, f64(x), n)],
      ['relu_backward', () => k.relu_backward(out, pdy, px, n), (o) => ref.relu_backward(o, f64(dy), f64(x), n)],
      ['leaky_relu_forward', () => k.leaky_relu_forward(out, px, n, 0.01), (o) => ref.leaky_relu_forward(o, f64(x), n, 0.01)],
      ['leaky_relu_backward', () => k.leaky_relu_backward(out, pdy, px, n, 0.2), (o) => ref.leaky_relu_backward(o, f64(dy), f64(x), n, 0.2)],
      ['sigmoid_forward', () => k.sigmoid_forward(out, px, n), (o) => ref.sigmoid_forward(o, f64(x), n)],
      ['tanh_forward', () => k.tanh_forward(out, px, n), (o) => ref.tanh_forward(o, f64(x), n)],
      ['dropout_forward', () => k.dropout_forward(out, px, pm, n, 2), (o) => ref.dropout_forward(o, f64(x), f64(mask), n, 2)],
      ['dropout_backward', () => k.dropout_backward(out, pdy, pm, n, 2), (o) => ref.dropout_backward(o, f64(dy), f64(mask), n, 2)],
    ];
    for (const [name, wasm, reference] of cases) {
      wasm();
      const expected = new Float64Array(n);
      reference(expected);
      try { close(read(out, n), expected); } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
    }
    // The backwards of sigmoid and tanh read the forward's output.
    const yv = Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    heap.f32(y, n).set(yv);
    k.sigmoid_backward(out, pdy, y, n);
    const e1 = new Float64Array(n); ref.sigmoid_backward(e1, f64(dy), f64(yv), n);
    close(read(out, n), e1);
    k.tanh_backward(out, pdy, y, n);
    const e2 = new Float64Array(n); ref.tanh_backward(e2, f64(dy), f64(yv), n);
    close(read(out, n), e2);
    for (const p of [px, pdy, pm, out, y]) heap.release(p);
  });

  // Hand-worked from PyTorch 1.13: torch.relu(tensor([-0., 0., nan, -1., 2.])) is [-0., 0., nan, 0.,
  // 2.] (the sign of zero kept), and its backward passes the gradient where x is NaN: with dy
  // [3, 4, 5, 6, 7], x.grad is [0, 0, 5, 0, 7]. Ten elements: eight through the SIMD loop, two
  // through the scalar tail.
  it('relu keeps NaN and −0, zeroes negatives, and its backward passes dy at NaN; fill_f32 fills', () => {
    const xs = [NaN, -1, 2, -0.5, -0, 0, NaN, 3, -0, NaN];
    const x = heap.put(Float32Array.from(xs)), dy = heap.put(Float32Array.from(xs, (_, i) => i + 1));
    const y = heap.alloc(40);
    k.relu_forward(y, x, 10);
    const got = Array.from(read(y, 10));
    expect(got).toEqual([NaN, 0, 2, 0, -0, 0, NaN, 3, -0, NaN]);
    expect(got.map((v) => Object.is(v, -0))).toEqual(xs.map((v) => Object.is(v, -0)));
    k.relu_backward(y, dy, x, 10);
    expect(Array.from(read(y, 10))).toEqual([1, 0, 3, 0, 0, 0, 7, 8, 0, 10]);
    k.fill_f32(y, 1.5, 5);
    expect(Array.from(read(y, 5))).toEqual([1.5, 1.5, 1.5, 1.5, 1.5]);
    for (const p of [x, dy, y]) heap.release(p);
  });

  // Planes narrower than SIMD's 8 terms a step (the backward's sums; the forward's take 16), wider
  // ones with (17, 36) and without (64) a rest, and a plane of several blocks of f32 partial sums
  // (1100 = 2·512 + 76) whose values sit far from zero, where summing x in f32 would lose the mean.
  it.each([[2, 3, 1, 0.5], [4, 5, 7, 0.5], [3, 1, 17, 0.5], [2, 3, 36, 0.5], [3, 2, 64, 0.5], [4, 2, 1100, 10]])('batchnorm2d N=%i C=%i HW=%i (values about %d), train and eval', (N, C, HW, offset) => {
    const size = N * C * HW;
    const x = randn(size, 2, offset), dy = randn(size), gamma = randn(C, 1, 1), beta = randn(C);
    const rm0 = randn(C, 0.1), rv0 = randn(C, 0.1, 1);
    for (const training of [1, 0]) {
      const p = {
        y: heap.alloc(4 * size), sm: heap.alloc(4 * C), si: heap.alloc(4 * C), rm: heap.put(rm0), rv: heap.put(rv0),
        x: heap.put(x), g: heap.put(gamma), b: heap.put(beta), dx: heap.alloc(4 * size), dg: heap.put(randn(C)),
        db: heap.put(randn(C)), dy: heap.put(dy),
      };
      const dg0 = read(p.dg, C), db0 = read(p.db, C);
      k.batchnorm2d_forward(p.y, p.sm, p.si, p.rm, p.rv, p.x, p.g, p.b, N, C, HW, training, 0.1, 1e-5);
      k.batchnorm2d_backward(p.dx, p.dg, p.db, p.dy, p.x, p.g, p.sm, p.si, N, C, HW, training);
      const e = {
        y: new Float64Array(size), sm: new Float64Array(C), si: new Float64Array(C), rm: f64(rm0), rv: f64(rv0),
        dx: new Float64Array(size), dg: f64(dg0), db: f64(db0),
      };
      ref.batchnorm2d_forward(e.y, e.sm, e.si, e.rm, e.rv, f64(x), f64(gamma), f64(beta), N, C, HW, training, 0.1, 1e-5);
      ref.batchnorm2d_backward(e.dx, e.dg, e.db, f64(dy), f64(x), f64(gamma), e.sm, e.si, N, C, HW, training);
      close(read(p.y, size), e.y);
      close(read(p.rm, C), e.rm);
      close(read(p.rv, C), e.rv);
      close(read(p.si, C), e.si);
      close(read(p.dx, size), e.dx, 1e-4, 1e-3);
      close(read(p.dg, C), e.dg, 1e-4, 1e-3);
      close(read(p.db, C), e.db, 1e-4, 1e-3);
      for (const q of Object.values(p)) heap.release(q);
    }
  });

  it.each([[1, 1], [3, 10], [64, 10], [5, 7]])('softmax_cross_entropy N=%i C=%i, and mse', (N, C) => {
    const logits = randn(N * C, 20);
    logits[0] = 90; // exp(90) overflows f32: the kernel must subtract the row maximum first
    const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
    const pl = heap.put(logits), plab = heap.put(labels), loss = heap.alloc(4), d = heap.alloc(4 * N * C);
    k.softmax_cross_entropy(loss, d, pl, plab, N, C);
    const eLoss = new Float64Array(1), eD = new Float64Array(N * C);
    ref.softmax_cross_entropy(eLoss, eD, f64(logits), labels, N, C);
    close(read(loss, 1), eLoss);
    close(read(d, N * C), eD, 1e-6, 1e-4);
    const target = randn(N * C), pt = heap.put(target);
    k.mse_loss(loss, d, pl, pt, N * C);
    ref.mse_loss(eLoss, eD, f64(logits), f64(target), N * C);
    close(read(loss, 1), eLoss);
    close(read(d, N * C), eD);
    for (const p of [pl, plab, loss, d, pt]) heap.release(p);
  });

  it.each(SIZES)('sgd_step (plain, momentum, nesterov, dampening, weight decay) and adam_step, n = %i', (n) => {
    const sgdConfigs = [[0, 0, 0, 0], [0.9, 0, 0, 0], [0.9, 0, 1e-2, 1], [0.8, 0.3, 1e-3, 0]];
    for (const [momentum, dampening, wd, nesterov] of sgdConfigs) {
      const p0 = randn(n), buf0 = new Float32Array(n);
      const pp = heap.put(p0), pb = heap.put(buf0);
      const ep = f64(p0), eb = f64(buf0);
      for (let step = 0; step < 3; step++) {
        const g = randn(n), pg = heap.put(g);
        k.sgd_step(pp, momentum ? pb : 0, pg, n, 0.05, momentum, dampening, wd, nesterov, step === 0 ? 1 : 0);
        ref.sgd_step(ep, momentum ? eb : null, f64(g), n, 0.05, momentum, dampening, wd, nesterov, step === 0 ? 1 : 0);
        heap.release(pg);
      }
      close(read(pp, n), ep);
      close(read(pb, n), eb);
      heap.release(pp); heap.release(pb);
    }
    for (const [wd, decoupled] of [[0, 0], [0.1, 0], [0.01, 1]]) {
      const p0 = randn(n);
      const pp = heap.put(p0), pm = heap.put(new Float32Array(n)), pv = heap.put(new Float32Array(n));
      const ep = f64(p0), em = new Float64Array(n), ev = new Float64Array(n);
      for (let step = 1; step <= 3; step++) {
        const g = randn(n), pg = heap.put(g);
        k.adam_step(pp, pm, pv, pg, n, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled, step);
        ref.adam_step(ep, em, ev, f64(g), n, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled, step);
        heap.release(pg);
      }
      close(read(pp, n), ep, 1e-5, 1e-4);
      close(read(pm, n), em);
      close(read(pv, n), ev);
      for (const p of [pp, pm, pv]) heap.release(p);
    }
  });
});

describe('reference training kernels against hand-worked values', () => {
  it('softmax cross-entropy of equal logits is log C with gradient (1/C − onehot)/N', () => {
    const loss = new Float64Array(1), d = new Float64Array(8);
    ref.softmax_cross_entropy(loss, d, new Float64Array(8), Int32Array.of(1, 3), 2, 4);
    expect(loss[0]).toBeCloseTo(Math.log(4), 12);
    expect(Array.from(d)).toEqual([0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]);
  });

  it('SGD with momentum 0.9: buf = g, then 0.9·buf + g', () => {
    const p = Float64Array.of(1), buf = Float64Array.of(0);
    ref.sgd_step(p, buf, Float64Array.of(2), 1, 0.1, 0.9, 0, 0, 0, 1);
    expect(p[0]).toBeCloseTo(0.8, 12);
    ref.sgd_step(p, buf, Float64Array.of(2), 1, 0.1, 0.9, 0, 0, 0, 0);
    expect(buf[0]).toBeCloseTo(3.8, 12);
    expect(p[0]).toBeCloseTo(0.8 - 0.38, 12);
  });

  it('Adam moves each parameter by about lr on its first step', () => {
    const p = Float64Array.of(1, -1), m = new Float64Array(2), v = new Float64Array(2);
    ref.adam_step(p, m, v, Float64Array.of(3, -0.001), 2, 0.01, 0.9, 0.999, 1e-8, 0, 0, 1);
    expect(p[0]).toBeCloseTo(0.99, 6);
    expect(p[1]).toBeCloseTo(-0.99, 4);
  });

  it('batch norm in training mode normalises each channel to mean 0, variance 1', () => {
    const x = Float64Array.of(1, 2, 3, 4, 10, 20, 30, 40); // N=2, C=1, HW=4
    const y = new Float64Array(8), sm = new Float64Array(1), si = new Float64Array(1);
    const rm = Float64Array.of(0), rv = Float64Array.of(1);
    ref.batchnorm2d_forward(y, sm, si, rm, rv, x, null, null, 2, 1, 4, 1, 0.1, 0);
    const mean = y.reduce((a, b) => a + b) / 8;
    const variance = y.reduce((a, b) => a + b * b, 0) / 8;
    expect(mean).toBeCloseTo(0, 12);
    expect(variance).toBeCloseTo(1, 12);
    expect(rm[0]).toBeCloseTo(0.1 * 13.75, 12);
    const unbiased = x.reduce((a, b) => a + (b - 13.75) ** 2, 0) / 7;
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * unbiased, 10);
  });
});
