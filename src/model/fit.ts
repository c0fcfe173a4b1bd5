// The training loop: epochs of shuffled batches, one trainStep each, reporting through callbacks
// and yielding to the event loop between batches so that a page stays responsive. An aborted
// signal stops it before the next batch; the promise then resolves with what was done.
import { ShapeError } from '../errors.js';
import { optionsObject } from '../shapes.js';
import type { TensorLike } from '../tensor.js';
import { Random, checkSeed } from './random.js';
import type { Sequential, Targets } from './sequential.js';

export interface FitData {
  x: Float32Array | TensorLike;
  labels: Targets;
}

export interface BatchReport {
  /** 0-based epoch and 0-based batch within it. */
  epoch: number;
  step: number;
  /** Batches per epoch. */
  steps: number;
  /** This batch's mean loss and accuracy (in training mode). */
  loss: number;
  accuracy: number;
  /** Images trained per second so far in this epoch. */
  imagesPerSecond: number;
}

export interface EpochReport {
  epoch: number;
  /** Means over the epoch's samples. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** Seconds the epoch took. */
  seconds: number;
  /** On validationData, in evaluation mode, when given. */
  validation?: { loss: number; accuracy: number };
}

export interface FitOptions {
  epochs?: number;
  /** Reshuffle the samples every epoch (default true). */
  shuffle?: boolean;
  /** Seeds the shuffling. */
  seed?: number;
  validationData?: FitData;
  onBatchEnd?: (report: BatchReport) => void;
  onEpochEnd?: (report: EpochReport) => void;
  /** Stops training before the next batch once aborted. */
  signal?: AbortSignal;
}

export interface FitResult {
  epochs: EpochReport[];
  /** True when the signal stopped training early. */
  aborted: boolean;
}

/** Lets the event loop run: a macrotask, without the 4 ms clamp of nested setTimeout in browsers. */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        port1.close();
        resolve();
      };
      port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export async function fit(model: Sequential, data: FitData, options: FitOptions): Promise<FitResult> {
  const c = model.trainable('fit');
  if (data === null || typeof data !== 'object') throw new TypeError('Sequential.fit: data must be { x, labels }');
  if ((options as { batchSize?: unknown })?.batchSize !== undefined) {
    throw new TypeError('Sequential.fit: batchSize is not an option of fit; compile({ batchSize }) sets it, and memory is planned for it');
  }
  const o = optionsObject('Sequential.fit', options, false,
    ['epochs', 'shuffle', 'seed', 'validationData', 'onBatchEnd', 'onEpochEnd', 'signal']);
  const { epochs = 1, shuffle = true, validationData, onBatchEnd, onEpochEnd, signal } = o;
  if (!Number.isInteger(epochs) || epochs < 0) throw new TypeError(`Sequential.fit: epochs must be a non-negative integer; got ${epochs}`);
  const seed = checkSeed('Sequential.fit', o.seed);
  const { data: x, n } = model.samples(data.x, 'fit');
  if (n === 0) throw new ShapeError('Sequential.fit: x has no samples');
  const labels = model.checkTargets(data.labels, n, 'fit');
  if (validationData) model.checkTargets(validationData.labels, model.samples(validationData.x, 'fit').n, 'fit');
  const steps = Math.ceil(n / c.batchSize);
  // Every batch is full but perhaps the last: both sizes are checked before the first step.
  model.checkBatch(Math.min(n, c.batchSize));
  model.checkBatch(n - (steps - 1) * c.batchSize);

  const rng = new Random(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const result: FitResult = { epochs: [], aborted: false };
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (shuffle) rng.shuffle(order);
    const started = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let step = 0; step < steps; step++) {
      if (signal?.aborted) {
        result.aborted = true;
        return result;
      }
      const start = step * c.batchSize;
      const m = Math.min(c.batchSize, n - start);
      model.put(x, start, m, order);
      model.putTargets(labels, start, m, order);
      const loss = model.step(m);
      const right = model.correct(m);
      lossSum += loss * m;
      correct += right;
      seen += m;
      const imagesPerSecond = seen / ((performance.now() - started) / 1000);
      onBatchEnd?.({ epoch, step, steps, loss, accuracy: right / m, imagesPerSecond });
      await yieldToEventLoop();
    }
    const seconds = (performance.now() - started) / 1000;
    const report: EpochReport = { epoch, loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: seen / seconds, seconds };
    if (validationData) report.validation = model.evaluate(validationData.x, validationData.labels);
    result.epochs.push(report);
    onEpochEnd?.(report);
  }
  return result;
}
