// Model-level gradient checks. A gradient is read off one SGD step with lr 1 (p_before − p_after);
// the 'js' backend's gradients are checked against central differences of its loss (eps 1e-3: the
// loss is a float32, so the tolerance is loose), and every WASM build's gradients against the
// 'js' backend's (tight). The models cover every layer type between parameters, so that each
// layer's input gradient shows up in the parameter gradients before it.
import { describe, expect, it } from 'vitest';
import {
  init, Sequential, Conv2d, ConvTranspose2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
  Flatten, Dropout, Linear, SGD, type Layer, type LossName, type BackendName,
} from '../src/index.js';
import { decodeSafetensors } from '../src/model/safetensors.js';
import { Random } from '../src/model/random.js';

interface Case {
  name: string;
  layers: () => Layer[];
  inputShape: number[];
  batch: number;
  loss: LossName;
  outputs: number;
}

const CASES: Case[] = [
  {
    name: 'Conv2d(pad 1) → BatchNorm2d → ReLU → MaxPool2d → Conv2d(groups 2, dilation 2) → Tanh → Flatten → Linear',
    layers: () => [
      new Conv2d(2, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 4, 2, { groups: 2, dilation: 2, padding: 1 }), new Tanh(), new Flatten(), new Linear(36, 3),
    ],
    inputShape: [2, 6, 6], batch: 3, loss: 'crossEntropy', outputs: 3,
  },
  {
    name: 'ConvTranspose2d(stride 2, outputPadding 1) → LeakyReLU → AvgPool2d → Conv2d(stride 2) → Sigmoid → Flatten → Dropout → Linear',
    layers: () => [
      new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }), new LeakyReLU(0.1), new AvgPool2d(2),
      new Conv2d(3, 2, 3, { stride: 2 }), new Sigmoid(), new Flatten(), new Dropout(0.5), new Linear(8, 3),
    ],
    inputShape: [2, 5, 5], batch: 4, loss: 'crossEntropy', outputs: 3,
  },
  {
    name: 'Linear → Tanh → Linear → Sigmoid with mse',
    layers: () => [new Linear(6, 5), new Tanh(), new Linear(5, 4), new Sigmoid()],
    inputShape: [6], batch: 5, loss: 'mse', outputs: 4,
  },
];

const SEED = 7;

function data(c: Case) {
  const rng = new Random(11);
  const size = c.batch * c.inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => rng.uniform(-2, 2));
  const labels = Int32Array.from({ length: c.batch }, (_, i) => i % c.outputs);
  const targets = Float32Array.from({ length: c.batch * c.outputs }, () => rng.next());
  return { x, y: c.loss === 'mse' ? targets : labels };
}

/** A fresh model with the same seed: same initial weights and the same dropout masks. */
function model(c: Case, lr: number): Sequential {
  return new Sequential(c.layers()).compile({
    inputShape: c.inputShape, batchSize: c.batch, loss: c.loss, optimizer: new SGD({ lr }), seed: SEED,
  });
}

const isParameter = (name: string) => name.endsWith('.weight') || name.endsWith('.bias');

function parameters(bytes: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of decodeSafetensors(bytes)) if (isParameter(name)) out.set(name, new Float32Array(t.bytes.slice().buffer));
  return out;
}

function encode(params: Map<string, Float32Array>, template: Uint8Array): Uint8Array {
  // Rewrites the parameters inside a copy of a saved file: same header, new values.
  const out = template.slice();
  const headerLength = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + headerLength)));
  for (const [name, values] of params) {
    const [begin] = header[name].data_offsets;
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 8 + headerLength + begin);
  }
  return out;
}

function gradients(c: Case): Map<string, Float64Array> {
  const { x, y } = data(c);
  const m = model(c, 1);
  const before = parameters(m.saveWeights());
  m.trainStep(x, y);
  const after = parameters(m.saveWeights());
  m.dispose();
  return new Map([...before].map(([name, p]) => [name, Float64Array.from(p, (v, i) => v - after.get(name)![i])]));
}

function lossAt(c: Case, weights: Uint8Array): number {
  const { x, y } = data(c);
  const m = model(c, 0);
  m.loadWeights(weights);
  const loss = m.trainStep(x, y);
  m.dispose();
  return loss;
}

describe.each(CASES)('gradients of $name', (c) => {
  it('the js backend matches central differences of its loss', async () => {
    await init({ backend: 'js' });
    const grads = gradients(c);
    const m = model(c, 0);
    const saved = m.saveWeights();
    m.dispose();
    const base = parameters(saved);
    const eps = 1e-3;
    const tolerance = (numeric: number) => 1.5e-4 + 5e-3 * Math.abs(numeric);
    const central = (name: string, i: number, h: number) => {
      const shifted = (delta: number) => {
        const params = new Map(base);
        params.set(name, base.get(name)!.slice());
        params.get(name)![i] += delta;
        return lossAt(c, encode(params, saved));
      };
      return (shifted(h) - shifted(-h)) / (2 * h);
    };
    let checked = 0;
    let kinks = 0;
    for (const [name, p] of base) {
      // A few elements of every parameter tensor, spread over it.
      for (let i = 0; i < p.length; i += Math.max(1, Math.floor(p.length / 5))) {
        const numeric = central(name, i, eps);
        // A ReLU kink or a max-pool tie within eps makes the loss non-smooth there: halving eps
        // then changes the difference quotient. Such points say nothing about the gradient.
        if (Math.abs(central(name, i, eps / 2) - numeric) > tolerance(numeric)) {
          kinks++;
          continue;
        }
        const analytic = grads.get(name)![i];
        expect(Math.abs(numeric - analytic), `${name}[${i}]: numeric ${numeric}, analytic ${analytic}`)
          .toBeLessThanOrEqual(tolerance(numeric));
        checked++;
      }
    }
    expect(kinks).toBeLessThanOrEqual(checked / 5);
    expect(checked).toBeGreaterThan(10);
  });

  it.each(['scalar', 'simd', 'relaxed-simd'] as BackendName[])('the %s build matches the js backend', async (backend) => {
    await init({ backend: 'js' });
    const expected = gradients(c);
    await init({ backend });
    const actual = gradients(c);
    for (const [name, g] of expected) {
      const a = actual.get(name)!;
      const scale = Math.max(...Array.from(g, Math.abs));
      for (let i = 0; i < g.length; i++) {
        expect(Math.abs(a[i] - g[i]), `${name}[${i}]: ${a[i]} vs ${g[i]}`).toBeLessThanOrEqual(1e-5 + 1e-3 * scale);
      }
    }
  });
});
