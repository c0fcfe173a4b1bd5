// Sequential: training reduces the loss, a step allocates nothing, dispose gives the memory back,
// fit reports and stops on abort, weights round-trip, and bad input gets named errors.
import { describe, expect, it } from 'vitest';
import {
  init, Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, BatchNorm2d, Dropout, SGD, Adam, AdamW, ShapeError,
  type Optimizer, type BatchReport,
} from '../src/index.js';
import { backend } from '../src/runtime/backend.js';
import { Random } from '../src/model/random.js';

/** Two classes of 1×8×8 images: a bright top half or a bright bottom half, plus noise. */
function halves(n: number, seed: number) {
  const rng = new Random(seed);
  const x = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    labels[s] = s % 2;
    for (let p = 0; p < 64; p++) {
      const top = p < 32;
      x[s * 64 + p] = (top === (labels[s] === 0) ? 1 : 0) + rng.uniform(-0.5, 0.5);
    }
  }
  return { x, labels };
}

const small = () => new Sequential([
  new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
  new Flatten(), new Dropout(0.2), new Linear(64, 2),
]);

describe('training', () => {
  it.each([
    ['SGD with momentum', () => new SGD({ lr: 0.05, momentum: 0.9 })],
    ['Adam', () => new Adam({ lr: 1e-2 })],
    ['AdamW', () => new AdamW({ lr: 1e-2 })],
  ] as [string, () => Optimizer][])('loss falls on a synthetic task with %s', async (_, optimizer) => {
    await init();
    const { x, labels } = halves(32, 1);
    const model = small().compile({ inputShape: [1, 8, 8], batchSize: 32, optimizer: optimizer(), seed: 3 });
    const first = model.trainStep(x, labels);
    let last = first;
    for (let i = 0; i < 40; i++) last = model.trainStep(x, labels);
    expect(last).toBeLessThan(first / 4);
    const test = halves(64, 2);
    expect(model.eval().evaluate(test.x, test.labels).accuracy).toBeGreaterThan(0.95);
    model.dispose();
  });

  it('the same seed repeats a run exactly; another seed does not', async () => {
    await init();
    const { x, labels } = halves(16, 1);
    const run = (seed: number) => {
      const model = small().compile({ inputShape: [1, 8, 8], batchSize: 16, optimizer: new SGD({ lr: 0.1 }), seed });
      const losses = [0, 1, 2].map(() => model.trainStep(x, labels));
      model.dispose();
      return losses;
    };
    expect(run(4)).toEqual(run(4));
    expect(run(4)).not.toEqual(run(5));
  });
});

describe('memory', () => {
  it('100 training steps move neither the memory size nor the heap high-water mark; dispose returns it', async () => {
    await init();
    const { heap } = backend();
    const before = heap.allocatedBytes;
    const model = new Sequential([
      new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
    ]).compile({ inputShape: [1, 28, 28], batchSize: 16, optimizer: new Adam(), seed: 1 });
    const x = Float32Array.from({ length: 16 * 784 }, (_, i) => Math.sin(i));
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    model.trainStep(x, labels);
    const bytes = heap.memory.buffer.byteLength;
    const highWater = heap.highWater;
    const allocated = heap.allocatedBytes;
    for (let i = 0; i < 100; i++) model.trainStep(x, labels);
    model.trainStep(x.subarray(0, 7 * 784), labels.subarray(0, 7));
    expect(heap.memory.buffer.byteLength).toBe(bytes);
    expect(heap.highWater).toBe(highWater);
    expect(heap.allocatedBytes).toBe(allocated);
    const report = model.memory();
    expect(report.parameters).toBeGreaterThanOrEqual(44426 * 4);
    expect(report.gradients).toBe(report.parameters);
    expect(report.optimizer).toBe(2 * report.parameters);
    expect(report.total).toBe(allocated - before);
    model.dispose();
    expect(heap.allocatedBytes).toBe(before);
  });

  it('[Symbol.dispose] disposes, and a disposed model refuses every use', async () => {
    await init();
    const { heap } = backend();
    const before = heap.allocatedBytes;
    const model = small().compile({ inputShape: [1, 8, 8], batchSize: 4, optimizer: new SGD() });
    (model as any)[(Symbol as any).dispose ?? Symbol.for('Symbol.dispose')]();
    expect(heap.allocatedBytes).toBe(before);
    const { x, labels } = halves(4, 1);
    expect(() => model.trainStep(x, labels)).toThrow(/disposed/);
    expect(() => model.predict(x)).toThrow(/disposed/);
    expect(() => model.saveWeights()).toThrow(/disposed/);
  });
});

describe('fit', () => {
  it('reports every batch and epoch, and the test accuracy rises', async () => {
    await init();
    const { x, labels } = halves(100, 1);
    const model = small().compile({ inputShape: [1, 8, 8], batchSize: 16, optimizer: new Adam({ lr: 1e-2 }), seed: 2 });
    const batches: BatchReport[] = [];
    const result = await model.fit({ x, labels }, {
      epochs: 3, seed: 1, onBatchEnd: (r) => batches.push(r), validationData: halves(40, 9),
    });
    expect(batches.length).toBe(3 * 7);
    expect(batches[6]).toMatchObject({ epoch: 0, step: 6, steps: 7 });
    expect(batches.every((b) => b.imagesPerSecond > 0 && Number.isFinite(b.loss) && b.accuracy >= 0 && b.accuracy <= 1)).toBe(true);
    expect(result.aborted).toBe(false);
    expect(result.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(result.epochs[2].loss).toBeLessThan(result.epochs[0].loss);
    expect(result.epochs[2].validation!.accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('yields to the event loop between batches and stops on abort', async () => {
    await init();
    const { x, labels } = halves(64, 1);
    const model = small().compile({ inputShape: [1, 8, 8], batchSize: 8, optimizer: new SGD({ lr: 0.01 }) });
    const controller = new AbortController();
    // A timer set before fit can only fire if fit lets the event loop run between batches. Node's
    // setTimeout(0) waits at least 1 ms, which a few small steps can outrun, so abort only once the
    // timer has fired (and not before epoch 1, step 2): a fit that never yields would run all
    // 100 epochs and fail the count below.
    let timerFired = false;
    setTimeout(() => (timerFired = true), 0);
    let steps = 0;
    let abortedAt = { epoch: -1, step: -1 };
    const result = await model.fit({ x, labels }, {
      epochs: 100,
      signal: controller.signal,
      onBatchEnd: (r) => {
        steps++;
        if (timerFired && !controller.signal.aborted && (r.epoch > 1 || (r.epoch === 1 && r.step >= 2))) {
          abortedAt = { epoch: r.epoch, step: r.step };
          controller.abort();
        }
      },
    });
    expect(result.aborted).toBe(true);
    expect(abortedAt.epoch).toBeGreaterThanOrEqual(1);
    expect(steps).toBe(8 * abortedAt.epoch + abortedAt.step + 1);
    expect(steps).toBeLessThan(8 * 100);
    // An abort after an epoch's last batch stops fit before the next epoch's first: that epoch is whole
    // and reported.
    expect(result.epochs.length).toBe(abortedAt.epoch + (abortedAt.step === 7 ? 1 : 0));
    const before = steps;
    const none = await model.fit({ x, labels }, { epochs: 5, signal: AbortSignal.abort(), onBatchEnd: () => steps++ });
    expect(none.aborted).toBe(true);
    expect(steps).toBe(before);
    model.dispose();
  });
});

describe('predict, evaluate and weights', () => {
  it('predict takes any batch size, in chunks, with the same outputs as one sample at a time', async () => {
    await init();
    const model = small().compile({ inputShape: [1, 8, 8], batchSize: 4, optimizer: new SGD({ lr: 0.1 }), seed: 1 });
    const { x, labels } = halves(8, 1);
    for (let i = 0; i < 3; i++) model.trainStep(x.subarray(0, 4 * 64), labels.subarray(0, 4));
    const all = model.predict({ data: x.subarray(0, 7 * 64), shape: [7, 1, 8, 8] });
    expect(all.shape).toEqual([7, 2]);
    for (let s = 0; s < 7; s++) {
      const one = model.predict(x.subarray(s * 64, (s + 1) * 64));
      expect(one.data[0]).toBeCloseTo(all.data[2 * s], 5);
      expect(one.data[1]).toBeCloseTo(all.data[2 * s + 1], 5);
    }
    model.dispose();
  });

  it('save → load → predict is identical, and a file for another architecture is refused before any write', async () => {
    await init();
    const { x, labels } = halves(16, 1);
    const a = small().compile({ inputShape: [1, 8, 8], batchSize: 16, optimizer: new SGD({ lr: 0.1 }), seed: 1 });
    for (let i = 0; i < 5; i++) a.trainStep(x, labels);
    const b = small().compile({ inputShape: [1, 8, 8], batchSize: 5, seed: 2 });
    const saved = a.saveWeights();
    b.loadWeights(saved);
    expect(Array.from(b.predict(x).data)).toEqual(Array.from(a.predict(x).data));
    expect(b.saveWeights()).toEqual(saved);
    const wider = new Sequential([new Conv2d(1, 5, 3, { padding: 1 }), new BatchNorm2d(5), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Dropout(0.2), new Linear(80, 2)]).compile({ inputShape: [1, 8, 8], batchSize: 2 });
    const widerWeights = wider.saveWeights();
    expect(() => b.loadWeights(widerWeights)).toThrow(ShapeError);
    expect(() => b.loadWeights(widerWeights)).toThrow(/0\.weight has shape \[5, 1, 3, 3\] in the file, expected \[4, 1, 3, 3\]/);
    expect(b.saveWeights()).toEqual(saved);
    expect(() => b.loadWeights(new Uint8Array([1, 2, 3]))).toThrow(/safetensors/);
    for (const m of [a, b, wider]) m.dispose();
  });

  it('mse trains on float targets, and on class indices as one-hot targets', async () => {
    await init();
    const { x, labels } = halves(16, 1);
    const model = new Sequential([new Flatten(), new Linear(64, 2)])
      .compile({ inputShape: [1, 8, 8], batchSize: 16, loss: 'mse', optimizer: new SGD({ lr: 0.05 }), seed: 1 });
    const oneHot = Float32Array.from({ length: 32 }, (_, i) => (i % 2 === labels[i >> 1] ? 1 : 0));
    const first = model.trainStep(x, oneHot);
    for (let i = 0; i < 30; i++) model.trainStep(x, labels);
    expect(model.trainStep(x, oneHot)).toBeLessThan(first / 2);
    expect(model.evaluate(x, labels).accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });
});

describe('errors', () => {
  it('a layer whose input does not fit names the layer and both shapes', async () => {
    await init();
    const model = new Sequential([new Conv2d(3, 8, 3), new ReLU()]);
    expect(() => model.compile({ inputShape: [4, 28, 28], batchSize: 2 })).toThrow(ShapeError);
    expect(() => model.compile({ inputShape: [3, 28, 28], batchSize: NaN })).toThrow('batchSize must be a positive integer; got NaN');
    expect(() => new Conv2d(3, Infinity, 3)).toThrow(/got Infinity$/);
    expect(() => model.compile({ inputShape: [4, 28, 28], batchSize: 2 }))
      .toThrow('Conv2d(3→8, kernel 3): input has 4 channels, expected 3 (input shape [4, 28, 28])');
    const lenet = new Sequential([new Conv2d(1, 6, 5), new MaxPool2d(2), new Flatten(), new Linear(100, 10)]);
    expect(() => lenet.compile({ inputShape: [1, 28, 28], batchSize: 2 }))
      .toThrow('Linear(100→10): input has 864 features, expected 100 (input shape [864])');
    const tiny = new Sequential([new Conv2d(1, 2, 5)]);
    expect(() => tiny.compile({ inputShape: [1, 3, 3], batchSize: 1, loss: 'mse' })).toThrow(/Conv2d\(1→2, kernel 5\).*larger than the padded input/);
    expect(() => new Sequential([new Conv2d(1, 2, 3), new Flatten()]).compile({ inputShape: [1, 5, 5], batchSize: 1, loss: 'crossEntropy' }))
      .not.toThrow();
    expect(() => new Sequential([new Conv2d(1, 2, 3)]).compile({ inputShape: [1, 5, 5], batchSize: 1 }))
      .toThrow(/crossEntropy needs the last layer to give \[classes\]; it gives \[2, 3, 3\]/);
  });

  it('trainStep before compile, wrong input shapes, and bad labels', async () => {
    await init();
    const model = small();
    const { x, labels } = halves(4, 1);
    expect(() => model.trainStep(x, labels)).toThrow(/call compile/);
    model.compile({ inputShape: [1, 8, 8], batchSize: 4, optimizer: new SGD() });
    expect(() => model.trainStep(x.subarray(1), labels)).toThrow(ShapeError);
    expect(() => model.trainStep({ data: x, shape: [4, 1, 4, 16] }, labels)).toThrow('Sequential.trainStep: x has shape [4, 1, 4, 16], expected [n, 1, 8, 8]');
    expect(() => model.trainStep(x, labels.subarray(1))).toThrow('labels has 3 elements, expected one per sample: 4');
    expect(() => model.trainStep(x, Int32Array.of(0, 1, 2, 1))).toThrow(/labels\[2\] is 2, out of range for 2 classes/);
    expect(() => model.trainStep(x, Int32Array.of(0, -1, 1, 1))).toThrow(RangeError);
    expect(() => model.trainStep(x, new Float32Array(4) as any)).toThrow(TypeError);
    const big = halves(5, 1);
    expect(() => model.trainStep(big.x, big.labels)).toThrow(/more than the compiled batchSize 4/);
    expect(() => model.compile({ inputShape: [1, 8, 8], batchSize: 0 })).toThrow(TypeError);
    expect(() => new Conv2d(3, 8, 3, { groups: 2 })).toThrow(/not divisible by groups/);
    // Refused at the Linear, after Conv2d, MaxPool2d and Dropout would have taken the new shapes.
    expect(() => model.compile({ inputShape: [1, 10, 10], batchSize: 4, optimizer: new SGD() })).toThrow(/input has 100 features/);
    // The model is still usable after every refusal.
    expect(Number.isFinite(model.trainStep(x, labels))).toBe(true);
    model.dispose();
  });
});
