// What every layer is to a Sequential model. A layer knows its shapes and which tensors it needs;
// the model plans the memory for all layers at once and hands each one `Slot`s: byte offsets into
// the backend's heap. A layer holds those offsets, never typed arrays (memory growth would detach
// them), and calls the kernels of src/runtime/kernels.ts on them.
import type { Kernels } from '../runtime/kernels.js';
import type { Heap } from '../runtime/memory.js';
import type { Random } from '../model/random.js';
import { shown } from '../shapes.js';

/** A planned tensor: a byte offset into the heap and its element count. */
export interface Slot {
  readonly offset: number;
  readonly length: number;
}

/** A learnable tensor and its gradient, which sits at the same place in the gradient region. */
export interface ParamSlot {
  readonly value: Slot;
  readonly grad: Slot;
}

/** Fills a new parameter or buffer (a view made at that moment) from the model's generator. */
export type Initializer = (data: Float32Array, rng: Random) => void;

/** What a layer asks for while the model plans; the slots are filled in when memory exists. */
export interface Planner {
  /** A learnable tensor, saved under `name` (`weight`, `bias`) in the state dict. */
  parameter(name: string, shape: readonly number[], init: Initializer): ParamSlot;
  /** A saved but not learned tensor (`running_mean`): in the state dict, not in the optimizer. */
  buffer(name: string, shape: readonly number[], init: Initializer): Slot;
  /** What the forward keeps for the backward (argmax indices, masks, batch statistics). */
  saved(elements: number): Slot;
  /** Bytes of the shared scratch area this layer's kernels need. */
  scratch(bytes: number): void;
}

/** The buffers of one call: x and y are this layer's input and output activations; dx is 0 when
 *  no one needs the input gradient (the first layer). `n` is the number of samples (≤ batchSize). */
export interface Pass {
  readonly k: Kernels;
  readonly heap: Heap;
  /** The model's generator (dropout masks). */
  readonly rng: Random;
  readonly x: number;
  readonly y: number;
  readonly n: number;
  readonly scratch: number;
}

export interface BackwardPass extends Pass {
  readonly dy: number;
  readonly dx: number;
}

export abstract class Layer {
  /** Per-sample input and output shapes, known after `plan`. */
  inputShape: readonly number[] = [];
  outputShape: readonly number[] = [];

  /** How the layer names itself in errors: `Conv2d(3→8, kernel 3)`. */
  abstract describe(): string;

  /** Checks the per-sample input shape and returns the output shape; throws a ShapeError that
   *  names the layer and both shapes when the input does not fit. */
  abstract outputShapeFor(input: readonly number[]): number[];

  /** Throws a ShapeError when a forward over `n` samples cannot run. The model asks every layer
   *  before a step does any work, so that no layer has updated anything when a later one refuses. */
  checkBatch(_n: number, _training: boolean): void {}

  /** Declares what this layer needs for batches of up to `batchSize` samples. */
  plan(_p: Planner, _batchSize: number, _k: Kernels): void {}

  /** True when the output is the input itself (Flatten): the model gives both one buffer. */
  get aliasesInput(): boolean {
    return false;
  }

  abstract forward(pass: Pass, training: boolean): void;
  /** Writes dx (when not 0) and accumulates the parameter gradients. */
  abstract backward(pass: BackwardPass, training: boolean): void;

  /** Host-side state that the state dict also holds (BatchNorm's num_batches_tracked). */
  counters(): Record<string, number> {
    return {};
  }
  setCounter(_name: string, _value: number): void {}

  toString(): string {
    return this.describe();
  }
}

/** PyTorch's default initialisation of conv and linear layers: kaiming_uniform_(a = √5) on the
 *  weight and U(−1/√fan_in, 1/√fan_in) on the bias both come to this bound. */
export function uniformInit(fanIn: number): Initializer {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return (data, rng) => {
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-bound, bound);
  };
}

export const constantInit = (value: number): Initializer => (data) => data.fill(value);

/** Checks a numeric argument: a TypeError for another kind, a RangeError when `valid` refuses it. */
export function numberArg(owner: string, what: string, value: unknown, valid: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number') throw new TypeError(`${owner}: ${what} must be a number; got ${shown(value)}`);
  if (!valid(value)) throw new RangeError(`${owner}: ${what} must be ${rule}; got ${shown(value)}`);
  return value;
}

/** Checks an optional boolean option (`bias`, `affine`); undefined or null means `fallback`. */
export function booleanArg(owner: string, what: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${owner}: ${what} must be a boolean; got ${shown(v)}`);
  return v;
}

/** Checks a constructor argument that must be a positive integer. */
export function positiveInt(layer: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${layer}: ${what} must be a positive integer; got ${shown(value)}`);
  }
  return value;
}
