// torch.nn.Linear: weight (out, in), optional bias (out), on inputs of [in] features per sample.
import { ShapeError } from '../errors.js';
import { optionsObject, shapeText } from '../shapes.js';
import type { Kernels } from '../runtime/kernels.js';
import { Layer, booleanArg, positiveInt, uniformInit, type BackwardPass, type ParamSlot, type Pass, type Planner } from './layer.js';

export interface LinearLayerOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
}

export class Linear extends Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  private w?: ParamSlot;
  private b?: ParamSlot;

  constructor(inFeatures: number, outFeatures: number, options: LinearLayerOptions | null = {}) {
    super();
    this.inFeatures = positiveInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = positiveInt('Linear', 'outFeatures', outFeatures);
    this.bias = booleanArg('Linear', 'bias', optionsObject('Linear', options, false, ['bias']).bias, true);
  }

  describe(): string {
    return `Linear(${this.inFeatures}→${this.outFeatures})`;
  }

  outputShapeFor(input: readonly number[]): number[] {
    if (input.length !== 1) {
      throw new ShapeError(`${this.describe()}: input must be flat [features]; got ${shapeText(input)} (put a Flatten before it)`);
    }
    if (input[0] !== this.inFeatures) {
      throw new ShapeError(`${this.describe()}: input has ${input[0]} features, expected ${this.inFeatures} (input shape ${shapeText(input)})`);
    }
    return [this.outFeatures];
  }

  plan(p: Planner, batchSize: number, k: Kernels): void {
    this.w = p.parameter('weight', [this.outFeatures, this.inFeatures], uniformInit(this.inFeatures));
    if (this.bias) this.b = p.parameter('bias', [this.outFeatures], uniformInit(this.inFeatures));
    p.scratch(k.linear_scratch_bytes(batchSize, this.inFeatures, this.outFeatures));
  }

  forward({ k, x, y, n, scratch }: Pass): void {
    k.linear_forward(y, x, this.w!.value.offset, this.b?.value.offset ?? 0, scratch, n, this.inFeatures, this.outFeatures);
  }

  backward({ k, x, dy, dx, n, scratch }: BackwardPass): void {
    k.linear_backward_weight(this.w!.grad.offset, x, dy, scratch, n, this.inFeatures, this.outFeatures);
    if (this.b) k.conv2d_backward_bias(this.b.grad.offset, dy, n, this.outFeatures, 1);
    if (dx) k.linear_backward_input(dx, dy, this.w!.value.offset, scratch, n, this.inFeatures, this.outFeatures);
  }
}
