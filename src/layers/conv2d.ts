// torch.nn.Conv2d: weight (out, in/groups, kH, kW), optional bias (out).
import { ShapeError } from '../errors.js';
import { CONV_OPTIONS, convArgs, convParams, conv2dGeometry, pair, shapeText, type ConvArgs, type Pair } from '../shapes.js';
import type { Kernels } from '../runtime/kernels.js';
import { Layer, booleanArg, positiveInt, uniformInit, type BackwardPass, type ParamSlot, type Pass, type Planner } from './layer.js';

export interface Conv2dLayerOptions {
  stride?: Pair;
  /** Or, as in torch.nn.Conv2d, 'valid' (none) or 'same' (stride 1: the output as large as the input). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
}

/** A conv-like layer as errors name it: `Conv2d(3→8, kernel 3)`. */
export function describeConv(name: string, inChannels: number, outChannels: number, [kH, kW]: readonly number[]): string {
  return `${name}(${inChannels}→${outChannels}, kernel ${kH === kW ? kH : `${kH}x${kW}`})`;
}

/** Checks at construction that `groups` divides both channel counts, as torch.nn does. */
export function checkGroups(name: string, inChannels: number, outChannels: number, groups: number): void {
  for (const [what, c] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
    if (c % groups !== 0) throw new ShapeError(`${name}: ${what} ${c} is not divisible by groups ${groups}`);
  }
}

/** Checks a conv-like layer's kernelSize, which has no default (torch.nn requires it too). */
export function kernelPair(name: string, kernelSize: Pair): [number, number] {
  if (kernelSize === undefined || kernelSize === null) throw new TypeError(`${name}: kernelSize is required; got ${kernelSize}`);
  return pair(kernelSize, 1, `${name}: kernelSize`, 1);
}

/** Checks that a conv-like layer gets an image with the channels it expects. */
export function checkImageInput(layer: string, input: readonly number[], channels: number): void {
  if (input.length !== 3) {
    throw new ShapeError(`${layer}: input must be an image [channels, height, width]; got ${shapeText(input)}`);
  }
  if (input[0] !== channels) {
    throw new ShapeError(`${layer}: input has ${input[0]} channels, expected ${channels} (input shape ${shapeText(input)})`);
  }
}

export class Conv2d extends Layer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly bias: boolean;
  private args?: ConvArgs;
  private w?: ParamSlot;
  private b?: ParamSlot;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dLayerOptions | null = {}) {
    super();
    this.inChannels = positiveInt('Conv2d', 'inChannels', inChannels);
    this.outChannels = positiveInt('Conv2d', 'outChannels', outChannels);
    this.kernelSize = kernelPair('Conv2d', kernelSize);
    const p = convParams('Conv2d', options, this.kernelSize, [...CONV_OPTIONS, 'bias']);
    this.stride = p.stride;
    this.padding = p.padding;
    this.dilation = p.dilation;
    this.groups = p.groups;
    this.bias = booleanArg('Conv2d', 'bias', options?.bias, true);
    checkGroups('Conv2d', inChannels, outChannels, this.groups);
  }

  describe(): string {
    return describeConv('Conv2d', this.inChannels, this.outChannels, this.kernelSize);
  }

  get weightShape(): number[] {
    return [this.outChannels, this.inChannels / this.groups, ...this.kernelSize];
  }

  outputShapeFor(input: readonly number[]): number[] {
    checkImageInput(this.describe(), input, this.inChannels);
    const g = conv2dGeometry(this.describe(), [1, ...input], this.weightShape, this, { x: 'input', weight: 'weight' });
    return [g.Cout, g.Hout, g.Wout];
  }

  plan(p: Planner, batchSize: number, k: Kernels): void {
    const g = conv2dGeometry(this.describe(), [batchSize, ...this.inputShape], this.weightShape, this);
    this.args = convArgs(g);
    const fanIn = (this.inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    this.w = p.parameter('weight', this.weightShape, uniformInit(fanIn));
    if (this.bias) this.b = p.parameter('bias', [this.outChannels], uniformInit(fanIn));
    p.scratch(k.conv2d_scratch_bytes(...this.args));
  }

  forward({ k, x, y, n, scratch }: Pass): void {
    const a = this.args!;
    a[0] = n;
    k.conv2d_forward(y, x, this.w!.value.offset, this.b?.value.offset ?? 0, scratch, ...a);
  }

  backward({ k, x, dy, dx, n, scratch }: BackwardPass): void {
    const a = this.args!;
    a[0] = n;
    k.conv2d_backward_filter(this.w!.grad.offset, x, dy, scratch, ...a);
    if (this.b) k.conv2d_backward_bias(this.b.grad.offset, dy, n, this.outChannels, a[5] * a[6]);
    if (dx) k.conv2d_backward_input(dx, dy, this.w!.value.offset, scratch, ...a);
  }
}
