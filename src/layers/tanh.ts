// torch.nn.Tanh; the backward reads the forward's output.
import { ElementwiseLayer } from './elementwise.js';
import type { BackwardPass, Pass } from './layer.js';

export class Tanh extends ElementwiseLayer {
  describe(): string {
    return 'Tanh()';
  }

  protected apply({ k, x, y }: Pass, size: number): void {
    k.tanh_forward(y, x, size);
  }

  protected gradient({ k, y, dy, dx }: BackwardPass, size: number): void {
    k.tanh_backward(dx, dy, y, size);
  }
}
