// npm run bench:pool [-- --rounds N]
//
// Pooling beyond issue 3's two workloads: the geometries a user's network is likely to have (ResNet's
// 3×3 stride-2 pool, AlexNet's unpadded one, 3×3 and 5×5 stride-1 pools, 2×2 pools on rows that are
// not a multiple of 8 wide), forward and backward, timed through the public API (simd and
// relaxed-simd) beside TensorFlow.js's wasm backend (one thread; kernels MaxPoolGrad and AvgPoolGrad
// for the backwards) in this one process. No target of issue 3 covers them; this is what they cost.
// Each of `rounds` rounds gives every contender one turn of about 0.1 s of calls, in turn; the
// figure is the median call over all turns. Our answers are checked against the reference kernels
// first; TensorFlow.js's are not (its average pooling leaves padding out of its divisor, and its
// max pooling gradient is wrong where a window's maximum is negative: see bench/RESULTS.md; the
// work is the same).
import { parseArgs } from 'node:util';
import { prepareOurs, prepareTf, loadTf } from './contenders.mjs';
import { poolInputs } from './workloads.mjs';
import { compareToReference } from './check.mjs';
import { median } from './timing.mjs';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const rounds = Number(args.rounds);

/** Pool workloads as in workloads.mjs (square windows, stride, padding). */
const GEOMETRIES = [
  { id: 'max 3×3 s2 p1, 16×64×56²', kind: 'max', N: 16, C: 64, H: 56, W: 56, k: 3, stride: 2, pad: 1 },
  { id: 'max 3×3 s2 p1, 8×64×112²', kind: 'max', N: 8, C: 64, H: 112, W: 112, k: 3, stride: 2, pad: 1 },
  { id: 'max 3×3 s2, 8×96×55²', kind: 'max', N: 8, C: 96, H: 55, W: 55, k: 3, stride: 2, pad: 0 },
  { id: 'max 3×3 s1 p1, 16×64×56²', kind: 'max', N: 16, C: 64, H: 56, W: 56, k: 3, stride: 1, pad: 1 },
  { id: 'max 5×5 s1 p2, 8×64×28²', kind: 'max', N: 8, C: 64, H: 28, W: 28, k: 5, stride: 1, pad: 2 },
  { id: 'max 2×2 s2, 64×32×28²', kind: 'max', N: 64, C: 32, H: 28, W: 28, k: 2, stride: 2, pad: 0 },
  { id: 'avg 2×2 s2, 8×64×28²', kind: 'avg', N: 8, C: 64, H: 28, W: 28, k: 2, stride: 2, pad: 0 },
  { id: 'avg 3×3 s1 p1, 16×64×56²', kind: 'avg', N: 16, C: 64, H: 56, W: 56, k: 3, stride: 1, pad: 1 },
];
const OURS = ['relaxed-simd', 'simd'];

const api = await import('../dist/index.js');
const { tf } = await loadTf();
await tf.setBackend('wasm');
const log = (line) => process.stderr.write(`${line}\n`);

/** Per-call times (ms) of one turn: calls for at least `ms` milliseconds. */
function turn(fn, ms = 100) {
  const times = [];
  const start = performance.now();
  while (performance.now() - start < ms || times.length < 3) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times;
}

const rows = [];
for (const g of GEOMETRIES.flatMap((geometry) => [false, true].map((backward) => ({ ...geometry, backward })))) {
  const op = `${g.kind === 'max' ? 'maxPool2d' : 'avgPool2d'}${g.backward ? 'Backward' : ''}`;
  const inputs = poolInputs(g);
  const contenders = [];
  await api.init({ backend: 'js' });
  const reference = prepareOurs(api, op, g, inputs);
  const expected = reference.result(reference.run());
  for (const backend of OURS) {
    await api.init({ backend });
    const p = prepareOurs(api, op, g, inputs);
    const check = compareToReference(p.result(p.run()), expected);
    if (check.verdict !== 'ok') throw new Error(`${g.id} ${backend}: ${check.detail}`);
    contenders.push({ name: backend, run: p.run, enter: () => api.init({ backend }), times: [] });
  }
  const t = prepareTf(tf, op, g, inputs);
  contenders.splice(1, 0, { name: 'tfjs-wasm', run: t.run, enter: () => tf.setBackend('wasm'), times: [] });
  for (const c of contenders) {
    await c.enter();
    turn(c.run, 200); // warm-up: V8 tiers the code up in the background
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...contenders].reverse() : contenders) {
      await c.enter();
      c.times.push(...turn(c.run));
    }
  }
  t.dispose();
  const ms = Object.fromEntries(contenders.map((c) => [c.name, median(c.times)]));
  rows.push({ id: g.id, backward: g.backward, ms });
  log(`${g.id} ${op}: ${contenders.map((c) => `${c.name} ${ms[c.name].toFixed(3)} ms`).join(', ')}`);
}

const fmt = (v) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const ratio = (r) => (r >= 10 ? r.toFixed(1) : r.toFixed(2));
for (const backward of [false, true]) {
  console.log(`\n| ${backward ? 'backward' : 'forward'}, ms (ratio to TF.js wasm) | simd | relaxed-simd | TF.js wasm |`);
  console.log('|---|---:|---:|---:|');
  for (const { id, ms } of rows.filter((row) => row.backward === backward)) {
    const tfMs = ms['tfjs-wasm'];
    const cell = (name) => `${fmt(ms[name])} (×${ratio(tfMs / ms[name])})`;
    console.log(`| ${id} | ${cell('simd')} | ${cell('relaxed-simd')} | ${fmt(tfMs)} |`);
  }
}
