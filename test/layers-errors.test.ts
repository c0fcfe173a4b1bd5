// Bad input for the layers, the optimizers and Sequential (API.md, "Bad input"): sizes give a
// ShapeError, wrong kinds a TypeError, null options mean no options, and a refused call changes
// nothing: a compiled model keeps its weights, its counters and its plan, and trains on as before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  init, Sequential, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Linear, ReLU, Flatten, BatchNorm2d, Dropout,
  SGD, Adam, AdamW, ShapeError,
} from '../src/index.js';
import { backend } from '../src/runtime/backend.js';
import { decodeSafetensors } from '../src/model/safetensors.js';
import { BACKENDS } from './helpers.js';

/** Deterministic samples of the given total length. */
const data = (length: number, seed = 1) => Float32Array.from({ length }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

/** Parameters, buffers and counters (num_batches_tracked) as saved. */
const state = (model: Sequential) => Array.from(model.saveWeights());

/** A small image classifier with every kind of planned state: weights, BatchNorm buffers and
 *  counters, max-pool indices, scratch. */
const classifier = () => new Sequential([
  new Conv2d(1, 2, 3, { padding: 1 }), new BatchNorm2d(2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8, 3),
]);
const compileClassifier = (model: Sequential, options: { batchSize?: number } = {}) =>
  model.compile({ inputShape: [1, 4, 4], batchSize: 4, optimizer: new SGD({ lr: 0.1, momentum: 0.9 }), seed: 1, ...options });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('layer constructors', () => {
  it('Conv2d and ConvTranspose2d require kernelSize', () => {
    expect(() => new Conv2d(3, 4, undefined as any)).toThrow(TypeError);
    expect(() => new Conv2d(3, 4, undefined as any)).toThrow('Conv2d: kernelSize is required; got undefined');
    expect(() => new ConvTranspose2d(3, 4, null as any)).toThrow(TypeError);
    expect(() => new ConvTranspose2d(3, 4, null as any)).toThrow('ConvTranspose2d: kernelSize is required; got null');
  });

  it('ConvTranspose2d checks stride, padding, dilation, outputPadding and groups at construction, as Conv2d does', () => {
    for (const Layer of [Conv2d, ConvTranspose2d]) {
      expect(() => new Layer(3, 4, 3, { stride: 0 })).toThrow(ShapeError);
      expect(() => new Layer(3, 4, 3, { stride: 0 })).toThrow(/stride must be positive; got 0/);
      expect(() => new Layer(3, 4, 3, { stride: 1.5 })).toThrow(TypeError);
      expect(() => new Layer(3, 4, 3, { stride: [1] as any })).toThrow(TypeError);
      expect(() => new Layer(3, 4, 3, { padding: -1 })).toThrow(/padding must be non-negative; got -1/);
      expect(() => new Layer(3, 4, 3, { padding: NaN })).toThrow(TypeError);
      expect(() => new Layer(3, 4, 3, { dilation: 0 })).toThrow(ShapeError);
      expect(() => new Layer(3, 4, 3, { groups: 0 })).toThrow(ShapeError);
      expect(() => new Layer(3, 4, 3, { groups: 0 })).toThrow(/groups must be positive; got 0/);
      expect(() => new Layer(3, 4, 3, { groups: -2 })).toThrow(ShapeError);
      expect(() => new Layer(3, 4, 3, { groups: 1.5 })).toThrow(TypeError);
      expect(() => new Layer(3, 4, 3, { groups: '1' as any })).toThrow(TypeError);
    }
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 })).toThrow(ShapeError);
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 }))
      .toThrow('ConvTranspose2d: outputPadding must be smaller than either stride or dilation; got outputPadding 2, stride 2, dilation 1');
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: [1, 2], outputPadding: [0, 2] })).toThrow(/outputPadding 2, stride 2/);
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: -1 })).toThrow(ShapeError);
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 1.5 })).toThrow(TypeError);
    // PyTorch's rule: smaller than stride OR dilation.
    expect(new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 1 }).groups).toBe(1);
    expect(() => new ConvTranspose2d(3, 4, 3, { dilation: 2, outputPadding: 1 })).not.toThrow();
  });

  it("Conv2d takes PyTorch's padding 'same' (stride 1, an even padding in all) and 'valid'; ConvTranspose2d neither", () => {
    expect(new Conv2d(3, 4, [3, 5], { padding: 'same' }).padding).toEqual([1, 2]);
    expect(new Conv2d(3, 4, [3, 2], { padding: 'same', dilation: [2, 2] }).padding).toEqual([2, 1]);
    expect(new Conv2d(3, 4, 4, { padding: 'valid', stride: 2 }).padding).toEqual([0, 0]);
    expect(() => new Conv2d(3, 4, 3, { padding: 'same', stride: 2 })).toThrow(ShapeError);
    expect(() => new Conv2d(3, 4, [3, 4], { padding: 'same' })).toThrow(/^Conv2d: padding 'same' for kernel \[3, 4\] with dilation \[1, 1\] needs \[2, 3\]/);
    expect(() => new Conv2d(3, 4, 3, { padding: 'full' as never })).toThrow(TypeError);
    expect(() => new ConvTranspose2d(3, 4, 3, { padding: 'same' as never })).toThrow(TypeError);
  });

  it('null options mean no options', () => {
    expect(new Conv2d(3, 4, 3, null).bias).toBe(true);
    expect(new ConvTranspose2d(3, 4, 3, null).groups).toBe(1);
    expect(new Linear(3, 4, null).bias).toBe(true);
    const bn = new BatchNorm2d(3, null);
    expect([bn.eps, bn.momentum, bn.affine]).toEqual([1e-5, 0.1, true]);
    expect(new MaxPool2d(2, null).options).toEqual({});
    expect(new AvgPool2d(2, null).options).toEqual({});
    expect(new SGD(null).lr).toBe(1e-3);
    expect(new Adam(null).beta2).toBe(0.999);
    expect(new AdamW(null).weightDecay).toBe(1e-2);
  });

  it('options that are not an object are a TypeError', () => {
    const five = 5 as never;
    expect(() => new Conv2d(3, 4, 3, five)).toThrow(TypeError);
    expect(() => new ConvTranspose2d(3, 4, 3, five)).toThrow(TypeError);
    expect(() => new Linear(3, 4, five)).toThrow(/Linear: options must be an object/);
    expect(() => new BatchNorm2d(3, five)).toThrow(/BatchNorm2d: options must be an object/);
    expect(() => new MaxPool2d(2, five)).toThrow(/MaxPool2d.*options must be an object/);
    expect(() => new AvgPool2d(2, five)).toThrow(/AvgPool2d.*options must be an object/);
    expect(() => new SGD(five)).toThrow(/SGD: options must be an object/);
    expect(() => new Adam(five)).toThrow(/Adam: options must be an object/);
  });

  it('an option a constructor does not take is a TypeError that names it and lists those it takes', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new Conv2d(3, 4, 3, { strides: 2 } as never), /^Conv2d: unknown option strides; the options are stride, padding, dilation, groups, bias$/],
      [() => new ConvTranspose2d(3, 4, 3, { output_padding: 1 } as never), /^ConvTranspose2d: unknown option output_padding; .*outputPadding, bias$/],
      [() => new Conv2d(3, 4, 3, { paddingMode: 'reflect' } as never), /^Conv2d: paddingMode "reflect" is not supported: padding is zeros$/],
      [() => new MaxPool2d(2, { ceilMode: true } as never), /^MaxPool2d\(kernel 2\): ceilMode true is not supported/],
      [() => new MaxPool2d(2, { kernelSize: 3 } as never), /unknown option kernelSize; the options are stride, padding, dilation$/],
      [() => new AvgPool2d(2, { dilation: 2 } as never), /^AvgPool2d\(kernel 2\): unknown option dilation; the options are stride, padding, countIncludePad$/],
      [() => new Linear(3, 4, { useBias: false } as never), /^Linear: unknown option useBias; the options are bias$/],
      [() => new BatchNorm2d(3, { trackRunningStats: false } as never), /^BatchNorm2d: unknown option trackRunningStats/],
      [() => new SGD({ learningRate: 0.1 } as never), /^SGD: unknown option learningRate; the options are lr, momentum, dampening, weightDecay, nesterov$/],
      [() => new Adam({ beta1: 0.8 } as never), /^Adam: unknown option beta1; the options are lr, betas, eps, weightDecay$/],
      [() => new AdamW({ amsgrad: true } as never), /^AdamW: amsgrad true is not supported/],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(message);
    }
    // PyTorch's options at the value that asks for nothing, and fields set to undefined, pass.
    expect(new Conv2d(3, 4, 3, { paddingMode: 'zeros', bias: undefined } as never).bias).toBe(true);
    expect(new ConvTranspose2d(3, 4, 3, { paddingMode: 'zeros', outputPadding: 0 } as never).groups).toBe(1);
    expect(new MaxPool2d(2, { ceilMode: false } as never).kernelSize).toBe(2);
    expect(new AvgPool2d(2, { ceilMode: false, divisorOverride: null } as never).kernelSize).toBe(2);
    expect(new Adam({ amsgrad: false, maximize: false } as never).lr).toBe(1e-3);
  });

  it('pooling checks its options alone at construction and the real input at compile', async () => {
    await init();
    expect(new MaxPool2d(2 ** 21).kernelSize).toBe(2 ** 21);
    expect(new AvgPool2d(2 ** 21).kernelSize).toBe(2 ** 21);
    expect(() => new MaxPool2d(3, { dilation: 2 ** 20 })).not.toThrow();
    for (const make of [() => new MaxPool2d(2, { padding: 2 }), () => new AvgPool2d(2, { stride: 0 }), () => new MaxPool2d(2, { dilation: 0 })]) {
      expect(make).toThrow(ShapeError);
      expect(make).not.toThrow(/1048576|input/);
    }
    expect(() => new MaxPool2d(2, { stride: NaN })).toThrow(TypeError);
    const model = new Sequential([new MaxPool2d(3, { dilation: 2 ** 20 }), new Flatten()]);
    expect(() => model.compile({ inputShape: [1, 4, 4], batchSize: 1, loss: 'mse' }))
      .toThrow(/MaxPool2d\(kernel 3\): kernelSize \[3, 3\] on input \[1, 1, 4, 4\]: kernel height 3 \(dilated to 2097153\) is larger than the padded input height 4/);
  });

  it('bias, affine, eps and momentum are type-checked', () => {
    for (const bias of ['no', 0, 1]) {
      expect(() => new Conv2d(3, 4, 3, { bias: bias as any })).toThrow(`Conv2d: bias must be a boolean; got ${JSON.stringify(bias)}`);
      expect(() => new ConvTranspose2d(3, 4, 3, { bias: bias as any })).toThrow(TypeError);
      expect(() => new Linear(3, 4, { bias: bias as any })).toThrow(`Linear: bias must be a boolean; got ${JSON.stringify(bias)}`);
    }
    expect(new Linear(3, 4, { bias: false }).bias).toBe(false);
    expect(new Conv2d(3, 4, 3, { bias: null as any }).bias).toBe(true);
    expect(() => new BatchNorm2d(3, { eps: '1e-5' as any })).toThrow('BatchNorm2d: eps must be a number; got "1e-5"');
    expect(() => new BatchNorm2d(3, { momentum: '0.1' as any })).toThrow(TypeError);
    expect(() => new BatchNorm2d(3, { affine: 'yes' as any })).toThrow('BatchNorm2d: affine must be a boolean; got "yes"');
    for (const eps of [0, -1, NaN, Infinity]) expect(() => new BatchNorm2d(3, { eps })).toThrow(RangeError);
    for (const momentum of [-0.1, 2, NaN]) expect(() => new BatchNorm2d(3, { momentum })).toThrow(/momentum must be between 0 and 1/);
    expect(new BatchNorm2d(3, { momentum: null }).momentum).toBe(null);
    expect(new BatchNorm2d(3, { momentum: undefined }).momentum).toBe(0.1);
  });

  it('Dropout and the optimizers give a TypeError for a wrong kind and a RangeError for a bad value', () => {
    expect(() => new Dropout('0.5' as any)).toThrow(TypeError);
    expect(() => new Dropout('0.5' as any)).toThrow('Dropout: probability p must be a number; got "0.5"');
    for (const p of [1.5, -0.1, NaN]) expect(() => new Dropout(p)).toThrow(RangeError);
    expect(() => new SGD({ lr: '0.1' as any })).toThrow(TypeError);
    expect(() => new SGD({ lr: '0.1' as any })).toThrow('SGD: lr must be a number; got "0.1"');
    expect(() => new SGD({ lr: -1 })).toThrow(RangeError);
    expect(() => new SGD({ momentum: '0.9' as any })).toThrow(TypeError);
    expect(() => new SGD({ nesterov: 'yes' as any, momentum: 0.9 })).toThrow('SGD: nesterov must be a boolean; got "yes"');
    for (const Opt of [Adam, AdamW]) {
      const name = Opt.name;
      expect(() => new Opt({ betas: 0.9 as any })).toThrow(TypeError);
      expect(() => new Opt({ betas: 0.9 as any })).toThrow(`${name}: betas must be a [beta1, beta2] pair; got 0.9`);
      expect(() => new Opt({ betas: [0.9] as any })).toThrow(`${name}: betas must be a [beta1, beta2] pair; got [0.9]`);
      expect(() => new Opt({ betas: [0.9, '0.999'] as any })).toThrow(TypeError);
      expect(() => new Opt({ betas: [1, 0.9] })).toThrow(`${name}: betas[0] must be in [0, 1); got 1`);
      expect(() => new Opt({ eps: -1 })).toThrow(RangeError);
    }
  });
});

describe.each(BACKENDS)('Sequential on %s', (name) => {
  it('a training step that a later BatchNorm2d refuses changes nothing, in trainStep and in fit', async () => {
    await init({ backend: name });
    const model = new Sequential([new BatchNorm2d(1), new AvgPool2d(2), new BatchNorm2d(1), new Flatten(), new Linear(1, 2)])
      .compile({ inputShape: [1, 2, 2], batchSize: 4, optimizer: new SGD({ lr: 0.1 }), seed: 3 });
    const before = state(model);
    // One sample: the second BatchNorm2d sees one value per channel, which PyTorch refuses too.
    expect(() => model.trainStep(data(4), Int32Array.of(1))).toThrow(ShapeError);
    expect(() => model.trainStep(data(4), Int32Array.of(1)))
      .toThrow('BatchNorm2d(1): training needs more than one value per channel; got input [1, 1, 1, 1]');
    expect(state(model)).toEqual(before);
    // Five samples in batches of 4: the last batch has one sample, so fit refuses before the first.
    await expect(model.fit({ x: data(20), labels: Int32Array.of(0, 1, 0, 1, 0) }, { epochs: 1 })).rejects.toThrow(/BatchNorm2d\(1\)/);
    expect(state(model)).toEqual(before);
    // In eval mode the running statistics are used: one sample is fine.
    model.eval();
    expect(Number.isFinite(model.trainStep(data(4), Int32Array.of(1)))).toBe(true);
    model.train();
    expect(Number.isFinite(model.trainStep(data(8), Int32Array.of(0, 1)))).toBe(true);
    model.dispose();
  });

  it('a compile that cannot fit in memory is refused with the bytes it needs, and the old compile stays', async () => {
    await init({ backend: name });
    const { heap } = backend();
    const model = compileClassifier(classifier());
    const twin = compileClassifier(classifier());
    const x = data(4 * 16);
    const labels = Int32Array.of(0, 1, 2, 1);
    model.trainStep(x, labels);
    twin.trainStep(x, labels);
    const before = state(model);
    const output = Array.from(model.predict(x).data);
    const allocated = heap.allocatedBytes;
    for (const batchSize of [1e9, 2 ** 31]) {
      expect(() => compileClassifier(model, { batchSize })).toThrow(ShapeError);
      expect(() => compileClassifier(model, { batchSize }))
        .toThrow(new RegExp(`^Sequential\\.compile: batchSize ${batchSize} with inputShape \\[1, 4, 4\\] needs \\d+ bytes \\(\\d+\\.\\d\\d GiB\\), more than the \\d+ bytes .* left of WebAssembly's 4 GiB memory$`));
    }
    expect(heap.allocatedBytes).toBe(allocated);
    expect(state(model)).toEqual(before);
    expect(Array.from(model.predict(x).data)).toEqual(output);
    // Every layer kept its plan (slots, kernel arguments, counters): it trains exactly as its twin.
    expect(model.trainStep(x, labels)).toBe(twin.trainStep(x, labels));
    expect(state(model)).toEqual(state(twin));

    const fresh = new Sequential([new ReLU()]);
    expect(() => fresh.compile({ inputShape: [1, 30000, 30000], batchSize: 4, loss: 'mse' })).toThrow(/needs \d+ bytes/);
    expect(() => fresh.predict(data(4))).toThrow(/call compile/);
    expect(heap.allocatedBytes).toBe(allocated);
    for (const m of [model, twin]) m.dispose();
  });

  it('a compile whose memory the engine refuses to grow gives a clear error', async () => {
    await init({ backend: name });
    const { heap } = backend();
    const allocated = heap.allocatedBytes;
    vi.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    const model = new Sequential([new ReLU()]);
    const features = heap.memory.buffer.byteLength / 4;
    expect(() => model.compile({ inputShape: [features], batchSize: 2, loss: 'mse' }))
      .toThrow(new RegExp(`^Sequential\\.compile: could not allocate the \\d+ bytes .* that batchSize 2 with inputShape \\[${features}\\] needs .*Maximum memory size exceeded.*the model is not compiled$`));
    vi.restoreAllMocks();
    expect(heap.allocatedBytes).toBe(allocated);
    expect(() => model.predict(data(features))).toThrow(/call compile/);
  });

  it('compile and fit refuse options they do not take, and a refused call changes nothing', async () => {
    await init({ backend: name });
    const model = compileClassifier(classifier());
    const before = state(model);
    expect(() => model.compile({ inputShape: [1, 4, 4], batchSize: 4, metrics: ['accuracy'] } as never))
      .toThrow(/^Sequential.compile: unknown option metrics; the options are inputShape, batchSize, loss, optimizer, seed$/);
    const fitData = { x: data(64), labels: Int32Array.of(0, 1, 2, 1) };
    await expect(model.fit(fitData, { epochs: 1, batchSize: 2 } as never)).rejects.toThrow(/^Sequential.fit: batchSize is not an option of fit; compile/);
    await expect(model.fit(fitData, { epoch: 2 } as never)).rejects.toThrow(TypeError);
    await expect(model.fit(fitData, { epoch: 2 } as never)).rejects.toThrow(/^Sequential.fit: unknown option epoch; the options are epochs,/);
    await expect(model.fit(fitData, 5 as never)).rejects.toThrow(/^Sequential.fit: options must be an object/);
    expect(state(model)).toEqual(before);
    expect((await model.fit(fitData, { epochs: 1, seed: undefined })).epochs).toHaveLength(1);
    model.dispose();
  });

  it('seeds must be integers', async () => {
    await init({ backend: name });
    for (const seed of ['abc', NaN, 1.5, Infinity]) {
      expect(() => compileClassifier(classifier(), { seed } as any)).toThrow(TypeError);
      expect(() => compileClassifier(classifier(), { seed } as any)).toThrow(/^Sequential\.compile: seed must be an integer; got /);
    }
    const a = compileClassifier(classifier(), { seed: -1 } as any);
    const b = compileClassifier(classifier(), { seed: 2 ** 32 - 1 } as any);
    expect(state(a)).toEqual(state(b));
    await expect(a.fit({ x: data(64), labels: Int32Array.of(0, 1, 2, 1) }, { seed: 'abc' as any })).rejects.toThrow(TypeError);
    await expect(a.fit({ x: data(64), labels: Int32Array.of(0, 1, 2, 1) }, { seed: 0.5 })).rejects.toThrow(/fit: seed must be an integer; got 0.5/);
    expect(state(a)).toEqual(state(b));
    const result = await a.fit({ x: data(64), labels: Int32Array.of(0, 1, 2, 1) }, null);
    expect(result.epochs.length).toBe(1);
    for (const m of [a, b]) m.dispose();
  });

  it('BatchNorm2d with momentum null keeps a cumulative moving average, as PyTorch does', async () => {
    await init({ backend: name });
    const model = new Sequential([new BatchNorm2d(1, { momentum: null, affine: false }), new Flatten(), new Linear(4, 2)])
      .compile({ inputShape: [1, 2, 2], batchSize: 1, optimizer: new SGD({ lr: 0.1 }), seed: 1 });
    // Batch means 2.5, 1, 5 and unbiased variances 5/3, 4/3, 0: the running statistics are their
    // plain averages after each batch.
    const batches = [[1, 2, 3, 4], [0, 0, 2, 2], [5, 5, 5, 5]];
    const expected = [[2.5, 5 / 3], [1.75, 1.5], [8.5 / 3, 1]];
    batches.forEach((x, i) => {
      model.trainStep(Float32Array.from(x), Int32Array.of(0));
      const file = decodeSafetensors(model.saveWeights());
      const f32 = (key: string) => new Float32Array(file.get(key)!.bytes.slice().buffer)[0];
      expect(f32('0.running_mean')).toBeCloseTo(expected[i][0], 6);
      expect(f32('0.running_var')).toBeCloseTo(expected[i][1], 6);
      expect(new BigInt64Array(file.get('0.num_batches_tracked')!.bytes.slice().buffer)[0]).toBe(BigInt(i + 1));
    });
    model.dispose();
  });

  it('loadWeights names the tensor of a malformed header and changes nothing', async () => {
    await init({ backend: name });
    const model = compileClassifier(classifier());
    const before = state(model);
    const craft = (header: unknown, extra = 0) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const bytes = new Uint8Array(8 + json.length + extra);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
      bytes.set(json, 8);
      return bytes;
    };
    const cases: [unknown, string][] = [
      [null, 'loadWeights: not a safetensors file: the header is null, not an object'],
      [[1, 2], 'loadWeights: not a safetensors file: the header is [1, 2], not an object'],
      [{ '0.weight': null }, 'loadWeights: not a safetensors file: tensor 0.weight is null, not { dtype, shape, data_offsets }'],
      [{ '0.weight': { dtype: 'F32', data_offsets: [0, 72] } }, 'loadWeights: not a safetensors file: tensor 0.weight has shape undefined'],
      [{ '0.weight': { dtype: 'F32', shape: [2, 1, 3, -3], data_offsets: [0, 72] } }, 'tensor 0.weight has shape [2, 1, 3, -3]'],
      [{ '0.weight': { shape: [2, 1, 3, 3], data_offsets: [0, 72] } }, 'tensor 0.weight has dtype undefined'],
      [{ '0.weight': { dtype: 'F32', shape: [2, 1, 3, 3] } }, 'tensor 0.weight has data_offsets undefined outside the data'],
      [{ '0.weight': { dtype: 'F32', shape: [2, 1, 3, 3], data_offsets: 72 } }, 'tensor 0.weight has data_offsets 72 outside the data'],
    ];
    for (const [header, message] of cases) {
      const file = craft(header, 72);
      expect(() => model.loadWeights(file)).toThrow(message);
      expect(() => model.loadWeights(file)).not.toThrow(TypeError);
    }
    expect(state(model)).toEqual(before);
    model.dispose();
  });

  it('mse targets must have the shape [samples, ...outputs]', async () => {
    await init({ backend: name });
    const mse = new Sequential([new Flatten(), new Linear(16, 3)])
      .compile({ inputShape: [1, 4, 4], batchSize: 4, loss: 'mse', optimizer: new SGD({ lr: 0.1 }), seed: 1 });
    const before = state(mse);
    const x = data(4 * 16);
    for (const shape of [[3, 4], [12], [4, 3, 1], [2, 6]]) {
      expect(() => mse.trainStep(x, { data: new Float32Array(12), shape })).toThrow(ShapeError);
      expect(() => mse.trainStep(x, { data: new Float32Array(12), shape }))
        .toThrow(`Sequential.trainStep: targets have shape [${shape.join(', ')}], expected [4, 3]`);
      expect(() => mse.evaluate(x, { data: new Float32Array(12), shape })).toThrow(/evaluate: targets have shape/);
    }
    expect(state(mse)).toEqual(before);
    expect(Number.isFinite(mse.trainStep(x, { data: new Float32Array(12), shape: [4, 3] }))).toBe(true);
    expect(Number.isFinite(mse.trainStep(x, new Float32Array(12)))).toBe(true);
    mse.dispose();
  });
});
