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

/** The 16 convolution kernel arguments, N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups. */
export type ConvArgs = [number, number, number, number, number, number, number, number,
  number, number, number, number, number, number, number, number];

export function convArgs(g: ConvGeometry, N = g.N): ConvArgs {
  return [N, g.Cin, g.H, g.W, g.Cout, g.Hout, g.Wout, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW, g.groups];
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A bad argument as an error message shows it: JSON, except that NaN, ±Infinity and undefined
 *  (which JSON writes as null or drops) appear as themselves. */
export function shown(v: unknown): string {
  if (v === undefined || typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(shown).join(', ')}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The largest integer a kernel argument can hold (the WASM ABI passes sizes as i32). */
const INT_MAX = 2 ** 31 - 1;

/** Checks that an integer a kernel will receive fits its i32 argument. */
function checkInt32(value: number, what: string, shownValue: unknown = value): void {
  if (value > INT_MAX) throw new ShapeError(`${what} must be at most ${INT_MAX}; got ${shown(shownValue)}`);
}

/** Expands a Pair to [height, width] after checking that both are integers >= min. */
export function pair(value: Pair | undefined, fallback: Pair, what: string, min: number): [number, number] {
  const v = value ?? fallback;
  const hw: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (typeof v !== 'number' && (!Array.isArray(v) || v.length !== 2)) {
    throw new TypeError(`${what} must be a number or a [height, width] pair; got ${shown(v)}`);
  }
  for (const x of hw) {
    if (typeof x !== 'number' || !Number.isInteger(x)) {
      throw new TypeError(`${what} must be integers; got ${shown(v)}`);
    }
    if (x < min) {
      const rule = min === 0 ? 'non-negative' : 'positive';
      throw new ShapeError(`${what} must be ${rule}; got ${shown(v)}`);
    }
    checkInt32(x, what, v);
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
    throw new TypeError(`${name}.shape must be an array of non-negative integers; got ${shown(shape)}`);
  }
  if (rank !== undefined && shape.length !== rank) {
    throw new ShapeError(`${name} must have rank ${rank}; got shape ${shapeText(shape)} (rank ${shape.length})`);
  }
  for (const d of shape) checkInt32(d, `${name}.shape entries`, shape);
  if (sizeOf(shape) !== data.length) {
    throw new ShapeError(`${name}.data has ${data.length} elements but shape ${shapeText(shape)} needs ${sizeOf(shape)}`);
  }
}

/** Checks a 4-element shape argument such as `inputShape` or `weightShape`. */
export function checkShape4(shape: unknown, name: string): asserts shape is readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${name} must be an array of non-negative integers; got ${shown(shape)}`);
  }
  if (shape.length !== 4) {
    throw new ShapeError(`${name} must have rank 4; got ${shapeText(shape)} (rank ${shape.length})`);
  }
  for (const d of shape) checkInt32(d, `${name} entries`, shape);
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

// ---- Options of the functional ops and layers (API.md) ----

export interface Conv2dOptions {
  stride?: Pair;
  /** Or, as in PyTorch, 'valid' (none) or 'same' (stride 1: the output as large as the input). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
}

export interface ConvTranspose2dOptions extends Omit<Conv2dOptions, 'padding'> {
  padding?: Pair;
  /** Extra rows/columns on one side of the output; smaller than stride or dilation. */
  outputPadding?: Pair;
}

export interface MaxPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  countIncludePad?: boolean;
}

export const CONV_OPTIONS = ['stride', 'padding', 'dilation', 'groups'] as const;
export const CONV_TRANSPOSE_OPTIONS = [...CONV_OPTIONS, 'outputPadding'] as const;
/** The options of max and average pooling: only max pooling has a dilation. */
export const POOL_OPTIONS = {
  max: ['kernelSize', 'stride', 'padding', 'dilation'],
  avg: ['kernelSize', 'stride', 'padding', 'countIncludePad'],
} as const;

/** PyTorch options that nothing here implements, passed at the value that asks for nothing (as a
 *  port of PyTorch code may spell them out); any other value is refused with the reason. */
const PYTORCH_DEFAULTS = new Map<string, { inert: unknown; why: string }>([
  ['ceilMode', { inert: false, why: 'output sizes use floor mode' }],
  ['divisorOverride', { inert: null, why: 'the divisor is the window size (countIncludePad says whether padding counts)' }],
  ['returnIndices', { inert: true, why: 'maxPool2d always returns { output, indices }' }],
  ['paddingMode', { inert: 'zeros', why: 'padding is zeros' }],
  ['amsgrad', { inert: false, why: 'Adam keeps no maximum of its second moments' }],
  ['maximize', { inert: false, why: 'optimizers descend' }],
]);

/**
 * The options object itself: absent (undefined or null) or an object. With `names`, a field that
 * is not one of them is a TypeError naming it and listing them, as PyTorch refuses an unexpected
 * keyword argument: a misspelt or foreign name (`strides`, `pad`, `learningRate`) would otherwise
 * leave a default in force, unseen. A field set to undefined counts as absent.
 */
export function optionsObject<T extends object>(
  op: string, options: T | null | undefined, required: boolean, names?: readonly string[],
): Partial<T> {
  if (options === undefined || options === null) {
    if (required) throw new TypeError(`${op}: options are required ({ kernelSize, ... }); got ${options}`);
    return {};
  }
  if (typeof options !== 'object') throw new TypeError(`${op}: options must be an object; got ${typeof options}`);
  if (names) {
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined || names.includes(key)) continue;
      const pytorch = PYTORCH_DEFAULTS.get(key);
      if (pytorch === undefined) throw new TypeError(`${op}: unknown option ${key}; the options are ${names.join(', ')}`);
      if (value !== pytorch.inert) throw new TypeError(`${op}: ${key} ${shown(value)} is not supported: ${pytorch.why}`);
    }
  }
  return options;
}

function positiveInteger(value: unknown, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer; got ${shown(v)}`);
  if (v < 1) throw new ShapeError(`${what} must be positive; got ${v}`);
  checkInt32(v, what);
  return v;
}

/** Checks an image shape (N, C, H, W): only the batch may be 0. */
export function checkImageShape(op: string, name: string, shape: readonly number[]): void {
  if (shape[1] < 1 || shape[2] < 1 || shape[3] < 1) {
    throw new ShapeError(`${op}: ${name} must have at least one channel, row and column; got shape ${shapeText(shape)}`);
  }
}

/** Checks that a gradient has the shape of the output of the forward it belongs to. */
export function checkGradShape(op: string, name: string, actual: readonly number[], expected: readonly number[], from: string): void {
  const labels = expected.length === 4 ? ['batch', 'channels', 'height', 'width'] : ['batch', 'features'];
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new ShapeError(
        `${op}: ${name} has ${labels[i]} ${actual[i]}, expected ${expected[i]}: ${from} gives an output of shape ` +
          `${shapeText(expected)}, got ${name} of shape ${shapeText(actual)}`,
      );
    }
  }
}

// ---- Convolution ----

export interface ConvParams {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

/** `kernel` [kH, kW]: a conv2d's, whose padding may be 'valid' or 'same' (a transposed convolution
 *  passes null: PyTorch's takes numbers). `names`: the options `op` takes (a layer adds its own). */
export function convParams(
  op: string, options: Conv2dOptions | null | undefined, kernel: readonly number[] | null = null,
  names: readonly string[] = CONV_OPTIONS,
): ConvParams {
  const o = optionsObject(op, options, false, names);
  const stride = pair(o.stride, 1, `${op}: stride`, 1);
  const dilation = pair(o.dilation, 1, `${op}: dilation`, 1);
  const padding = kernel && typeof o.padding === 'string'
    ? namedPadding(op, o.padding, kernel, stride, dilation)
    : pair(o.padding as Pair | undefined, 0, `${op}: padding`, 0);
  return { stride, padding, dilation, groups: positiveInteger(o.groups, 1, `${op}: groups`) };
}

/** PyTorch's padding='valid' (none) and 'same' (at stride 1, dilation·(k − 1) rows and columns in
 *  all, so that the output is as large as the input); any other string is a TypeError. The kernels
 *  pad both sides alike, so 'same' needs an even total in each dimension, where PyTorch puts an odd
 *  one's extra row after. */
function namedPadding(
  op: string, padding: string, kernel: readonly number[], stride: readonly number[], dilation: readonly number[],
): [number, number] {
  if (padding === 'valid') return [0, 0];
  if (padding !== 'same') {
    throw new TypeError(`${op}: padding must be a number, a [height, width] pair, 'same' or 'valid'; got ${shown(padding)}`);
  }
  if (stride[0] !== 1 || stride[1] !== 1) {
    throw new ShapeError(`${op}: padding 'same' needs stride 1, as in PyTorch; got stride ${shapeText(stride)}`);
  }
  const total = [0, 1].map((i) => dilation[i] * (kernel[i] - 1));
  if (total[0] % 2 !== 0 || total[1] % 2 !== 0) {
    throw new ShapeError(
      `${op}: padding 'same' for kernel ${shapeText(kernel)} with dilation ${shapeText(dilation)} needs ${shapeText(total)} ` +
        'rows and columns of padding in all; an odd count cannot be split evenly between the two sides, which is all ' +
        'the kernels pad (PyTorch puts the extra row or column after): pad x yourself',
    );
  }
  return [total[0] / 2, total[1] / 2];
}

/** Checks that `channels` splits into `groups` and returns the channels of one group. */
function perGroup(op: string, what: string, channels: number, groups: number): number {
  if (channels % groups !== 0) {
    throw new ShapeError(`${op}: ${what} ${channels} is not divisible by groups ${groups}`);
  }
  return channels / groups;
}

/** The geometry of conv2d(x of `xShape`, weight of `wShape`): every check of the channels, the
 *  groups and the kernel against the padded input. `names` says what the caller calls x and w. */
export function conv2dGeometry(
  op: string, xShape: readonly number[], wShape: readonly number[], p: ConvParams,
  names: { x: string; weight: string } = { x: 'x', weight: 'weight' },
): ConvGeometry {
  checkImageShape(op, names.x, xShape);
  if (wShape.some((d) => d < 1)) throw new ShapeError(`${op}: ${names.weight} must have no zero dimension; got shape ${shapeText(wShape)}`);
  const [N, Cin, H, W] = xShape;
  const [Cout, cinG, kH, kW] = wShape;
  const { groups } = p;
  perGroup(op, `${names.x} channels`, Cin, groups);
  perGroup(op, `${names.weight} output channels (dimension 0)`, Cout, groups);
  if (cinG * groups !== Cin) {
    throw new ShapeError(
      `${op}: ${names.x} has ${Cin} channels but ${names.weight} ${shapeText(wShape)} with groups ${groups} expects ${cinG * groups}`,
    );
  }
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [dH, dW] = p.dilation;
  const what = `${op}: ${names.weight} ${shapeText(wShape)} on ${names.x} ${shapeText(xShape)}`;
  const Hout = checkedOutputSize(what, 'height', H, kH, sH, pH, dH);
  const Wout = checkedOutputSize(what, 'width', W, kW, sW, pW, dW);
  const g = { N, Cin, H, W, Cout, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW, groups };
  checkPaddedImage(op, g);
  return g;
}

/** Floats of one padded image that the SIMD kernels copy (im2col.ts's split input) and whose
 *  size their i32 scratch arithmetic computes: at most 2^28 (1 GiB). */
const PADDED_IMAGE_FLOATS = 2 ** 28;

/** Checks that one image of the convolution's input (dx for the input gradient and the transposed
 *  convolution), padded, stays within PADDED_IMAGE_FLOATS. */
function checkPaddedImage(op: string, g: ConvGeometry): void {
  const rows = g.H + 2 * g.pH, cols = g.W + 2 * g.pW;
  // 16 columns of slack: a split row is rounded up and split by column phase.
  if (g.Cin * rows * (cols + 16) > PADDED_IMAGE_FLOATS) {
    throw new ShapeError(
      `${op}: one padded image of ${g.Cin} × ${rows} × ${cols} floats (padding ${shapeText([g.pH, g.pW])}) is more than ` +
        `the ${PADDED_IMAGE_FLOATS} (1 GiB) the kernels can address`,
    );
  }
}

export function convOutputShape(g: ConvGeometry): number[] {
  return [g.N, g.Cout, g.Hout, g.Wout];
}

/** A transposed convolution's outputPadding, which must be smaller than either the stride or the
 *  dilation along its axis (PyTorch's rule). */
export function outputPaddingParam(op: string, options: ConvTranspose2dOptions | null | undefined, p: ConvParams): [number, number] {
  const outputPadding = pair(optionsObject(op, options, false).outputPadding, 0, `${op}: outputPadding`, 0);
  for (const i of [0, 1]) {
    const [extra, s, d] = [outputPadding[i], p.stride[i], p.dilation[i]];
    if (!(extra < s || extra < d)) {
      throw new ShapeError(
        `${op}: outputPadding must be smaller than either stride or dilation; got outputPadding ${extra}, stride ${s}, dilation ${d}`,
      );
    }
  }
  return outputPadding;
}

/** convTranspose2d(x, weight) as the input gradient of a conv2d: the returned geometry is that of
 *  the conv whose input is the transposed conv's output (Cin, H, W of the geometry) and whose
 *  output is x (Cout, Hout, Wout); the weight [Cin_x, Cout/g, kH, kW] is exactly its weight. */
export function convTranspose2dGeometry(
  op: string, xShape: readonly number[], wShape: readonly number[], options: ConvTranspose2dOptions | null | undefined,
  names: readonly string[] = CONV_TRANSPOSE_OPTIONS,
): { geometry: ConvGeometry; outputShape: number[] } {
  const p = convParams(op, options, null, names);
  const outputPadding = outputPaddingParam(op, options, p);
  checkImageShape(op, 'x', xShape);
  if (wShape.some((d) => d < 1)) throw new ShapeError(`${op}: weight must have no zero dimension; got shape ${shapeText(wShape)}`);
  const [N, C, H, W] = xShape;
  const [wIn, coutG, kH, kW] = wShape;
  const { groups } = p;
  if (wIn !== C) throw new ShapeError(`${op}: x has ${C} channels but weight ${shapeText(wShape)} expects ${wIn} (dimension 0)`);
  perGroup(op, 'x channels', C, groups);
  const size = [H, W];
  const k = [kH, kW];
  const out = [0, 1].map((i) => {
    const [s, pad, d, extra] = [p.stride[i], p.padding[i], p.dilation[i], outputPadding[i]];
    const n = (size[i] - 1) * s - 2 * pad + d * (k[i] - 1) + extra + 1;
    if (n < 1) {
      throw new ShapeError(`${op}: padding ${pad} leaves an output ${i ? 'width' : 'height'} of ${n} for x ${shapeText(xShape)} and weight ${shapeText(wShape)}`);
    }
    return n;
  });
  const geometry: ConvGeometry = {
    N, Cin: coutG * groups, H: out[0], W: out[1], Cout: C, Hout: H, Wout: W, kH, kW,
    sH: p.stride[0], sW: p.stride[1], pH: p.padding[0], pW: p.padding[1], dH: p.dilation[0], dW: p.dilation[1], groups,
  };
  checkPaddedImage(op, geometry);
  return { geometry, outputShape: [N, geometry.Cin, out[0], out[1]] };
}

// ---- Pooling ----

/** Pooling geometry in kernel argument order: planes NC = N·C, then H, W, Hout, Wout, kH, kW,
 *  sH, sW, pH, pW, and dilation (max pooling; 1 for average pooling). */
export interface PoolGeometry {
  N: number; C: number; H: number; W: number; Hout: number; Wout: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number; dH: number; dW: number;
}

/** Pooling's kernel, stride, padding and dilation, each [height, width]. */
export interface PoolParams {
  kernel: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number];
}

/** Checks the pooling options on their own. Only max pooling has a dilation; average pooling's is 1. */
export function poolParams(
  op: string, kind: 'max' | 'avg', options: MaxPool2dOptions | AvgPool2dOptions | null | undefined,
): PoolParams {
  const o = optionsObject(op, options, true, POOL_OPTIONS[kind]) as Partial<MaxPool2dOptions>;
  if (o.kernelSize === undefined || o.kernelSize === null) {
    throw new TypeError(`${op}: options.kernelSize is required; got ${o.kernelSize}`);
  }
  const [kH, kW] = pair(o.kernelSize, 1, `${op}: kernelSize`, 1);
  const [sH, sW] = pair(o.stride, o.kernelSize, `${op}: stride`, 1);
  const [pH, pW] = pair(o.padding, 0, `${op}: padding`, 0);
  const [dH, dW] = kind === 'max' ? pair(o.dilation, 1, `${op}: dilation`, 1) : [1, 1];
  if (pH > Math.floor(kH / 2) || pW > Math.floor(kW / 2)) {
    throw new ShapeError(
      `${op}: padding must be at most half the kernel size; got padding ${shapeText([pH, pW])}, kernelSize ${shapeText([kH, kW])}`,
    );
  }
  return { kernel: [kH, kW], stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW] };
}

/** Checks pooling options and the shape of x (or of `inputShape`, as `name` says). */
export function pool2dGeometry(
  op: string, kind: 'max' | 'avg', xShape: readonly number[],
  options: MaxPool2dOptions | AvgPool2dOptions | null | undefined, name = 'x',
): PoolGeometry {
  const { kernel: [kH, kW], stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW] } = poolParams(op, kind, options);
  checkImageShape(op, name, xShape);
  const [N, C, H, W] = xShape;
  const what = `${op}: kernelSize ${shapeText([kH, kW])} on ${name} ${shapeText(xShape)}`;
  const Hout = checkedOutputSize(what, 'height', H, kH, sH, pH, dH);
  const Wout = checkedOutputSize(what, 'width', W, kW, sW, pW, dW);
  return { N, C, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, dH, dW };
}

/** countIncludePad of average pooling as the kernel's 0 or 1 (default 1, as in PyTorch). */
export function countIncludePad(op: string, options: { countIncludePad?: boolean }): number {
  const v = options.countIncludePad ?? true;
  if (typeof v !== 'boolean') throw new TypeError(`${op}: countIncludePad must be a boolean; got ${shown(v)}`);
  return v ? 1 : 0;
}

/** The kernel arguments NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW shared by both poolings, with
 *  NC = `planes` (all N·C of them by default; the functional ops pass chunks of planes). */
export function poolArgs(g: PoolGeometry, planes = g.N * g.C): [number, number, number, number, number, number, number, number, number, number, number] {
  return [planes, g.H, g.W, g.Hout, g.Wout, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW];
}

export function poolOutputShape(g: PoolGeometry): number[] {
  return [g.N, g.C, g.Hout, g.Wout];
}
