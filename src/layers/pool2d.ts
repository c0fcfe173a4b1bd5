// What MaxPool2d and AvgPool2d share: options checked at construction, the geometry for an input
// shape, the output shape, and the kernel arguments computed once when the model plans.
import { POOL_OPTIONS, optionsObject, pool2dGeometry, poolArgs, poolParams, type Pair } from '../shapes.js';
import { checkImageInput } from './conv2d.js';
import { Layer } from './layer.js';

export type PoolArgs = ReturnType<typeof poolArgs>;

export abstract class Pool2dLayer<Options extends object> extends Layer {
  readonly kernelSize: Pair;
  readonly options: Options;
  /** NC (for one sample), H, W, Hout, Wout, kH, kW, sH, sW, pH, pW: set by `plan`. */
  protected args?: PoolArgs;

  constructor(private readonly kind: 'max' | 'avg', kernelSize: Pair, options: Options | null) {
    super();
    this.kernelSize = kernelSize;
    const names = POOL_OPTIONS[kind].filter((name) => name !== 'kernelSize');
    this.options = { ...optionsObject(this.describe(), options, false, names) } as Options;
    // The options are checked now; the input they meet, at compile.
    poolParams(this.describe(), kind, { kernelSize, ...this.options });
  }

  describe(): string {
    return `${this.kind === 'max' ? 'Max' : 'Avg'}Pool2d(kernel ${JSON.stringify(this.kernelSize)})`;
  }

  protected geometry(N: number, input: readonly number[]) {
    return pool2dGeometry(this.describe(), this.kind, [N, ...input], { kernelSize: this.kernelSize, ...this.options }, 'input');
  }

  outputShapeFor(input: readonly number[]): number[] {
    checkImageInput(this.describe(), input, input[0]);
    const g = this.geometry(1, input);
    return [g.C, g.Hout, g.Wout];
  }
}
