// The seeded shuffle and train/test split of the digits, and their normalisation, shared by the
// Node example (examples/mnist-data.mjs), the browser demo (demo/digits.ts) and the benchmarks'
// data. Plain JavaScript with no Node built-in, so that a browser bundle can take it too.

/** A pixel in [0, 1] as the models see it: normalised with MNIST's mean and standard deviation, as
 *  torchvision's MNIST examples do (training starts learning at once instead of after a plateau). */
export function normalise(v) {
  return (v - 0.1307) / 0.3081;
}

/** mulberry32: a small seeded generator returning floats in [0, 1), so a split repeats exactly. */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles `{ x, labels, count }` (x holds `count` samples of `x.length / count` values) with `seed`
 * and splits it into the first `trainCount` samples and the rest.
 */
export function split({ x, labels, count }, trainCount, seed) {
  const size = x.length / count;
  const order = Array.from({ length: count }, (_, i) => i);
  const next = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (indices) => {
    const xs = new Float32Array(indices.length * size);
    const ls = new Int32Array(indices.length);
    indices.forEach((from, to) => {
      xs.set(x.subarray(from * size, (from + 1) * size), to * size);
      ls[to] = labels[from];
    });
    return { x: xs, labels: ls, count: indices.length };
  };
  return { train: take(order.slice(0, trainCount)), test: take(order.slice(trainCount)) };
}
