// Times one LeNet-5 training step (batch 64, SGD with momentum) per backend: the median over
// --steps steps after a warm-up, and the medians of LeNet's convolution kernels on their own, so a
// slow step can be traced to a kernel. Run after `npm run build`:
//   node --experimental-wasm-relaxed-simd examples/lenet-step.mjs [--steps 100] [--backends simd,js]
import { init, backendName, Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, SGD } from '../dist/index.js';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => a.trim().split(/[ =]/)));
const steps = Number(args.steps ?? 100);
const backends = (args.backends ?? 'relaxed-simd,simd,scalar').split(',');
const BATCH = 64;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn, n) {
  for (let i = 0; i < Math.min(10, n); i++) fn();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

for (const name of backends) {
  await init({ backend: name });
  const model = new Sequential([
    new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  ]).compile({ inputShape: [1, 28, 28], batchSize: BATCH, optimizer: new SGD({ lr: 0.01, momentum: 0.9 }), seed: 1 });
  const x = Float32Array.from({ length: BATCH * 784 }, (_, i) => Math.sin(i * 0.1));
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
  const n = name === 'js' ? Math.min(steps, 10) : steps;
  const step = time(() => model.trainStep(x, labels), n);
  const predict = time(() => model.predict(x), n);

  // LeNet's two convolutions alone, each as a one-layer model: predict is the forward (and the
  // copies in and out); a train step adds the filter and bias gradients (a first layer needs no
  // input gradient), an mse loss and the SGD update.
  let kernels = '';
  for (const [label, conv, shape] of [
    ['C1 1→6 5x5 on 28x28', () => new Conv2d(1, 6, 5), [1, 28, 28]],
    ['C2 6→16 5x5 on 12x12', () => new Conv2d(6, 16, 5), [6, 12, 12]],
  ]) {
    const layer = conv();
    const alone = new Sequential([layer, new Flatten()])
      .compile({ inputShape: shape, batchSize: BATCH, loss: 'mse', optimizer: new SGD({ lr: 1e-6 }), seed: 1 });
    const input = Float32Array.from({ length: BATCH * shape.reduce((a, b) => a * b) }, (_, i) => Math.cos(i));
    const targets = new Float32Array(BATCH * layer.outputShape.reduce((a, b) => a * b));
    const forward = time(() => alone.predict(input), n);
    const train = time(() => alone.trainStep(input, targets), n);
    const [C, H, W] = layer.outputShape;
    const gflop = (2 * BATCH * C * H * W * shape[0] * 25) / 1e9;
    kernels += `\n    ${label}: forward ${forward.toFixed(3)} ms (${(gflop / forward * 1000).toFixed(1)} GFLOP/s), ` +
      `train step ${train.toFixed(3)} ms`;
    alone.dispose();
  }
  console.log(`${backendName()}: train step ${step.toFixed(2)} ms (${Math.round((BATCH / step) * 1000)} images/s), ` +
    `predict ${predict.toFixed(2)} ms, median of ${n}${kernels}`);
  model.dispose();
}
