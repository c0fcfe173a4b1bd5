// linear: torch.nn.functional.linear for x [N, inFeatures], weight [outFeatures, inFeatures].
import { ShapeError } from '../errors.js';
import { checkTensor, shapeText } from '../shapes.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { checkBias, run } from './run.js';

/** y [N, outFeatures] = x · weightᵀ + bias. */
export function linear(x: TensorLike, weight: TensorLike, bias?: TensorLike | null): Tensor {
  const op = 'linear';
  checkTensor(x, `${op}: x`, 2);
  checkTensor(weight, `${op}: weight`, 2);
  const [N, inF] = x.shape;
  const [outF, wIn] = weight.shape;
  if (wIn !== inF) {
    throw new ShapeError(`${op}: x has ${inF} features but weight ${shapeText(weight.shape)} expects ${wIn} (dimension 1)`);
  }
  const b = checkBias(op, bias, outF, 'output feature');
  const [y] = run(op, [x.data, weight.data, b], [{ size: N * outF }],
    (k) => k.linear_scratch_bytes(N, inF, outF),
    (k, [y, x, w, b], scratch) => k.linear_forward(y, x, w, b, scratch, N, inF, outF)) as Float32Array[];
  // With no input features no kernel ran: the empty sum leaves the bias alone.
  if (inF === 0 && b) for (let n = 0; n < N; n++) y.set(b, n * outF);
  return new Tensor(y, [N, outF]);
}
