// Shared test machinery: a seeded PRNG, tolerant comparison that names the worst element, the
// geometry of every case written out by hand (not taken from src/shapes.ts, so that the tests check
// the library's shape arithmetic instead of reusing it), and runners that call a reference kernel
// (src/reference) into a fresh float64 array for one geometry. The reference is the oracle.
import * as ref from '../src/reference/index.js';
import type { BackendName } from '../src/index.js';
import { Random } from '../src/model/random.js';
import { backend } from '../src/runtime/backend.js';

/** Every backend Node can run: relaxed-simd works because vitest passes the V8 flag. */
export const BACKENDS: readonly BackendName[] = ['relaxed-simd', 'simd', 'scalar', 'js'];
export const WASM_BACKENDS: readonly BackendName[] = ['relaxed-simd', 'simd', 'scalar'];

export type Arr = Float32Array | Float64Array;
export interface Tensor4 { data: Float32Array; shape: number[] }

/** Fills the first `bytes` of the current backend's heap that are free with NaN, so that a kernel
 *  reading memory it never wrote (an output row it skipped, scratch it did not clear) gives NaN
 *  rather than the zeros of a fresh heap. Ops release every buffer they take and the heap hands
 *  out the lowest free block first, so the next op's buffers lie in what this filled. */
export function poisonHeap(bytes = 1 << 22): void {
  const { heap } = backend();
  const p = heap.alloc(bytes);
  heap.f32(p, bytes >> 2).fill(NaN);
  heap.release(p);
}

/** A seeded generator of floats in [0, 1), to pick test data and geometries reproducibly. */
export function rng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** An integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Uniform values in [-1, 1), as float32. */
export function randArray(n: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * r() - 1;
  return a;
}

export function tensor(shape: number[], r: () => number): Tensor4 {
  return { data: randArray(shape.reduce((p, d) => p * d, 1), r), shape };
}

export const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/** A value computed on first use and then kept: reference results shared by every backend. */
export function once<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= f());
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: lengths ${a.length} and ${b.length} differ`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Σ|a_i·b_i|: the scale against which an inner product's rounding error is judged. */
export function absDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
  return s;
}

export interface Tol { atol: number; rtol: number }

const EPS32 = 2 ** -23;

/**
 * Tolerance for a float32 result that sums `k` products of values in [-1, 1] (so |terms| <= 1):
 * rounding of a blocked or FMA-fused float32 sum stays well inside 2·ε·k, while an indexing bug
 * changes a value by O(1).
 */
export function tolFor(k: number): Tol {
  return { atol: 2 * EPS32 * Math.max(k, 4), rtol: 4 * EPS32 };
}

/**
 * Throws unless every |actual − expected| <= atol + rtol·|expected|, reporting the worst element
 * (largest excess over its bound). NaN matches NaN and an infinity matches the same infinity.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, what = 'value'): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const b = expected[i];
    let excess: number;
    if (Number.isNaN(b) || !Number.isFinite(b)) excess = Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Infinity;
    else if (Number.isNaN(a)) excess = Infinity;
    else excess = Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
    if (excess > 0) {
      failures++;
      if (excess > worstExcess || worst < 0) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: ${failures} of ${actual.length} elements out of tolerance (atol ${tol.atol.toExponential(2)}, ` +
        `rtol ${tol.rtol.toExponential(2)}); worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}, ` +
        `|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)}`,
    );
  }
}

/** Exact equality of integer arrays, reporting the first difference. */
export function expectSameInts(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'indices'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: first difference at [${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry

export interface ConvCase {
  N: number; Cin: number; Cout: number; H: number; W: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number; dH: number; dW: number;
  groups: number;
}

/** A ConvCase completed with its output size (floor mode, written out here by hand). */
export interface ConvGeom extends ConvCase { Hout: number; Wout: number }

export function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

export function geom(c: ConvCase): ConvGeom {
  return { ...c, Hout: outSize(c.H, c.kH, c.sH, c.pH, c.dH), Wout: outSize(c.W, c.kW, c.sW, c.pW, c.dW) };
}

/** A compact case: square or [h, w] values for kernel, stride, padding, dilation. */
export function conv(
  N: number, Cin: number, Cout: number, hw: number | [number, number],
  k: number | [number, number], s: number | [number, number] = 1, p: number | [number, number] = 0,
  d: number | [number, number] = 1, groups = 1,
): ConvGeom {
  const two = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  const [H, W] = two(hw);
  const [kH, kW] = two(k);
  const [sH, sW] = two(s);
  const [pH, pW] = two(p);
  const [dH, dW] = two(d);
  return geom({ N, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, dH, dW, groups });
}

const pairText = (a: number, b: number, sep = 'x') => (a === b ? `${a}` : `${a}${sep}${b}`);

/** `conv2d N3 C4→8 9x11 3x3 stride 2 pad 1 dilation 2 groups 2`. */
export function convName(g: ConvCase, op = 'conv2d'): string {
  return (
    `${op} N${g.N} C${g.Cin}→${g.Cout} ${g.H}x${g.W} ${g.kH}x${g.kW} stride ${pairText(g.sH, g.sW, ',')} ` +
    `pad ${pairText(g.pH, g.pW, ',')} dilation ${pairText(g.dH, g.dW, ',')} groups ${g.groups}`
  );
}

export function convArgs(g: ConvGeom): number[] {
  return [g.N, g.Cin, g.H, g.W, g.Cout, g.Hout, g.Wout, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW, g.groups];
}

export const convOptions = (g: ConvCase) => ({
  stride: [g.sH, g.sW] as [number, number],
  padding: [g.pH, g.pW] as [number, number],
  dilation: [g.dH, g.dW] as [number, number],
  groups: g.groups,
});

export const xShape = (g: ConvGeom) => [g.N, g.Cin, g.H, g.W];
export const wShape = (g: ConvGeom) => [g.Cout, g.Cin / g.groups, g.kH, g.kW];
export const yShape = (g: ConvGeom) => [g.N, g.Cout, g.Hout, g.Wout];

/** Products summed into one output of the forward, the input gradient and the filter gradient. */
export function convSums(g: ConvGeom): { forward: number; input: number; filter: number } {
  const cinG = g.Cin / g.groups;
  const coutG = g.Cout / g.groups;
  return {
    forward: cinG * g.kH * g.kW + 1,
    input: coutG * g.kH * g.kW,
    filter: g.N * g.Hout * g.Wout,
  };
}

/** Random geometries from a seeded PRNG; each one is valid (the dilated kernel fits). */
export function randomConvCases(seed: number, count: number): ConvGeom[] {
  const r = rng(seed);
  const out: ConvGeom[] = [];
  const chans = [1, 3, 4, 5, 8, 17];
  while (out.length < count) {
    const groups = [1, 1, 2, 3][randInt(r, 0, 3)];
    const Cin = groups * chans[randInt(r, 0, 3)];
    const Cout = groups * chans[randInt(r, 0, 4)];
    const kH = [1, 2, 3, 5][randInt(r, 0, 3)];
    const kW = [1, 2, 3, 5][randInt(r, 0, 3)];
    const g = conv(
      randInt(r, 1, 3), Cin, Cout, [randInt(r, 1, 13), randInt(r, 1, 13)], [kH, kW],
      [randInt(r, 1, 3), randInt(r, 1, 3)], [randInt(r, 0, 3), randInt(r, 0, 3)], [randInt(r, 1, 2), randInt(r, 1, 2)], groups,
    );
    if (g.Hout >= 1 && g.Wout >= 1) out.push(g);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reference runners: each calls one reference kernel into a fresh Float64Array.

export function refConvForward(g: ConvGeom, x: Arr, w: Arr, b: Arr | null): Float64Array {
  const y = new Float64Array(g.N * g.Cout * g.Hout * g.Wout);
  ref.conv2d_forward(y, x, w, b, ...(convArgs(g) as Sixteen));
  return y;
}

export function refConvBackwardInput(g: ConvGeom, dy: Arr, w: Arr): Float64Array {
  const dx = new Float64Array(g.N * g.Cin * g.H * g.W);
  ref.conv2d_backward_input(dx, dy, w, ...(convArgs(g) as Sixteen));
  return dx;
}

/** The filter kernel accumulates, so the fresh zero array makes it an assignment. */
export function refConvBackwardFilter(g: ConvGeom, x: Arr, dy: Arr): Float64Array {
  const dw = new Float64Array(g.Cout * (g.Cin / g.groups) * g.kH * g.kW);
  ref.conv2d_backward_filter(dw, x, dy, ...(convArgs(g) as Sixteen));
  return dw;
}

export function refBiasGrad(dy: Arr, N: number, C: number, HW: number): Float64Array {
  const db = new Float64Array(C);
  ref.conv2d_backward_bias(db, dy, N, C, HW);
  return db;
}

type Sixteen = [number, number, number, number, number, number, number, number,
  number, number, number, number, number, number, number, number];

// ---------------------------------------------------------------------------------------------
// Pooling geometry

export interface PoolCase {
  N: number; C: number; H: number; W: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number; dH: number; dW: number;
}
export interface PoolGeom extends PoolCase { Hout: number; Wout: number }

export function pool(
  N: number, C: number, hw: number | [number, number], k: number | [number, number],
  s?: number | [number, number], p: number | [number, number] = 0, d: number | [number, number] = 1,
): PoolGeom {
  const two = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  const [H, W] = two(hw);
  const [kH, kW] = two(k);
  const [sH, sW] = two(s ?? k);
  const [pH, pW] = two(p);
  const [dH, dW] = two(d);
  return {
    N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW,
    Hout: outSize(H, kH, sH, pH, dH), Wout: outSize(W, kW, sW, pW, dW),
  };
}

export function poolName(g: PoolCase, op: string): string {
  return (
    `${op} N${g.N} C${g.C} ${g.H}x${g.W} ${g.kH}x${g.kW} stride ${pairText(g.sH, g.sW, ',')} ` +
    `pad ${pairText(g.pH, g.pW, ',')}` + (g.dH !== 1 || g.dW !== 1 ? ` dilation ${pairText(g.dH, g.dW, ',')}` : '')
  );
}

export const poolOptions = (g: PoolCase) => ({
  kernelSize: [g.kH, g.kW] as [number, number],
  stride: [g.sH, g.sW] as [number, number],
  padding: [g.pH, g.pW] as [number, number],
});

export const poolInShape = (g: PoolGeom) => [g.N, g.C, g.H, g.W];
export const poolOutShape = (g: PoolGeom) => [g.N, g.C, g.Hout, g.Wout];

function poolArgs(g: PoolGeom): [number, number, number, number, number, number, number, number, number, number, number] {
  return [g.N * g.C, g.H, g.W, g.Hout, g.Wout, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW];
}

export function refMaxPool(g: PoolGeom, x: Arr): { y: Float64Array; indices: Int32Array } {
  const n = g.N * g.C * g.Hout * g.Wout;
  const y = new Float64Array(n);
  const indices = new Int32Array(n);
  ref.maxpool2d_forward(y, indices, x, ...poolArgs(g), g.dH, g.dW);
  return { y, indices };
}

export function refMaxPoolBackward(g: PoolGeom, dy: Arr, indices: Int32Array): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  ref.maxpool2d_backward(dx, dy, indices, g.N * g.C, g.H, g.W, g.Hout, g.Wout);
  return dx;
}

export function refAvgPool(g: PoolGeom, x: Arr, countIncludePad: boolean): Float64Array {
  const y = new Float64Array(g.N * g.C * g.Hout * g.Wout);
  ref.avgpool2d_forward(y, x, ...poolArgs(g), countIncludePad ? 1 : 0);
  return y;
}

export function refAvgPoolBackward(g: PoolGeom, dy: Arr, countIncludePad: boolean): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  ref.avgpool2d_backward(dx, dy, ...poolArgs(g), countIncludePad ? 1 : 0);
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Linear

export function refLinear(N: number, inF: number, outF: number, x: Arr, w: Arr, b: Arr | null): Float64Array {
  const y = new Float64Array(N * outF);
  ref.linear_forward(y, x, w, b, N, inF, outF);
  return y;
}

export function refLinearBackwardInput(N: number, inF: number, outF: number, dy: Arr, w: Arr): Float64Array {
  const dx = new Float64Array(N * inF);
  ref.linear_backward_input(dx, dy, w, N, inF, outF);
  return dx;
}

export function refLinearBackwardWeight(N: number, inF: number, outF: number, x: Arr, dy: Arr): Float64Array {
  const dw = new Float64Array(outF * inF);
  ref.linear_backward_weight(dw, x, dy, N, inF, outF);
  return dw;
}
