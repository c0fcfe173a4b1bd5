// torch.nn.BatchNorm2d(numFeatures, { eps = 1e-5, momentum = 0.1, affine = true }): in training,
// each channel is normalised by its batch statistics (saved for the backward) and the running
// statistics are updated with the unbiased variance; in eval, the running statistics are used.
import { ShapeError } from '../errors.js';
import { shapeText } from '../shapes.js';
import { Layer, constantInit, positiveInt, type BackwardPass, type ParamSlot, type Pass, type Planner, type Slot } from './layer.js';

export interface BatchNorm2dOptions {
  eps?: number;
  momentum?: number;
  /** Learn a per-channel scale (weight) and shift (bias); default true. */
  affine?: boolean;
}

export class BatchNorm2d extends Layer {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
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

  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super();
    this.numFeatures = positiveInt('BatchNorm2d', 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.affine = options.affine ?? true;
    if (!(this.eps > 0)) throw new RangeError(`BatchNorm2d: eps must be positive; got ${this.eps}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new RangeError(`BatchNorm2d: momentum must be between 0 and 1; got ${this.momentum}`);
    }
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

  forward({ k, x, y, n }: Pass, training: boolean): void {
    if (training && n * this.planeSize < 2) {
      throw new ShapeError(`${this.describe()}: training needs more than one value per channel; got input ${shapeText([n, ...this.inputShape])}`);
    }
    if (training) this.numBatchesTracked++;
    this.trainedForward = training ? 1 : 0;
    k.batchnorm2d_forward(y, this.saveMean!.offset, this.saveInvstd!.offset, this.runningMean!.offset,
      this.runningVar!.offset, x, this.gamma?.value.offset ?? 0, this.beta?.value.offset ?? 0,
      n, this.numFeatures, this.planeSize, this.trainedForward, this.momentum, this.eps);
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
