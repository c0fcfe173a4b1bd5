// torch.nn.LeakyReLU(negativeSlope = 0.01).
import { ElementwiseLayer } from './elementwise.js';
import type { BackwardPass, Pass } from './layer.js';

export class LeakyReLU extends ElementwiseLayer {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new TypeError(`LeakyReLU: negativeSlope must be a finite number; got ${negativeSlope}`);
    }
    this.negativeSlope = negativeSlope;
  }

  describe(): string {
    return `LeakyReLU(${this.negativeSlope})`;
  }

  protected apply({ k, x, y }: Pass, size: number): void {
    k.leaky_relu_forward(y, x, size, this.negativeSlope);
  }

  protected gradient({ k, x, dy, dx }: BackwardPass, size: number): void {
    k.leaky_relu_backward(dx, dy, x, size, this.negativeSlope);
  }
}
