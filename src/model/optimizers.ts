// Optimizers as in torch.optim: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW.
// A model lays out parameters, gradients and each state buffer in the same order, so a step is
// one kernel call over the whole parameter region, then one fill that zeroes the gradients.
import type { Kernels } from '../runtime/kernels.js';
import type { Slot } from '../layers/layer.js';

/** The regions an optimizer steps over; each state slot has the parameters' length. */
export interface OptimizerRegions {
  params: Slot;
  grads: Slot;
  state: readonly Slot[];
}

function number(name: string, what: string, value: number, check: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !check(value)) throw new RangeError(`${name}: ${what} must be ${rule}; got ${value}`);
  return value;
}
const nonNegative = (v: number) => v >= 0 && Number.isFinite(v);
const unit = (v: number) => v >= 0 && v < 1;

export abstract class Optimizer {
  /** The learning rate; may be changed between steps (a schedule). */
  lr: number;
  /** Updates done since the model was compiled. */
  steps = 0;

  protected constructor(name: string, lr: number) {
    this.lr = number(name, 'lr', lr, nonNegative, 'a non-negative number');
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

  constructor(options: SGDOptions = {}) {
    super('SGD', options.lr ?? 1e-3);
    this.momentum = number('SGD', 'momentum', options.momentum ?? 0, nonNegative, 'a non-negative number');
    this.dampening = number('SGD', 'dampening', options.dampening ?? 0, Number.isFinite, 'a finite number');
    this.weightDecay = number('SGD', 'weightDecay', options.weightDecay ?? 0, nonNegative, 'a non-negative number');
    this.nesterov = options.nesterov ?? false;
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

  constructor(options: AdamOptions = {}, name = 'Adam', defaultWeightDecay = 0) {
    super(name, options.lr ?? 1e-3);
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    this.beta1 = number(name, 'betas[0]', beta1, unit, 'in [0, 1)');
    this.beta2 = number(name, 'betas[1]', beta2, unit, 'in [0, 1)');
    this.eps = number(name, 'eps', options.eps ?? 1e-8, nonNegative, 'a non-negative number');
    this.weightDecay = number(name, 'weightDecay', options.weightDecay ?? defaultWeightDecay, nonNegative, 'a non-negative number');
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

  constructor(options: AdamOptions = {}) {
    super(options, 'AdamW', 1e-2);
  }
}
