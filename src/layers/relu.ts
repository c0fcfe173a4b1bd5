// torch.nn.ReLU.
import { ElementwiseLayer } from './elementwise.js';
import type { BackwardPass, Pass } from './layer.js';

export class ReLU extends ElementwiseLayer {
  describe(): string {
    return 'ReLU()';
  }

  protected apply({ k, x, y }: Pass, size: number): void {
    k.relu_forward(y, x, size);
  }

  protected gradient({ k, x, dy, dx }: BackwardPass, size: number): void {
    k.relu_backward(dx, dy, x, size);
  }
}
