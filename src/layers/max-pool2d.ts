// torch.nn.MaxPool2d: the forward saves the argmax of every window for the backward.
import { pool2dGeometry, poolArgs, type Pair } from '../shapes.js';
import { checkImageInput } from './conv2d.js';
import { sizeOf } from '../tensor.js';
import { Layer, type BackwardPass, type Pass, type Planner, type Slot } from './layer.js';

export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

type PoolArgs = ReturnType<typeof poolArgs>;

export class MaxPool2d extends Layer {
  readonly kernelSize: Pair;
  readonly options: MaxPool2dLayerOptions;
  private args?: PoolArgs;
  private dilation: [number, number] = [1, 1];
  private indices?: Slot;

  constructor(kernelSize: Pair, options: MaxPool2dLayerOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...options };
    // Validates the options now, on a shape any valid kernel fits.
    pool2dGeometry('MaxPool2d', 'max', [1, 1, 1 << 20, 1 << 20], { kernelSize, ...options });
  }

  describe(): string {
    return `MaxPool2d(kernel ${JSON.stringify(this.kernelSize)})`;
  }

  private geometry(N: number, input: readonly number[]) {
    return pool2dGeometry(this.describe(), 'max', [N, ...input], { kernelSize: this.kernelSize, ...this.options }, 'input');
  }

  outputShapeFor(input: readonly number[]): number[] {
    checkImageInput(this.describe(), input, input[0]);
    const g = this.geometry(1, input);
    return [g.C, g.Hout, g.Wout];
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
