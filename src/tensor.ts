/** Anything with float32 data and a shape: a Tensor, or a plain `{ data, shape }`. */
export interface TensorLike {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A JS-owned tensor: float32 data, row-major, with its shape. */
export class Tensor implements TensorLike {
  readonly data: Float32Array;
  readonly shape: number[];

  constructor(data: Float32Array, shape: readonly number[]) {
    this.data = data;
    this.shape = [...shape];
  }

  get size(): number {
    return this.data.length;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
