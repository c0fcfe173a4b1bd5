// torch.nn.Dropout(p = 0.5): in training, each element is kept with probability 1 − p and scaled
// by 1 / (1 − p); in eval, the identity. The mask is drawn on the host from the model's seeded
// generator (so a run repeats exactly) and the kernels apply mask·scale both ways.
import { ElementwiseLayer } from './elementwise.js';
import { numberArg, type BackwardPass, type Pass, type Planner, type Slot } from './layer.js';

export class Dropout extends ElementwiseLayer {
  readonly p: number;
  private mask?: Slot;
  private scale = 1;

  constructor(p = 0.5) {
    super();
    this.p = numberArg('Dropout', 'probability p', p, (v) => v >= 0 && v <= 1, 'between 0 and 1');
  }

  describe(): string {
    return `Dropout(p=${this.p})`;
  }

  plan(planner: Planner, batchSize: number): void {
    this.mask = planner.saved(this.size(batchSize));
  }

  forward(pass: Pass, training: boolean): void {
    const size = this.size(pass.n);
    const mask = pass.heap.f32(this.mask!.offset, size);
    if (training) {
      const keep = 1 - this.p;
      for (let i = 0; i < size; i++) mask[i] = pass.rng.next() < keep ? 1 : 0;
      this.scale = keep > 0 ? 1 / keep : 0;
    } else {
      mask.fill(1);
      this.scale = 1;
    }
    pass.k.dropout_forward(pass.y, pass.x, this.mask!.offset, size, this.scale);
  }

  protected apply(): void {}

  protected gradient({ k, dy, dx }: BackwardPass, size: number): void {
    k.dropout_backward(dx, dy, this.mask!.offset, size, this.scale);
  }
}
