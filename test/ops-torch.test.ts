// The functional ops against PyTorch itself: values that torch.nn.functional and torch.nn.grad
// computed (test/fixtures/make_ops_fixture.py, PyTorch 1.13) for random small geometries — conv2d
// with its three gradients (padding as numbers, 'same' or 'valid') and convTranspose2d (stride,
// padding, dilation, groups, outputPadding), max pooling with indices (ties, NaN) and its
// gradient, average pooling both ways with either divisor rule — on every backend.
import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  init, conv2d, conv2dBackwardInput, conv2dBackwardFilter, conv2dBackwardBias, convTranspose2d,
  maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, ShapeError, type TensorLike,
} from '../src/index.js';
import { decodeSafetensors } from '../src/model/safetensors.js';
import { BACKENDS, expectClose, poisonHeap } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const cases: { op: 'conv' | 'pool'; opts: any; outputPadding?: number[]; transposeRefused?: boolean }[] =
  JSON.parse(fixture('torch_ops.json').toString());
const stored = decodeSafetensors(new Uint8Array(fixture('torch_ops.safetensors')));

function tensor(i: number, name: string): TensorLike {
  const t = stored.get(`${i}.${name}`);
  if (!t) throw new Error(`fixture has no ${i}.${name}`);
  return { data: new Float32Array(t.bytes.slice().buffer), shape: t.shape };
}

function indices(i: number): number[] {
  const t = stored.get(`${i}.idx`)!;
  return Array.from(new BigInt64Array(t.bytes.slice().buffer), Number);
}

/** float32 against PyTorch's float32: a few ulps of each of the few dozen terms summed. */
const tol = { atol: 1e-5, rtol: 1e-4 };
function same(actual: TensorLike, expected: TensorLike, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  expectClose(actual.data, expected.data, tol, what);
}

describe.each(BACKENDS)('ops against PyTorch, %s backend', (backend) => {
  beforeAll(() => init({ backend }));
  beforeEach(() => poisonHeap());

  cases.forEach((c, i) => {
    const geometry = JSON.stringify(c.opts);
    if (c.op === 'conv') {
      it(`#${i} conv2d and its gradients ${geometry}`, () => {
        const x = tensor(i, 'x'), w = tensor(i, 'w'), dy = tensor(i, 'dy');
        same(conv2d(x, w, tensor(i, 'b'), c.opts), tensor(i, 'y'), 'y');
        same(conv2dBackwardInput(dy, w, x.shape, c.opts), tensor(i, 'dx'), 'dx');
        same(conv2dBackwardFilter(x, dy, w.shape, c.opts), tensor(i, 'dw'), 'dw');
        same(conv2dBackwardBias(dy), tensor(i, 'db'), 'db');
      });
      // PyTorch's 'same' and 'valid' are conv2d's alone; its conv_transpose2d refuses them too.
      if (typeof c.opts.padding === 'string') {
        it(`#${i} convTranspose2d refuses padding ${c.opts.padding}`, () => {
          expect(() => convTranspose2d(tensor(i, 'x'), tensor(i, 'w'), null, c.opts)).toThrow(TypeError);
        });
        return;
      }
      it(`#${i} convTranspose2d ${geometry} outputPadding ${c.outputPadding}`, () => {
        const run = () => convTranspose2d(tensor(i, 'x'), tensor(i, 'wt'), tensor(i, 'bt'), { ...c.opts, outputPadding: c.outputPadding });
        if (c.transposeRefused) expect(run).toThrow(ShapeError);
        else same(run(), tensor(i, 'yt'), 'y');
      });
    } else {
      it(`#${i} maxPool2d, indices and backward ${geometry}`, () => {
        const x = tensor(i, 'x');
        const { output, indices: idx } = maxPool2d(x, c.opts);
        same(output, tensor(i, 'y'), 'y');
        expect(Array.from(idx)).toEqual(indices(i));
        same(maxPool2dBackward(tensor(i, 'dy'), idx, x.shape), tensor(i, 'dx'), 'dx');
      });
      it.each([true, false])(`#${i} avgPool2d and backward ${geometry} countIncludePad %s`, (countIncludePad) => {
        const x = tensor(i, 'xa');
        const { dilation: _, ...pool } = c.opts;
        const opts = { ...pool, countIncludePad };
        const name = countIncludePad ? 'incl' : 'excl';
        same(avgPool2d(x, opts), tensor(i, `ya_${name}`), 'y');
        same(avgPool2dBackward(tensor(i, `dya_${name}`), x.shape, opts), tensor(i, `dxa_${name}`), 'dx');
      });
    }
  });
});
