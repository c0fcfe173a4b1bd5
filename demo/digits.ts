// The MNIST digits file that demo/build.mjs writes. The split into training and held-out sets and
// the normalisation are the Node example's (examples/split.mjs).
import { normalise } from '../examples/split.mjs';

export { split, normalise } from '../examples/split.mjs';

export interface Digits {
  count: number;
  /** (count, 1, 28, 28), pixels in [0, 1] normalised (`normalise`). */
  x: Float32Array;
  labels: Int32Array;
}

export async function fetchDigits(url: string): Promise<Digits> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed with ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const header = new DataView(bytes.buffer, 0, 16);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  const count = header.getUint32(4, true);
  const size = header.getUint32(8, true) * header.getUint32(12, true);
  if (magic !== 'MNST' || size !== 784 || bytes.length !== 16 + count * (1 + size)) {
    throw new Error(`${url} is not a digits file of 28×28 images (magic ${magic}, ${bytes.length} bytes)`);
  }
  const labels = Int32Array.from(bytes.subarray(16, 16 + count));
  const pixels = bytes.subarray(16 + count);
  const x = new Float32Array(count * size);
  for (let i = 0; i < x.length; i++) x[i] = normalise(pixels[i] / 255);
  return { count, x, labels };
}
