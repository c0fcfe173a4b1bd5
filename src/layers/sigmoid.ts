// torch.nn.Sigmoid; the backward reads the forward's output.
import { ElementwiseLayer } from './elementwise.js';
import type { BackwardPass, Pass } from './layer.js';

export class Sigmoid extends ElementwiseLayer {
  describe(): string {
    return 'Sigmoid()';
  }

  protected apply({ k, x, y }: Pass, size: number): void {
    k.sigmoid_forward(y, x, size);
  }

  protected gradient({ k, y, dy, dx }: BackwardPass, size: number): void {
    k.sigmoid_backward(dx, dy, y, size);
  }
}
