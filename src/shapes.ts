// Shape arithmetic and argument checks, written once and shared by the functional ops and the
// layers. Every check throws before any work: ShapeError for sizes, TypeError for kinds.
import { ShapeError } from './errors.js';
import { sizeOf, type TensorLike } from './tensor.js';

export type Pair = number | readonly [number, number];

/** The 16 integers of the convolution ABI, in kernel argument order (src/runtime/kernels.ts). */
export interface ConvGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number; Hout: number; Wout: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number;
  dH: number; dW: number; groups: number;
}

export function convArgs(g: ConvGeometry): number[] {
  return [g.N, g.Cin, g.H, g.W, g.Cout, g.Hout, g.Wout, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW, g.groups];
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Expands a Pair to [height, width] after checking that both are integers >= min. */
export function pair(value: Pair | undefined, fallback: Pair, what: string, min: number): [number, number] {
  const v = value ?? fallback;
  const hw: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (typeof v !== 'number' && (!Array.isArray(v) || v.length !== 2)) {
    throw new TypeError(`${what} must be a number or a [height, width] pair; got ${JSON.stringify(v)}`);
  }
  for (const x of hw) {
    if (typeof x !== 'number' || !Number.isInteger(x)) {
      throw new TypeError(`${what} must be integers; got ${JSON.stringify(v)}`);
    }
    if (x < min) {
      const rule = min === 0 ? 'non-negative' : 'positive';
      throw new ShapeError(`${what} must be ${rule}; got ${JSON.stringify(v)}`);
    }
  }
  return hw;
}

/** Checks that `t` is a TensorLike of float32 data whose length matches its shape of `rank`. */
export function checkTensor(t: unknown, name: string, rank?: number): asserts t is TensorLike {
  if (t === null || typeof t !== 'object') throw new TypeError(`${name} must be a tensor { data, shape }; got ${t}`);
  const { data, shape } = t as Partial<TensorLike>;
  if (!(data instanceof Float32Array)) {
    const kind = data === undefined ? 'undefined' : (data as object)?.constructor?.name ?? typeof data;
    throw new TypeError(`${name}.data must be a Float32Array; got ${kind}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${name}.shape must be an array of non-negative integers; got ${JSON.stringify(shape)}`);
  }
  if (rank !== undefined && shape.length !== rank) {
    throw new ShapeError(`${name} must have rank ${rank}; got shape ${shapeText(shape)} (rank ${shape.length})`);
  }
  if (sizeOf(shape) !== data.length) {
    throw new ShapeError(`${name}.data has ${data.length} elements but shape ${shapeText(shape)} needs ${sizeOf(shape)}`);
  }
}

/** Checks a 4-element shape argument such as `inputShape` or `weightShape`. */
export function checkShape4(shape: unknown, name: string): asserts shape is readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${name} must be an array of non-negative integers; got ${JSON.stringify(shape)}`);
  }
  if (shape.length !== 4) {
    throw new ShapeError(`${name} must have rank 4; got ${shapeText(shape)} (rank ${shape.length})`);
  }
}

/** floor((size + 2·pad − dilation·(k − 1) − 1) / stride) + 1: PyTorch's floor-mode output size. */
export function outputSize(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** Checks that a (dilated) kernel fits in the padded input and returns the output size. */
export function checkedOutputSize(
  what: string, axis: 'height' | 'width',
  size: number, k: number, stride: number, pad: number, dilation: number,
): number {
  const span = dilation * (k - 1) + 1;
  if (span > size + 2 * pad) {
    throw new ShapeError(
      `${what}: kernel ${axis} ${k}${dilation > 1 ? ` (dilated to ${span})` : ''} is larger than the padded input ${axis} ${size + 2 * pad}`,
    );
  }
  return outputSize(size, k, stride, pad, dilation);
}
