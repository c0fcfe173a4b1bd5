// torch.nn.BatchNorm2d(numFeatures, { eps = 1e-5, momentum = 0.1, affine = true }): in training,
// each channel is normalised by its batch statistics (saved for the backward) and the running
// statistics are updated with the unbiased variance; in eval, the running statistics are used.
// momentum null makes the running statistics a cumulative moving average (factor 1 / batches), as
// PyTorch's momentum=None does.
import { ShapeError } from '../errors.js';
import { optionsObject, shapeText } from '../shapes.js';
import { Layer, booleanArg, constantInit, numberArg, positiveInt, type BackwardPass, type ParamSlot, type Pass, type Planner, type Slot } from './layer.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of each batch in the running statistics (default 0.1); null for a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale (weight) and shift (bias); default true. */
  affine?: boolean;
}

export class BatchNorm2d extends Layer {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  /** PyTorch's num_batches_tracked: training forwards seen. */
  numBatchesTracked = 0;
  private gamma?: ParamSlot;
  private beta?: ParamSlot;
  private runningMean?: Slot;
  private runningVar?: Slot;
  private saveMean?: Slot;
  private saveInvstd?: Slot;
  private trainedForward = 0;

  constructor(numFeatures: number, options: BatchNorm2dOptions | null = {}) {
    super();
    const o = optionsObject('BatchNorm2d', options, false, ['eps', 'momentum', 'affine']);
    this.numFeatures = positiveInt('BatchNorm2d', 'numFeatures', numFeatures);
    this.eps = numberArg('BatchNorm2d', 'eps', o.eps ?? 1e-5, (v) => v > 0 && Number.isFinite(v), 'a positive finite number');
    this.momentum = o.momentum === null ? null
      : numberArg('BatchNorm2d', 'momentum', o.momentum ?? 0.1, (v) => v >= 0 && v <= 1, 'between 0 and 1 (or null)');
    this.affine = booleanArg('BatchNorm2d', 'affine', o.affine, true);
  }

  describe(): string {
    return `BatchNorm2d(${this.numFeatures})`;
  }

  outputShapeFor(input: readonly number[]): number[] {
    if (input.length !== 3) {
      throw new ShapeError(`${this.describe()}: input must be an image [channels, height, width]; got ${shapeText(input)}`);
    }
    if (input[0] !== this.numFeatures) {
      throw new ShapeError(`${this.describe()}: input has ${input[0]} channels, expected ${this.numFeatures} (input shape ${shapeText(input)})`);
    }
    return [...input];
  }

  plan(p: Planner): void {
    const C = this.numFeatures;
    if (this.affine) {
      this.gamma = p.parameter('weight', [C], constantInit(1));
      this.beta = p.parameter('bias', [C], constantInit(0));
    }
    this.runningMean = p.buffer('running_mean', [C], constantInit(0));
    this.runningVar = p.buffer('running_var', [C], constantInit(1));
    this.saveMean = p.saved(C);
    this.saveInvstd = p.saved(C);
    this.numBatchesTracked = 0;
  }

  private get planeSize(): number {
    return this.inputShape[1] * this.inputShape[2];
  }

  checkBatch(n: number, training: boolean): void {
    if (training && n * this.planeSize < 2) {
      throw new ShapeError(`${this.describe()}: training needs more than one value per channel; got input ${shapeText([n, ...this.inputShape])}`);
    }
  }

  forward({ k, x, y, n }: Pass, training: boolean): void {
    if (training) this.numBatchesTracked++;
    this.trainedForward = training ? 1 : 0;
    // momentum null: the cumulative average, 1 / batches seen (the kernel ignores it in eval).
    const factor = this.momentum ?? 1 / this.numBatchesTracked;
    k.batchnorm2d_forward(y, this.saveMean!.offset, this.saveInvstd!.offset, this.runningMean!.offset,
      this.runningVar!.offset, x, this.gamma?.value.offset ?? 0, this.beta?.value.offset ?? 0,
      n, this.numFeatures, this.planeSize, this.trainedForward, factor, this.eps);
  }

  backward({ k, x, dy, dx, n }: BackwardPass): void {
    // dx is 0 for a first layer: the kernel then only accumulates dgamma and dbeta.
    if (!dx && !this.affine) return;
    k.batchnorm2d_backward(dx, this.gamma?.grad.offset ?? 0, this.beta?.grad.offset ?? 0, dy, x,
      this.gamma?.value.offset ?? 0, this.saveMean!.offset, this.saveInvstd!.offset,
      n, this.numFeatures, this.planeSize, this.trainedForward);
  }

  counters(): Record<string, number> {
    return { num_batches_tracked: this.numBatchesTracked };
  }

  setCounter(name: string, value: number): void {
    if (name === 'num_batches_tracked') this.numBatchesTracked = value;
  }
}
