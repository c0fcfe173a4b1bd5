// Sequential: layers in a row, compiled once into a memory plan (plan.ts) on the backend's heap.
// A training step copies the batch in and runs kernels over that plan: forward, loss, backward
// (parameter gradients accumulate), optimizer update, one fill that zeroes the gradients. It
// allocates nothing; dispose() gives the memory back.
import { ShapeError } from '../errors.js';
import { Layer, type Slot } from '../layers/layer.js';
import { backend, type Backend } from '../runtime/backend.js';
import { MAX_MEMORY_BYTES } from '../runtime/memory.js';
import { checkTensor, optionsObject, shapeText, shown } from '../shapes.js';
import { sizeOf, Tensor, type TensorLike } from '../tensor.js';
import { Optimizer } from './optimizers.js';
import { MemoryPlan, type MemoryReport } from './plan.js';
import { Random, checkSeed } from './random.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';
import { fit, type FitData, type FitOptions, type FitResult } from './fit.js';

export type LossName = 'crossEntropy' | 'mse';

export interface CompileOptions {
  /** Per-sample input shape: [channels, height, width] for images, [features] for vectors. */
  inputShape: readonly number[];
  /** The largest batch a step runs; memory is planned for it. Smaller batches run too. */
  batchSize: number;
  /** Default 'crossEntropy' (softmax fused in, labels are class indices). */
  loss?: LossName;
  /** Needed to train; a model compiled without one only predicts and evaluates. */
  optimizer?: Optimizer;
  /** Seeds weight initialisation and dropout masks; a run repeats exactly from its seed. */
  seed?: number;
}

/** Class indices (Int32Array) for crossEntropy; for mse, targets of the output's shape, or
 *  class indices that are one-hot encoded. */
export type Targets = Int32Array | Float32Array | TensorLike;

interface Compiled {
  backend: Backend;
  plan: MemoryPlan;
  batchSize: number;
  loss: LossName;
  optimizer?: Optimizer;
  rng: Random;
  inputShape: number[];
  inSize: number;
  outSize: number;
  /** act[i] is layer i's input, act[i + 1] its output; dact likewise (dact[0] = 0: unused). */
  act: number[];
  dact: number[];
  /** i32 class indices (crossEntropy) or f32 targets (mse), batchSize rows. */
  targets: Slot;
  lossValue: Slot;
  scratch: number;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');
const finalizer = new FinalizationRegistry<{ heap: Backend['heap']; offsets: number[] }>(({ heap, offsets }) => {
  for (const offset of offsets) heap.release(offset);
});

export class Sequential {
  readonly layers: readonly Layer[];
  /** Dropout and BatchNorm2d behave as in training (true, the default) or in evaluation. */
  training = true;
  private compiled?: Compiled;
  private disposed = false;

  constructor(layers: readonly Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw new TypeError('Sequential: expected a non-empty array of layers');
    layers.forEach((layer, i) => {
      if (!(layer instanceof Layer)) throw new TypeError(`Sequential: element ${i} is not a layer; got ${String(layer)}`);
    });
    this.layers = [...layers];
  }

  /** Plans all memory for batches of up to `batchSize` and initialises the parameters. */
  compile(options: CompileOptions): this {
    this.live();
    // Every field is checked below.
    const o = optionsObject('Sequential.compile', options, false, ['inputShape', 'batchSize', 'loss', 'optimizer', 'seed']) as CompileOptions;
    const { inputShape, batchSize, loss = 'crossEntropy', optimizer } = o;
    if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new TypeError(`Sequential.compile: inputShape must be an array of positive integers; got ${shown(inputShape)}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TypeError(`Sequential.compile: batchSize must be a positive integer; got ${shown(batchSize)}`);
    }
    if (loss !== 'crossEntropy' && loss !== 'mse') {
      throw new TypeError(`Sequential.compile: loss must be 'crossEntropy' or 'mse'; got ${shown(loss)}`);
    }
    if (optimizer !== undefined && !(optimizer instanceof Optimizer)) {
      throw new TypeError('Sequential.compile: optimizer must be an SGD, Adam or AdamW instance');
    }
    const seed = checkSeed('Sequential.compile', o.seed);
    // Every shape is checked before any layer changes, so that a refused compile leaves a
    // compiled model as it was.
    const shapes: (readonly number[])[] = [[...inputShape]];
    for (const layer of this.layers) shapes.push(layer.outputShapeFor(shapes[shapes.length - 1]));
    const shape = shapes[shapes.length - 1];
    if (loss === 'crossEntropy' && shape.length !== 1) {
      throw new ShapeError(`Sequential.compile: crossEntropy needs the last layer to give [classes]; it gives ${shapeText(shape)}`);
    }

    const b = backend();
    // Planning gives every layer its shapes, slots and kernel arguments; if the plan cannot fit,
    // the layers get back what they held, so that a compiled model stays as it was.
    const held = this.layers.map((layer) => ({ ...layer }));
    const plan = new MemoryPlan();
    const inSize = sizeOf(inputShape);
    const outSize = sizeOf(shape);
    let act: Slot[], dact: Slot[], targets: Slot, lossValue: Slot;
    try {
      this.layers.forEach((layer, i) => {
        layer.inputShape = shapes[i];
        layer.outputShape = shapes[i + 1];
      });
      this.layers.forEach((layer, i) => {
        plan.prefix = `${i}.`;
        layer.plan(plan, batchSize, b.k);
      });
      act = [plan.reserve('activations', batchSize * inSize)];
      dact = [{ offset: 0, length: 0 }];
      for (const layer of this.layers) {
        const size = batchSize * sizeOf(layer.outputShape);
        act.push(layer.aliasesInput ? act[act.length - 1] : plan.reserve('activations', size));
        dact.push(layer.aliasesInput ? dact[dact.length - 1] : plan.reserve('activationGradients', size));
      }
      targets = plan.reserve('activations', loss === 'crossEntropy' ? batchSize : batchSize * outSize);
      lossValue = plan.reserve('activations', 1);
      const paramCount = plan.bytes.parameters / 4;
      for (let i = 0; i < (optimizer?.stateBuffers ?? 0); i++) plan.reserve('optimizer', paramCount);
      // What other models hold stays; what this one holds now is given back before allocating.
      const others = b.heap.allocatedBytes - (this.compiled?.backend === b ? this.compiled.plan.report().total : 0);
      const needed = plan.report().total;
      if (needed > MAX_MEMORY_BYTES - others) {
        throw new ShapeError(
          `Sequential.compile: batchSize ${batchSize} with inputShape ${shapeText(inputShape)} needs ${needed} bytes ` +
            `(${gib(needed)}), more than the ${MAX_MEMORY_BYTES - others} bytes (${gib(MAX_MEMORY_BYTES - others)}) ` +
            `left of WebAssembly's 4 GiB memory`,
        );
      }
    } catch (e) {
      this.layers.forEach((layer, i) => Object.assign(layer, held[i]));
      throw e;
    }

    this.release();
    try {
      plan.allocate(b.heap);
    } catch (e) {
      // The engine may refuse to grow the memory before 4 GiB; the old plan is gone by then.
      if (!(e instanceof RangeError)) throw e;
      throw new ShapeError(
        `Sequential.compile: could not allocate the ${plan.report().total} bytes (${gib(plan.report().total)}) that ` +
          `batchSize ${batchSize} with inputShape ${shapeText(inputShape)} needs (${e.message}); the model is not compiled`,
      );
    }
    const rng = new Random(seed);
    for (const entry of plan.entries) entry.init(b.heap.f32(entry.slot.offset, entry.slot.length), rng);
    if (optimizer) optimizer.steps = 0;
    this.compiled = {
      backend: b, plan, batchSize, loss, optimizer, rng, inputShape: [...inputShape], inSize, outSize,
      act: act.map((s) => s.offset), dact: dact.map((s) => s.offset), targets, lossValue,
      scratch: plan.region('scratch').offset,
    };
    finalizer.register(this, { heap: b.heap, offsets: plan.allocations() }, this);
    return this;
  }

  train(on = true): this {
    this.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** One optimizer step on a batch of up to batchSize samples; returns the batch's mean loss. */
  trainStep(x: Float32Array | TensorLike, labels: Targets): number {
    const c = this.trainable('trainStep');
    const { data, n } = this.samples(x, 'trainStep');
    if (n > c.batchSize) {
      throw new ShapeError(`Sequential.trainStep: x has ${n} samples, more than the compiled batchSize ${c.batchSize}`);
    }
    const targets = this.checkTargets(labels, n, 'trainStep');
    this.checkBatch(n);
    this.put(data, 0, n);
    this.putTargets(targets, 0, n);
    return this.step(n);
  }

  /** Outputs for any number of samples (run in chunks of batchSize, in evaluation mode). */
  predict(x: Float32Array | TensorLike): Tensor {
    const c = this.ready('predict');
    const { data, n } = this.samples(x, 'predict');
    const out = new Float32Array(n * c.outSize);
    for (let start = 0; start < n; start += c.batchSize) {
      const m = Math.min(c.batchSize, n - start);
      this.put(data, start, m);
      this.forward(m, false);
      out.set(c.backend.heap.f32(c.act[this.layers.length], m * c.outSize), start * c.outSize);
    }
    return new Tensor(out, [n, ...this.layers[this.layers.length - 1].outputShape]);
  }

  /** Mean loss and accuracy (argmax against the class indices) in evaluation mode. */
  evaluate(x: Float32Array | TensorLike, labels: Targets): { loss: number; accuracy: number } {
    const c = this.ready('evaluate');
    const { data, n } = this.samples(x, 'evaluate');
    const targets = this.checkTargets(labels, n, 'evaluate');
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += c.batchSize) {
      const m = Math.min(c.batchSize, n - start);
      this.put(data, start, m);
      this.putTargets(targets, start, m);
      this.forward(m, false);
      lossSum += this.lossAndGradient(m) * m;
      correct += this.correct(m);
    }
    return { loss: lossSum / n, accuracy: correct / n };
  }

  /** Trains for some epochs, yielding to the event loop between batches (see fit.ts). */
  fit(data: FitData, options: FitOptions | null = {}): Promise<FitResult> {
    return fit(this, data, options ?? {});
  }

  /** The parameters and buffers as safetensors, under PyTorch's state_dict names. */
  saveWeights(): Uint8Array {
    const c = this.ready('saveWeights');
    const tensors = new Map<string, SafeTensor>();
    this.layers.forEach((layer, i) => {
      for (const e of c.plan.entries.filter((e) => e.name.startsWith(`${i}.`))) {
        const values = c.backend.heap.f32(e.slot.offset, e.slot.length);
        tensors.set(e.name, { dtype: 'F32', shape: e.shape, bytes: new Uint8Array(values.slice().buffer) });
      }
      for (const [name, value] of Object.entries(layer.counters())) {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigInt64(0, BigInt(value), true);
        tensors.set(`${i}.${name}`, { dtype: 'I64', shape: [], bytes });
      }
    });
    return encodeSafetensors(tensors);
  }

  /** Loads what saveWeights (or PyTorch's safetensors) wrote for the same architecture. Every
   *  name, dtype and shape is checked before anything is written. */
  loadWeights(bytes: Uint8Array): this {
    const c = this.ready('loadWeights');
    const file = decodeSafetensors(bytes);
    const expected = new Set<string>();
    const writes: (() => void)[] = [];
    for (const e of c.plan.entries) {
      expected.add(e.name);
      const t = file.get(e.name);
      if (!t) throw new Error(`loadWeights: the file has no tensor ${e.name} (shape ${shapeText(e.shape)})`);
      if (t.dtype !== 'F32') throw new TypeError(`loadWeights: ${e.name} has dtype ${t.dtype}, expected F32`);
      if (shapeText(t.shape) !== shapeText(e.shape)) {
        throw new ShapeError(`loadWeights: ${e.name} has shape ${shapeText(t.shape)} in the file, expected ${shapeText(e.shape)}`);
      }
      if (t.bytes.length !== e.slot.length * 4) throw new ShapeError(`loadWeights: ${e.name} has ${t.bytes.length} bytes, expected ${e.slot.length * 4}`);
      writes.push(() => {
        const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
        const out = c.backend.heap.f32(e.slot.offset, e.slot.length);
        for (let j = 0; j < out.length; j++) out[j] = view.getFloat32(j * 4, true);
      });
    }
    this.layers.forEach((layer, i) => {
      for (const name of Object.keys(layer.counters())) {
        const key = `${i}.${name}`;
        expected.add(key);
        const t = file.get(key);
        if (t && t.bytes.length === 8) {
          writes.push(() => layer.setCounter(name, Number(new DataView(t.bytes.buffer, t.bytes.byteOffset, 8).getBigInt64(0, true))));
        }
      }
    });
    const unexpected = [...file.keys()].filter((k) => !expected.has(k));
    if (unexpected.length) throw new Error(`loadWeights: the file has tensors this model lacks: ${unexpected.join(', ')}`);
    for (const write of writes) write();
    return this;
  }

  /** Bytes per memory category of the plan (all 0 before compile). */
  memory(): MemoryReport {
    this.live();
    return this.compiled ? this.compiled.plan.report() : new MemoryPlan().report();
  }

  dispose(): void {
    if (this.disposed) return;
    this.release();
    this.disposed = true;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  // ---- The step and its parts; fit.ts drives these too ----

  /** @internal The compiled state, after the checks every public method makes. */
  ready(method: string): Compiled {
    this.live();
    if (!this.compiled) throw new Error(`Sequential.${method}: call compile({ inputShape, batchSize, loss, optimizer }) first`);
    return this.compiled;
  }

  /** @internal ready(), for a method that trains and so needs the optimizer. */
  trainable(method: string): Compiled {
    const c = this.ready(method);
    if (!c.optimizer) throw new Error(`Sequential.${method}: the model was compiled without an optimizer`);
    return c;
  }

  /** @internal Checks that every layer can run a step on n samples, before a step writes anything. */
  checkBatch(n: number): void {
    for (const layer of this.layers) layer.checkBatch(n, this.training);
  }

  /** @internal Forward, loss, backward and update on the n samples already in the input buffer. */
  step(n: number): number {
    const c = this.compiled!;
    this.forward(n, this.training);
    const loss = this.lossAndGradient(n);
    const { k, heap } = c.backend;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      this.layers[i].backward({
        k, heap, rng: c.rng, x: c.act[i], y: c.act[i + 1], dy: c.dact[i + 1], dx: i === 0 ? 0 : c.dact[i], n, scratch: c.scratch,
      }, this.training);
    }
    c.optimizer!.step(k, { params: c.plan.region('parameters'), grads: c.plan.region('gradients'), state: this.stateSlots(c) });
    return loss;
  }

  private stateSlots(c: Compiled): Slot[] {
    const region = c.plan.region('optimizer');
    const length = c.plan.bytes.parameters / 4;
    return Array.from({ length: c.optimizer!.stateBuffers }, (_, i) => ({ offset: region.offset + i * length * 4, length }));
  }

  private forward(n: number, training: boolean): void {
    const c = this.compiled!;
    const { k, heap } = c.backend;
    this.layers.forEach((layer, i) => {
      layer.forward({ k, heap, rng: c.rng, x: c.act[i], y: c.act[i + 1], n, scratch: c.scratch }, training);
    });
  }

  private lossAndGradient(n: number): number {
    const c = this.compiled!;
    const last = this.layers.length;
    if (c.loss === 'crossEntropy') {
      c.backend.k.softmax_cross_entropy(c.lossValue.offset, c.dact[last], c.act[last], c.targets.offset, n, c.outSize);
    } else {
      c.backend.k.mse_loss(c.lossValue.offset, c.dact[last], c.act[last], c.targets.offset, n * c.outSize);
    }
    return c.backend.heap.f32(c.lossValue.offset, 1)[0];
  }

  /** @internal How many of the n samples in the buffers the outputs classify right (argmax). */
  correct(n: number): number {
    const c = this.compiled!;
    const C = c.outSize;
    const out = c.backend.heap.f32(c.act[this.layers.length], n * C);
    const labels = c.loss === 'crossEntropy' ? c.backend.heap.i32(c.targets.offset, n) : null;
    const targets = labels ? null : c.backend.heap.f32(c.targets.offset, n * C);
    let correct = 0;
    for (let s = 0; s < n; s++) {
      let best = 0;
      let want = 0;
      for (let j = 1; j < C; j++) {
        if (out[s * C + j] > out[s * C + best]) best = j;
        if (targets && targets[s * C + j] > targets[s * C + want]) want = j;
      }
      if (best === (labels ? labels[s] : want)) correct++;
    }
    return correct;
  }

  /** @internal Checks x against the input shape: its data and its number of samples. */
  samples(x: Float32Array | TensorLike, method: string): { data: Float32Array; n: number } {
    const c = this.compiled!;
    const expected = `[n, ${c.inputShape.join(', ')}]`;
    if (x instanceof Float32Array) {
      if (x.length % c.inSize !== 0) {
        throw new ShapeError(`Sequential.${method}: x has ${x.length} elements, not a multiple of the ${c.inSize} of one sample of shape ${shapeText(c.inputShape)}`);
      }
      return { data: x, n: x.length / c.inSize };
    }
    checkTensor(x, 'x');
    if (x.shape.length !== c.inputShape.length + 1 || c.inputShape.some((d, i) => x.shape[i + 1] !== d)) {
      throw new ShapeError(`Sequential.${method}: x has shape ${shapeText(x.shape)}, expected ${expected}`);
    }
    return { data: x.data, n: x.shape[0] };
  }

  /** @internal Checks labels or targets for n samples. */
  checkTargets(labels: Targets, n: number, method: string): Int32Array | Float32Array {
    const c = this.compiled!;
    const what = `Sequential.${method}`;
    if (labels instanceof Int32Array) {
      if (labels.length !== n) throw new ShapeError(`${what}: labels has ${labels.length} elements, expected one per sample: ${n}`);
      for (let i = 0; i < n; i++) {
        if (!(labels[i] >= 0 && labels[i] < c.outSize)) {
          throw new RangeError(`${what}: labels[${i}] is ${labels[i]}, out of range for ${c.outSize} classes [0, ${c.outSize})`);
        }
      }
      return labels;
    }
    if (c.loss === 'crossEntropy') {
      throw new TypeError(`${what}: labels must be an Int32Array of class indices; got ${labels?.constructor?.name ?? labels}`);
    }
    if (!(labels instanceof Float32Array)) {
      checkTensor(labels, 'targets');
      const expected = [n, ...this.layers[this.layers.length - 1].outputShape];
      if (shapeText(labels.shape) !== shapeText(expected)) {
        throw new ShapeError(`${what}: targets have shape ${shapeText(labels.shape)}, expected ${shapeText(expected)}`);
      }
    }
    const data = labels instanceof Float32Array ? labels : labels.data;
    if (data.length !== n * c.outSize) {
      throw new ShapeError(`${what}: targets have ${data.length} elements, expected ${n} samples × ${c.outSize} outputs = ${n * c.outSize}`);
    }
    return data;
  }

  /** @internal Copies samples [start, start + m) of data into the input buffer (row r ← order[r] if given). */
  put(data: Float32Array, start: number, m: number, order?: Int32Array): void {
    const c = this.compiled!;
    const buffer = c.backend.heap.f32(c.act[0], m * c.inSize);
    if (!order) buffer.set(data.subarray(start * c.inSize, (start + m) * c.inSize));
    else for (let r = 0; r < m; r++) buffer.set(data.subarray(order[start + r] * c.inSize, (order[start + r] + 1) * c.inSize), r * c.inSize);
  }

  /** @internal Copies labels (or targets; class indices become one-hot for mse) likewise. */
  putTargets(t: Int32Array | Float32Array, start: number, m: number, order?: Int32Array): void {
    const c = this.compiled!;
    const index = (r: number) => (order ? order[start + r] : start + r);
    if (c.loss === 'crossEntropy') {
      const out = c.backend.heap.i32(c.targets.offset, m);
      for (let r = 0; r < m; r++) out[r] = t[index(r)];
      return;
    }
    const C = c.outSize;
    const out = c.backend.heap.f32(c.targets.offset, m * C);
    for (let r = 0; r < m; r++) {
      if (t instanceof Int32Array) {
        out.fill(0, r * C, (r + 1) * C);
        out[r * C + t[index(r)]] = 1;
      } else out.set(t.subarray(index(r) * C, (index(r) + 1) * C), r * C);
    }
  }

  private live(): void {
    if (this.disposed) throw new Error('Sequential: this model was disposed; build and compile a new one');
  }

  private release(): void {
    if (!this.compiled) return;
    finalizer.unregister(this);
    this.compiled.plan.release(this.compiled.backend.heap);
    this.compiled = undefined;
  }
}
