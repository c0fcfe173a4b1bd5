// Training steps of whole models (SGD lr 0.01 momentum 0.9, cross-entropy) on our builds beside
// TensorFlow.js and PyTorch: LeNet-5, the model of issue 4, where per-op overhead weighs most, and a
// CIFAR-sized CNN with BatchNorm2d, where the convolutions' arithmetic does. TensorFlow.js has no
// Sequential in tfjs-core, so its models are the same networks written with core ops and trained
// through optimizer.minimize (tf.variableGrads).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './timing.mjs';
import { OUR_BACKENDS, TF_BACKENDS, failure } from './contenders.mjs';
import { randomData, rng } from './workloads.mjs';

/**
 * Each model: `layers(api)` our Sequential's layers, `tfLogits(tf, param, xs)` the same network
 * in NHWC on TensorFlow.js (param(shape, fanIn) makes a variable in PyTorch's default range;
 * ones/zeros(shape) BatchNorm's scale and shift), and the same model in bench/pytorch_models.py.
 */
export const MODELS = [
  {
    id: 'lenet',
    title: 'LeNet-5 training step',
    batch: 64,
    image: [1, 28, 28],
    classes: ['Sequential', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear'],
    layers: ({ Conv2d, ReLU, MaxPool2d, Flatten, Linear }) => [
      new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2),
      new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
    ],
    tfModel: (tf, { param }) => {
      const p = {
        c1w: param([5, 5, 1, 6], 25), c1b: param([6], 25),
        c2w: param([5, 5, 6, 16], 150), c2b: param([16], 150),
        f1w: param([256, 120], 256), f1b: param([120], 256),
        f2w: param([120, 84], 120), f2b: param([84], 120),
        f3w: param([84, 10], 84), f3b: param([10], 84),
      };
      const logits = (xs) => {
        let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(xs, p.c1w, 1, 'valid'), p.c1b)), 2, 2, 'valid');
        h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, p.c2w, 1, 'valid'), p.c2b)), 2, 2, 'valid');
        h = tf.reshape(h, [xs.shape[0], 256]);
        h = tf.relu(tf.add(tf.matMul(h, p.f1w), p.f1b));
        h = tf.relu(tf.add(tf.matMul(h, p.f2w), p.f2b));
        return tf.add(tf.matMul(h, p.f3w), p.f3b);
      };
      return { params: Object.values(p), logits };
    },
    about: 'LeNet-5 as in issue 4: Conv2d(1,6,5) ReLU MaxPool2d(2) Conv2d(6,16,5) ReLU MaxPool2d(2) Flatten Linear(256,120) ReLU Linear(120,84) ReLU Linear(84,10).',
  },
  {
    id: 'cifar',
    title: 'CIFAR-sized CNN training step',
    batch: 32,
    image: [3, 32, 32],
    classes: ['Sequential', 'Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d', 'AvgPool2d', 'Flatten', 'Linear'],
    layers: ({ Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Linear }) => [
      new Conv2d(3, 32, 3, { padding: 1 }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
      new Conv2d(32, 64, 3, { padding: 1 }), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
      new Conv2d(64, 64, 3, { padding: 1 }), new BatchNorm2d(64), new ReLU(), new AvgPool2d(2),
      new Flatten(), new Linear(64 * 4 * 4, 10),
    ],
    tfModel: (tf, { param, ones, zeros }) => {
      const block = (cin, cout, fn) => ({ w: param([3, 3, cin, cout], cin * 9), b: param([cout], cin * 9), gamma: ones([cout]), beta: zeros([cout]), fn });
      const blocks = [block(3, 32, tf.maxPool), block(32, 64, tf.maxPool), block(64, 64, tf.avgPool)];
      const fw = param([1024, 10], 1024);
      const fb = param([10], 1024);
      const logits = (xs) => {
        let h = xs;
        for (const { w, b, gamma, beta, fn } of blocks) {
          h = tf.add(tf.conv2d(h, w, 1, 'same'), b);
          // Training-mode batch normalisation: the batch's mean and (biased) variance, as PyTorch's.
          const { mean, variance } = tf.moments(h, [0, 1, 2]);
          h = fn(tf.relu(tf.batchNorm(h, mean, variance, beta, gamma, 1e-5)), 2, 2, 'valid');
        }
        return tf.add(tf.matMul(tf.reshape(h, [xs.shape[0], 1024]), fw), fb);
      };
      return { params: [...blocks.flatMap((k) => [k.w, k.b, k.gamma, k.beta]), fw, fb], logits };
    },
    about: 'A CIFAR-sized CNN: three blocks of Conv2d(3×3, padding 1) BatchNorm2d ReLU, 3→32, 32→64 and 64→64 channels on 32×32 images, pooled by MaxPool2d(2), MaxPool2d(2) and AvgPool2d(2), then Flatten Linear(1024,10); about 1.5 GFLOP per step.',
  },
];

function batch({ batch, image }) {
  const x = randomData(batch * image[0] * image[1] * image[2], 11).map((v) => (v + 1) / 2); // pixel-like values in [0, 1)
  const next = rng(12);
  const labels = Int32Array.from({ length: batch }, () => Math.floor(next() * 10));
  return { x, labels };
}

/** Our model, compiled on the backend init() selected. */
function ourModel(api, spec) {
  const absent = [...spec.classes, 'SGD'].filter((n) => typeof api[n] !== 'function');
  if (absent.length) throw new NotLanded(`skipped: the model API has not landed: dist/index.js exports no ${absent.join(', ')}`);
  const model = new api.Sequential(spec.layers(api));
  model.compile({ inputShape: spec.image, batchSize: spec.batch, loss: 'crossEntropy', optimizer: new api.SGD({ lr: 0.01, momentum: 0.9 }) });
  return model;
}

/** The same network in TensorFlow.js (NHWC), PyTorch's default initialisation ranges. */
function tfModel(tf, spec, { x, labels }) {
  let seed = 100;
  const param = (shape, fanIn) => {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed++));
  };
  const ones = (shape) => tf.variable(tf.ones(shape));
  const zeros = (shape) => tf.variable(tf.zeros(shape));
  const { params, logits } = spec.tfModel(tf, { param, ones, zeros });
  const [C, H, W] = spec.image;
  const xs = tf.tidy(() => tf.transpose(tf.tensor4d(x, [spec.batch, C, H, W]), [0, 2, 3, 1]));
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const loss = () => tf.losses.softmaxCrossEntropy(onehot, logits(xs));
  const optimizer = tf.train.momentum(0.01, 0.9);
  return {
    step() {
      const cost = optimizer.minimize(loss, true, params);
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    dispose() {
      tf.dispose([xs, onehot, ...params]);
      optimizer.dispose();
    },
  };
}

const TORCH_SCRIPT = fileURLToPath(new URL('./pytorch_models.py', import.meta.url));
const TORCH_MODEL = 'PyTorch nn.Sequential';

/** A python3 that imports torch (Debian's python3-torch installs into /usr/bin/python3), or null. */
function torchPython() {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return null;
}

/** PyTorch times its own steps in a child process (one thread), so it cannot join the rounds:
 *  it runs once just before the first and once just after the last, and its samples are pooled. */
function torchRun(python, spec, seconds) {
  const args = [TORCH_SCRIPT, '--model', spec.id, '--seconds', String(seconds)];
  return JSON.parse(execFileSync(python, args, { encoding: 'utf8' }).trim().split('\n').pop());
}

function torchResult(python, runs) {
  if (!python) return { model: TORCH_MODEL, key: 'torch', status: 'unavailable', message: 'no python3 here imports torch (Debian: apt-get install python3-torch)' };
  const samplesMs = runs.flatMap((r) => r.samples_ms);
  return {
    model: TORCH_MODEL, key: 'torch', status: 'ok', version: runs[0].version,
    medianMs: median(samplesMs), samples: samplesMs.map((ms) => ms / 1e3), firstLoss: runs[0].first_loss,
  };
}

/** Thrown when dist/ has no model API yet: the suite is skipped, not failed. */
class NotLanded extends Error {}

function modelFailure(e) {
  return e instanceof NotLanded ? { status: 'unavailable', message: e.message } : failure(e);
}

/**
 * One contender on one model: a result row when it cannot be built, else a contender for the
 * rounds (timing.mjs; its `enter` selects its backend) with `result(measured)` to make its row.
 */
async function contender(spec, model, key, enter, build, unavailable) {
  if (unavailable) return { model, key, status: 'unavailable', message: unavailable };
  let built;
  let firstLoss;
  try {
    await enter();
    built = build();
  } catch (e) {
    return { model, key, ...modelFailure(e) };
  }
  return {
    name: `${spec.id} ${key}`,
    enter,
    fn: () => {
      const l = built.step();
      firstLoss ??= l;
    },
    result(m) {
      built.dispose?.();
      if (m.error) return { model, key, ...modelFailure(m.error) };
      if (!Number.isFinite(firstLoss)) return { model, key, status: 'error', message: `the first step's loss is ${firstLoss}` };
      return { model, key, status: 'ok', ...m, firstLoss };
    },
  };
}

/**
 * One model's training step (a spec of MODELS) on every contender, for the rounds of run.mjs
 * (timing.mjs), with `timeTorch()` to call just before the first round and just after the last,
 * and `finish(measured)`, given the contenders' results in order, to make the suite's report.
 */
export async function modelSuite(spec, { api, ourUnavailable, tf, tfInfo, settings, log }) {
  const data = batch(spec);
  const entries = [];
  for (const key of OUR_BACKENDS) {
    entries.push(await contender(spec, 'wasm-cnn Sequential', key, () => api.init({ backend: key }), () => {
      const model = ourModel(api, spec);
      return { step: () => model.trainStep(data.x, data.labels), dispose: () => model.dispose?.() };
    }, ourUnavailable[key]));
  }
  for (const backend of TF_BACKENDS) {
    const unavailable = backend === 'wasm' ? tfInfo.wasmError : undefined;
    entries.push(await contender(spec, 'TensorFlow.js core ops', `tf-${backend}`, () => tf.setBackend(backend), () => tfModel(tf, spec, data), unavailable));
  }
  const timed = entries.filter((e) => e.fn);
  const python = torchPython();
  const torchRuns = [];
  let torchError;
  const timeTorch = () => {
    if (!python || torchError) return;
    try {
      torchRuns.push(torchRun(python, spec, settings.maxTime));
    } catch (e) {
      torchError = e;
    }
  };
  const finish = (measured) => {
    const results = entries.map((e) => (e.fn ? e.result(measured[timed.indexOf(e)]) : e));
    results.push(torchError
      ? { model: TORCH_MODEL, key: 'torch', status: 'error', message: torchError.message }
      : torchResult(python, torchRuns));
    for (const r of results) {
      log(`${spec.id} ${r.key}: ${r.status === 'ok' ? `${r.medianMs.toFixed(2)} ms/step, first loss ${r.firstLoss.toFixed(4)}` : `${r.status}: ${r.message}`}`);
    }
    const losses = results.filter((r) => r.status === 'ok').map((r) => `${r.key} ${r.firstLoss.toFixed(3)}`);
    const torchVersion = results.find((r) => r.key === 'torch')?.version;
    return {
      id: spec.id,
      title: spec.title,
      batch: spec.batch,
      results,
      about: [
        `${spec.about} One timed call = one training step on a fixed random batch of ${spec.batch} (forward, cross-entropy, backward, SGD momentum update), the loss read back as a number.`,
        `PyTorch: the same nn.Sequential, torch.optim.SGD and cross_entropy, one thread (torch.set_num_threads(1)), ${torchVersion ? `version ${torchVersion}, ` : ''}timed by bench/pytorch_models.py in a child process for maxTime seconds just before the first round and just after the last, its samples pooled.`,
        `wasm-cnn: \`Sequential.compile({ batchSize: ${spec.batch}, loss: 'crossEntropy', optimizer: new SGD({ lr: 0.01, momentum: 0.9 }) })\`, timed \`model.trainStep(x, labels)\`. TensorFlow.js: the same network in NHWC written with tfjs-core ops (conv2d + bias add${spec.classes.includes('BatchNorm2d') ? ', `tf.moments` and `tf.batchNorm` over the batch' : ''}, relu, pooling, matMul, \`tf.losses.softmaxCrossEntropy\`), trained by \`tf.train.momentum(0.01, 0.9).minimize\` (tf.variableGrads), loss read with \`dataSync()\`; tfjs-layers is not used.`,
        `First-step losses (about ln 10 ≈ 2.303 for an untrained net): ${losses.join(', ') || 'none measured'}.`,
      ],
    };
  };
  return { contenders: timed, timeTorch, finish };
}
