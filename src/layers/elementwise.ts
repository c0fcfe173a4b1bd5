// The shape-preserving layers that act on each element alone (activations): any input shape,
// output of the same shape, one kernel each way over n·size elements.
import { sizeOf } from '../tensor.js';
import { Layer, type BackwardPass, type Pass } from './layer.js';

export abstract class ElementwiseLayer extends Layer {
  outputShapeFor(input: readonly number[]): number[] {
    return [...input];
  }

  /** Elements in a batch of n samples. */
  protected size(n: number): number {
    return n * sizeOf(this.inputShape);
  }

  forward(pass: Pass, _training: boolean): void {
    this.apply(pass, this.size(pass.n));
  }

  backward(pass: BackwardPass): void {
    if (pass.dx) this.gradient(pass, this.size(pass.n));
  }

  protected abstract apply(pass: Pass, size: number): void;
  protected abstract gradient(pass: BackwardPass, size: number): void;
}
