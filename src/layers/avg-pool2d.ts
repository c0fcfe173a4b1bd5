// torch.nn.AvgPool2d: the divisor counts padding unless countIncludePad is false.
import { countIncludePad, poolArgs, type Pair } from '../shapes.js';
import type { BackwardPass, Pass } from './layer.js';
import { Pool2dLayer } from './pool2d.js';

export interface AvgPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  countIncludePad?: boolean;
}

export class AvgPool2d extends Pool2dLayer<AvgPool2dLayerOptions> {
  private readonly includePad: number;

  constructor(kernelSize: Pair, options: AvgPool2dLayerOptions | null = {}) {
    super('avg', kernelSize, options);
    this.includePad = countIncludePad('AvgPool2d', this.options);
  }

  plan(): void {
    this.args = poolArgs(this.geometry(1, this.inputShape));
  }

  forward({ k, x, y, n }: Pass): void {
    const [, ...rest] = this.args!;
    k.avgpool2d_forward(y, x, n * this.inputShape[0], ...rest, this.includePad);
  }

  backward({ k, dy, dx, n }: BackwardPass): void {
    if (!dx) return;
    const [, ...rest] = this.args!;
    k.avgpool2d_backward(dx, dy, n * this.inputShape[0], ...rest, this.includePad);
  }
}
