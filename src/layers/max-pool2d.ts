// torch.nn.MaxPool2d: the forward saves the argmax of every window for the backward.
import { poolArgs, type Pair } from '../shapes.js';
import { sizeOf } from '../tensor.js';
import type { BackwardPass, Pass, Planner, Slot } from './layer.js';
import { Pool2dLayer } from './pool2d.js';

export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

export class MaxPool2d extends Pool2dLayer<MaxPool2dLayerOptions> {
  private dilation: [number, number] = [1, 1];
  private indices?: Slot;

  constructor(kernelSize: Pair, options: MaxPool2dLayerOptions | null = {}) {
    super('max', kernelSize, options);
  }

  plan(p: Planner, batchSize: number): void {
    const g = this.geometry(batchSize, this.inputShape);
    this.args = poolArgs(g);
    this.dilation = [g.dH, g.dW];
    this.indices = p.saved(batchSize * sizeOf(this.outputShape));
  }

  forward({ k, x, y, n }: Pass): void {
    const [, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW] = this.args!;
    const NC = n * this.inputShape[0];
    k.maxpool2d_forward(y, this.indices!.offset, x, NC, H, W, Hout, Wout, kH, kW, sH, sW, pH, pW, ...this.dilation);
  }

  backward({ k, dy, dx, n }: BackwardPass): void {
    if (!dx) return;
    const [, H, W, Hout, Wout] = this.args!;
    k.maxpool2d_backward(dx, dy, this.indices!.offset, n * this.inputShape[0], H, W, Hout, Wout);
  }
}
