// PyTorch fixtures (test/fixtures/make_fixture.py, PyTorch 1.13 from Debian): weights PyTorch
// saved load by their state_dict names and give PyTorch's logits; one training run of two SGD
// (Nesterov, weight decay) or AdamW steps from the same weights ends at PyTorch's weights.
import { describe, expect, it } from 'vitest';
import {
  init, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, ConvTranspose2d, LeakyReLU, Tanh, AvgPool2d,
  Flatten, Linear, Sigmoid, Dropout, SGD, AdamW, type Optimizer,
} from '../src/index.js';
import { decodeSafetensors } from '../src/model/safetensors.js';

const fs = (globalThis as any).process.getBuiltinModule('fs');
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

function tensors(bytes: Uint8Array): Map<string, Float32Array | BigInt64Array> {
  const out = new Map<string, Float32Array | BigInt64Array>();
  for (const [name, t] of decodeSafetensors(bytes)) {
    const copy = t.bytes.slice().buffer;
    out.set(name, t.dtype === 'I64' ? new BigInt64Array(copy) : new Float32Array(copy));
  }
  return out;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 1e-4, what = ''): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i])));
  }
  expect(worst, `${what}: the worst element exceeds the tolerance by ${worst}`).toBeLessThanOrEqual(0);
}

const evalModel = () => new Sequential([
  new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
  new ConvTranspose2d(4, 4, 2, { stride: 2 }), new LeakyReLU(0.1),
  new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, bias: false }), new Tanh(), new AvgPool2d(2),
  new Flatten(), new Linear(24, 16), new Sigmoid(), new Dropout(0.3), new Linear(16, 5),
]);

const trainModel = () => new Sequential([
  new Conv2d(2, 3, 3, { bias: false }), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(12, 4),
]);

describe.each(['js', 'scalar', 'simd', 'relaxed-simd'] as const)('PyTorch fixture on the %s backend', (backend) => {
  it('loads PyTorch weights by state_dict name and predicts PyTorch eval-mode logits (batch 4 and chunks of 3)', async () => {
    await init({ backend });
    const io = tensors(fixture('torch_eval_io.safetensors'));
    const x = io.get('x') as Float32Array;
    for (const batchSize of [4, 3]) {
      const model = evalModel().compile({ inputShape: [3, 8, 8], batchSize, seed: 5 });
      model.loadWeights(fixture('torch_eval_weights.safetensors'));
      const logits = model.predict({ data: x, shape: [4, 3, 8, 8] });
      expect(logits.shape).toEqual([4, 5]);
      close(logits.data, io.get('logits') as Float32Array, 1e-5, 1e-4, 'logits');
      model.dispose();
    }
  });

  it('saveWeights writes the same state_dict, and save → load → predict is identical', async () => {
    await init({ backend });
    const original = fixture('torch_eval_weights.safetensors');
    const model = evalModel().compile({ inputShape: [3, 8, 8], batchSize: 4, seed: 5 }).loadWeights(original);
    const saved = model.saveWeights();
    const a = tensors(saved);
    const b = tensors(original);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, t] of b) expect(a.get(name), name).toEqual(t);
    const x = tensors(fixture('torch_eval_io.safetensors')).get('x') as Float32Array;
    const other = evalModel().compile({ inputShape: [3, 8, 8], batchSize: 2, seed: 99 });
    expect(Array.from(other.predict(x).data)).not.toEqual(Array.from(model.predict(x).data));
    other.loadWeights(saved);
    expect(Array.from(other.predict(x).data)).toEqual(Array.from(model.predict(x).data));
    model.dispose();
    other.dispose();
  });

  it.each([
    ['sgd', () => new SGD({ lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true })],
    ['adam', () => new AdamW({ lr: 0.01, weightDecay: 1e-2 })],
  ] as [string, () => Optimizer][])('two %s steps from PyTorch weights reach PyTorch weights and losses', async (name, optimizer) => {
    await init({ backend });
    const io = tensors(fixture('torch_train_io.safetensors'));
    const labels = Int32Array.from(io.get('labels') as Float32Array);
    const model = trainModel().compile({ inputShape: [2, 6, 6], batchSize: 5, optimizer: optimizer() });
    model.loadWeights(fixture('torch_train_before.safetensors'));
    const losses = [0, 1].map(() => model.trainStep(io.get('x') as Float32Array, labels));
    close(losses, io.get(`${name}_losses`) as Float32Array, 1e-5, 1e-5, 'losses');
    const after = tensors(model.saveWeights());
    for (const [key, expected] of tensors(fixture(`torch_train_${name}.safetensors`))) {
      if (expected instanceof BigInt64Array) expect(after.get(key), key).toEqual(expected);
      else close(after.get(key) as Float32Array, expected, 1e-5, 1e-4, key);
    }
    model.dispose();
  });
});
