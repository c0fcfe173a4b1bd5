// The MNIST digits file that demo/build.mjs writes, and the split into training and held-out sets.

export interface Digits {
  count: number;
  /** (count, 1, 28, 28), values in [0, 1]. */
  images: Float32Array;
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
  const images = new Float32Array(count * size);
  for (let i = 0; i < images.length; i++) images[i] = pixels[i] / 255;
  return { count, images, labels };
}

/** mulberry32: a small seeded generator, so that the split is the same on every load. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles with `seed` and splits off the last `testCount` digits as the held-out set. */
export function split(digits: Digits, testCount: number, seed: number): { train: Digits; test: Digits } {
  const order = Array.from({ length: digits.count }, (_, i) => i);
  const next = random(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (indices: number[]): Digits => {
    const images = new Float32Array(indices.length * 784);
    const labels = new Int32Array(indices.length);
    indices.forEach((from, to) => {
      images.set(digits.images.subarray(from * 784, (from + 1) * 784), to * 784);
      labels[to] = digits.labels[from];
    });
    return { count: indices.length, images, labels };
  };
  const cut = digits.count - testCount;
  return { train: take(order.slice(0, cut)), test: take(order.slice(cut)) };
}
