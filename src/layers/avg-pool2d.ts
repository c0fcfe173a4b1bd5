// torch.nn.AvgPool2d: the divisor counts padding unless countIncludePad is false.
import { countIncludePad, pool2dGeometry, poolArgs, type Pair } from '../shapes.js';
import { checkImageInput } from './conv2d.js';
import { Layer, type BackwardPass, type Pass } from './layer.js';

export interface AvgPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  countIncludePad?: boolean;
}

type PoolArgs = ReturnType<typeof poolArgs>;

export class AvgPool2d extends Layer {
  readonly kernelSize: Pair;
  readonly options: AvgPool2dLayerOptions;
  private readonly includePad: number;
  private args?: PoolArgs;

  constructor(kernelSize: Pair, options: AvgPool2dLayerOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...options };
    pool2dGeometry('AvgPool2d', 'avg', [1, 1, 1 << 20, 1 << 20], { kernelSize, ...options });
    this.includePad = countIncludePad('AvgPool2d', options);
  }

  describe(): string {
    return `AvgPool2d(kernel ${JSON.stringify(this.kernelSize)})`;
  }

  private geometry(N: number, input: readonly number[]) {
    return pool2dGeometry(this.describe(), 'avg', [N, ...input], { kernelSize: this.kernelSize, ...this.options }, 'input');
  }

  outputShapeFor(input: readonly number[]): number[] {
    checkImageInput(this.describe(), input, input[0]);
    const g = this.geometry(1, input);
    return [g.C, g.Hout, g.Wout];
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
