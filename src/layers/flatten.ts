// torch.nn.Flatten() with its defaults (startDim 1, endDim −1): every sample becomes one row. The
// data does not move: the model gives the output the input's buffer, so both passes are free.
import { sizeOf } from '../tensor.js';
import { Layer } from './layer.js';

export class Flatten extends Layer {
  describe(): string {
    return 'Flatten()';
  }

  outputShapeFor(input: readonly number[]): number[] {
    return [sizeOf(input)];
  }

  get aliasesInput(): boolean {
    return true;
  }

  forward(): void {}

  backward(): void {}
}
