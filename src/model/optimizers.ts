// Optimizers as in torch.optim: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW.
// A model lays out parameters, gradients and each state buffer in the same order, so a step is
// one kernel call over the whole parameter region, then one fill that zeroes the gradients.
import type { Kernels } from '../runtime/kernels.js';
import { booleanArg, numberArg, type Slot } from '../layers/layer.js';
import { optionsObject, shown } from '../shapes.js';

/** The regions an optimizer steps over; each state slot has the parameters' length. */
export interface OptimizerRegions {
  params: Slot;
  grads: Slot;
  state: readonly Slot[];
}

const nonNegative = (v: number) => v >= 0 && Number.isFinite(v);
const unit = (v: number) => v >= 0 && v < 1;

export abstract class Optimizer {
  /** The learning rate; may be changed between steps (a schedule). */
  lr: number;
  /** Updates done since the model was compiled. */
  steps = 0;

  protected constructor(name: string, lr: number) {
    this.lr = numberArg(name, 'lr', lr, nonNegative, 'a non-negative number');
  }

  /** How many buffers of the parameters' size this optimizer keeps. */
  abstract get stateBuffers(): number;

  /** Updates every parameter from its gradient, then zeroes the gradients. */
  step(k: Kernels, r: OptimizerRegions): void {
    this.steps++;
    this.update(k, r);
    k.fill_f32(r.grads.offset, 0, r.grads.length);
  }

  protected abstract update(k: Kernels, r: OptimizerRegions): void;
}

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  readonly nesterov: boolean;

  constructor(options: SGDOptions | null = {}) {
    const o = optionsObject('SGD', options, false, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']);
    super('SGD', o.lr ?? 1e-3);
    this.momentum = numberArg('SGD', 'momentum', o.momentum ?? 0, nonNegative, 'a non-negative number');
    this.dampening = numberArg('SGD', 'dampening', o.dampening ?? 0, Number.isFinite, 'a finite number');
    this.weightDecay = numberArg('SGD', 'weightDecay', o.weightDecay ?? 0, nonNegative, 'a non-negative number');
    this.nesterov = booleanArg('SGD', 'nesterov', o.nesterov, false);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  }

  get stateBuffers(): number {
    return this.momentum !== 0 ? 1 : 0;
  }

  protected update(k: Kernels, { params, grads, state }: OptimizerRegions): void {
    const buf = this.momentum !== 0 ? state[0].offset : 0;
    k.sgd_step(params.offset, buf, grads.offset, params.length, this.lr, this.momentum, this.dampening,
      this.weightDecay, this.nesterov ? 1 : 0, this.steps === 1 ? 1 : 0);
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW decays the weights directly instead of adding the decay to the gradient. */
  protected readonly decoupled: boolean = false;

  constructor(options: AdamOptions | null = {}, name = 'Adam', defaultWeightDecay = 0) {
    const o = optionsObject(name, options, false, ['lr', 'betas', 'eps', 'weightDecay']);
    super(name, o.lr ?? 1e-3);
    const betas = o.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) {
      throw new TypeError(`${name}: betas must be a [beta1, beta2] pair; got ${shown(betas)}`);
    }
    this.beta1 = numberArg(name, 'betas[0]', betas[0], unit, 'in [0, 1)');
    this.beta2 = numberArg(name, 'betas[1]', betas[1], unit, 'in [0, 1)');
    this.eps = numberArg(name, 'eps', o.eps ?? 1e-8, nonNegative, 'a non-negative number');
    this.weightDecay = numberArg(name, 'weightDecay', o.weightDecay ?? defaultWeightDecay, nonNegative, 'a non-negative number');
  }

  get stateBuffers(): number {
    return 2;
  }

  protected update(k: Kernels, { params, grads, state }: OptimizerRegions): void {
    k.adam_step(params.offset, state[0].offset, state[1].offset, grads.offset, params.length, this.lr,
      this.beta1, this.beta2, this.eps, this.weightDecay, this.decoupled ? 1 : 0, this.steps);
  }
}

export class AdamW extends Adam {
  protected readonly decoupled: boolean = true;

  constructor(options: AdamOptions | null = {}) {
    super(options, 'AdamW', 1e-2);
  }
}
