// The training worker: LeNet-5 on the MNIST digits, with wasm-cnn running inside this worker so
// that the page's main thread only draws. `fit` yields to the event loop between steps, which is
// when 'predict', 'stop' and 'save' messages get their turn.
import {
  init, backendName, Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, SGD, type BatchReport,
} from 'wasm-cnn';
import { fetchDigits, normalise, split, type Digits } from './digits.js';
import type { FromWorker, ToWorker } from './protocol.js';

const TEST_COUNT = 2000;
const SPLIT_SEED = 1;
const BATCH = 64;
const EPOCHS = 20;
/** Steps between two evaluations on the held-out digits. */
const EVALUATE_EVERY = 25;

const post = (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, { transfer });

let model: Sequential;
let train: Digits;
let test: Digits;
let epoch = 0;
let step = 0;
let controller: AbortController | undefined;

function lenet(): Sequential {
  const m = new Sequential([
    new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  ]);
  m.compile({
    inputShape: [1, 28, 28], batchSize: BATCH, loss: 'crossEntropy',
    optimizer: new SGD({ lr: 0.01, momentum: 0.9 }),
  });
  return m;
}

function evaluate(): void {
  const { loss, accuracy } = model.evaluate(test.x, test.labels);
  post({ type: 'evaluation', epoch: Math.max(epoch, 1), step, loss, accuracy });
}

/** Trains epoch after epoch until EPOCHS are done or 'stop' aborts; 'resume' starts a new epoch. */
async function trainLoop(): Promise<void> {
  if (controller) return;
  controller = new AbortController();
  const { signal } = controller;
  post({ type: 'state', training: true, reason: 'training' });
  let reason = 'stopped';
  try {
    while (!signal.aborted && epoch < EPOCHS) {
      epoch++;
      await model.fit({ x: train.x, labels: train.labels }, {
        epochs: 1, shuffle: true, seed: epoch, signal,
        onBatchEnd: (info: BatchReport) => {
          step++;
          post({ type: 'step', epoch, step, loss: info.loss, trainAccuracy: info.accuracy, imagesPerSecond: info.imagesPerSecond });
          if (step % EVALUATE_EVERY === 0) evaluate();
        },
      });
      if (!signal.aborted) evaluate();
    }
    if (!signal.aborted) reason = `finished ${EPOCHS} epochs`;
  } catch (error) {
    reason = 'stopped by an error';
    throw error;
  } finally {
    controller = undefined;
    post({ type: 'state', training: false, reason });
  }
}

function predict(id: number, pixels: Float32Array): void {
  // A drawn digit (pixels in [0, 1]) is normalised as the training digits are.
  const logits = model.predict({ data: pixels.map(normalise), shape: [1, 1, 28, 28] }).data;
  const max = Math.max(...logits);
  const exp = Float32Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  const probabilities = exp.map((v) => v / sum);
  post({ type: 'prediction', id, probabilities }, [probabilities.buffer]);
}

function fail(error: unknown): void {
  post({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    switch (message.type) {
      case 'stop':
        controller?.abort();
        break;
      case 'resume':
        if (epoch >= EPOCHS) epoch = EPOCHS - 1;
        trainLoop().catch(fail);
        break;
      case 'predict':
        predict(message.id, message.pixels);
        break;
      case 'save': {
        // A copy, so that what is transferred is never a view of the model's own memory.
        const bytes = model.saveWeights().slice();
        post({ type: 'weights', bytes }, [bytes.buffer]);
        break;
      }
      case 'load':
        model.loadWeights(message.bytes);
        post({ type: 'loaded', name: message.name });
        evaluate();
        break;
    }
  } catch (error) {
    fail(error);
  }
};

async function start(): Promise<void> {
  const [digits] = await Promise.all([fetchDigits(new URL('./mnist.bin', import.meta.url).href), init()]);
  ({ train, test } = split(digits, digits.count - TEST_COUNT, SPLIT_SEED));
  model = lenet();
  post({
    type: 'ready', backend: backendName(), train: train.count, test: test.count,
    crossOriginIsolated: self.crossOriginIsolated,
  });
  evaluate();
  await trainLoop();
}

start().catch(fail);
