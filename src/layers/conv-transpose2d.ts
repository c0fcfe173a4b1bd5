// torch.nn.ConvTranspose2d: weight (in, out/groups, kH, kW), optional bias (out). Its forward is
// the input gradient of the conv2d that maps its output back to its input, and its backward is
// that conv2d's forward and filter gradient (shapes.ts: convTranspose2dGeometry).
import {
  CONV_TRANSPOSE_OPTIONS, convArgs, convParams, convTranspose2dGeometry, outputPaddingParam, type ConvArgs, type Pair,
} from '../shapes.js';
import type { Kernels } from '../runtime/kernels.js';
import { checkGroups, checkImageInput, describeConv, kernelPair, type Conv2dLayerOptions } from './conv2d.js';
import { Layer, booleanArg, positiveInt, uniformInit, type BackwardPass, type ParamSlot, type Pass, type Planner } from './layer.js';

export interface ConvTranspose2dLayerOptions extends Omit<Conv2dLayerOptions, 'padding'> {
  padding?: Pair;
  outputPadding?: Pair;
}

const OPTIONS = [...CONV_TRANSPOSE_OPTIONS, 'bias'];

export class ConvTranspose2d extends Layer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly options: ConvTranspose2dLayerOptions;
  readonly groups: number;
  readonly bias: boolean;
  private args?: ConvArgs;
  private w?: ParamSlot;
  private b?: ParamSlot;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvTranspose2dLayerOptions | null = {}) {
    super();
    this.inChannels = positiveInt('ConvTranspose2d', 'inChannels', inChannels);
    this.outChannels = positiveInt('ConvTranspose2d', 'outChannels', outChannels);
    this.kernelSize = kernelPair('ConvTranspose2d', kernelSize);
    // Every option is checked now, as Conv2d does; only the input size waits for compile.
    const p = convParams('ConvTranspose2d', options, null, OPTIONS);
    outputPaddingParam('ConvTranspose2d', options, p);
    this.groups = p.groups;
    this.bias = booleanArg('ConvTranspose2d', 'bias', options?.bias, true);
    this.options = { ...options };
    checkGroups('ConvTranspose2d', inChannels, outChannels, this.groups);
  }

  describe(): string {
    return describeConv('ConvTranspose2d', this.inChannels, this.outChannels, this.kernelSize);
  }

  get weightShape(): number[] {
    return [this.inChannels, this.outChannels / this.groups, ...this.kernelSize];
  }

  private geometry(N: number, input: readonly number[]) {
    return convTranspose2dGeometry(this.describe(), [N, ...input], this.weightShape, this.options, OPTIONS);
  }

  outputShapeFor(input: readonly number[]): number[] {
    checkImageInput(this.describe(), input, this.inChannels);
    return this.geometry(1, input).outputShape.slice(1);
  }

  plan(p: Planner, batchSize: number, k: Kernels): void {
    this.args = convArgs(this.geometry(batchSize, this.inputShape).geometry);
    const fanIn = (this.outChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    this.w = p.parameter('weight', this.weightShape, uniformInit(fanIn));
    if (this.bias) this.b = p.parameter('bias', [this.outChannels], uniformInit(fanIn));
    p.scratch(k.conv2d_scratch_bytes(...this.args));
  }

  /** Output positions per plane: the H·W of the geometry's conv input. */
  private get planeSize(): number {
    return this.args![2] * this.args![3];
  }

  forward({ k, x, y, n, scratch }: Pass): void {
    const a = this.args!;
    a[0] = n;
    k.conv2d_backward_input(y, x, this.w!.value.offset, scratch, ...a);
    if (this.b) k.add_channel_bias(y, this.b.value.offset, n, this.outChannels, this.planeSize);
  }

  backward({ k, x, dy, dx, n, scratch }: BackwardPass): void {
    const a = this.args!;
    a[0] = n;
    k.conv2d_backward_filter(this.w!.grad.offset, dy, x, scratch, ...a);
    if (this.b) k.conv2d_backward_bias(this.b.grad.offset, dy, n, this.outChannels, this.planeSize);
    if (dx) k.conv2d_forward(dx, dy, this.w!.value.offset, 0, scratch, ...a);
  }
}
