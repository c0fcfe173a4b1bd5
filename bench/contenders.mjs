// The contenders of every op benchmark: wasm-cnn's public functional API on each of its backends,
// and TensorFlow.js on its wasm and cpu backends. A contender prepares an op once (inputs made,
// layouts converted, forward results a backward needs computed: none of that is timed) and hands
// back `run`, the timed call, and `result`, which turns what `run` returned into NCHW data for
// the correctness check.
import { createRequire } from 'node:module';
import { nchwToNhwc, nhwcToNchw, oihwToHwio, hwioToOihw, groupsOf } from './workloads.mjs';

/** Our backends, in the order the tables show them. 'js' is the reference kernels of src/reference/. */
export const OUR_BACKENDS = ['relaxed-simd', 'simd', 'scalar', 'js'];
export const TF_BACKENDS = ['wasm', 'cpu'];

/** The order in which an op's contenders are prepared and take their turns in a round
 *  (timing.mjs): each pair that a target of issue 3 compares takes neighbouring turns
 *  (relaxed-simd and tfjs-wasm one turn apart). */
export const TURN_ORDER = ['relaxed-simd', 'simd', 'tf-wasm', 'scalar', 'js', 'tf-cpu'];

export const LABELS = {
  'relaxed-simd': 'relaxed-simd',
  simd: 'simd',
  scalar: 'scalar',
  js: 'js reference',
  'tf-wasm': 'tfjs-wasm',
  'tf-cpu': 'tfjs-cpu',
  torch: 'pytorch cpu, 1 thread',
};

/** Failures of a contender's calls: an op the peer lacks is 'missing', anything else an 'error'. */
export function failure(e) {
  const missing = /not registered|not implemented|not supported/i.test(e.message);
  return { status: missing ? 'missing' : 'error', message: e.message };
}

export const OPS = {
  conv: ['conv2d', 'conv2dBackwardInput', 'conv2dBackwardFilter'],
  max: ['maxPool2d', 'maxPool2dBackward'],
  avg: ['avgPool2d', 'avgPool2dBackward'],
};

/** What TensorFlow.js runs for each of our ops (for the notes under the table). */
export const TF_EQUIVALENTS = {
  conv2d: 'tf.conv2d',
  conv2dBackwardInput: "kernel 'Conv2DBackpropInput'",
  conv2dBackwardFilter: "kernel 'Conv2DBackpropFilter'",
  maxPool2d: 'tf.maxPool',
  maxPool2dBackward: "kernel 'MaxPoolGrad'",
  avgPool2d: 'tf.avgPool',
  avgPool2dBackward: "kernel 'AvgPoolGrad'",
};

function apiFunction(api, name) {
  const fn = api[name];
  if (typeof fn !== 'function') throw new Error(`dist/index.js exports no ${name}`);
  return fn;
}

/**
 * Our op `op` on workload `w` with its NCHW `inputs`, on the backend already selected by init().
 * `run` is exactly one public API call, so its time includes copying inputs into WASM memory and
 * the output back out, as a user pays it.
 */
export function prepareOurs(api, op, w, inputs) {
  const { x, dy } = inputs;
  if (op.startsWith('conv2d')) {
    const weight = inputs.w;
    const opts = { stride: w.stride, padding: w.pad, groups: groupsOf(w) };
    const f = apiFunction(api, op);
    const run = {
      conv2d: () => f(x, weight, null, opts),
      conv2dBackwardInput: () => f(dy, weight, x.shape, opts),
      conv2dBackwardFilter: () => f(x, dy, weight.shape, opts),
    }[op];
    return { run, result: (t) => t.data };
  }
  const opts = { kernelSize: w.k, stride: w.stride, padding: w.pad };
  const f = apiFunction(api, op);
  switch (op) {
    case 'maxPool2d':
      return { run: () => f(x, opts), result: (r) => r.output.data };
    case 'maxPool2dBackward': {
      const { indices } = apiFunction(api, 'maxPool2d')(x, opts);
      return { run: () => f(dy, indices, x.shape), result: (t) => t.data };
    }
    case 'avgPool2d':
      return { run: () => f(x, opts), result: (t) => t.data };
    case 'avgPool2dBackward':
      return { run: () => f(dy, x.shape, opts), result: (t) => t.data };
  }
  throw new Error(`no such op ${op}`);
}

/** Loads TensorFlow.js with both backends; the wasm one single-threaded, its files from node_modules. */
export async function loadTf() {
  // The @tensorflow/tfjs bundle (core, cpu backend, layers) rather than tfjs-core alone: only the
  // bundle registers the gradients that training needs, and it is what a TF.js user installs.
  const tf = await import('@tensorflow/tfjs');
  // TensorFlow.js's documented setting for speed: it skips its debug-time correctness checks.
  tf.enableProdMode();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const pkg = require('@tensorflow/tfjs-backend-wasm/package.json');
  const dist = require.resolve('@tensorflow/tfjs-backend-wasm/package.json').replace(/package\.json$/, 'dist/');
  wasm.setWasmPaths(dist);
  wasm.setThreadsCount(1);
  const info = { version: pkg.version, wasmThreads: undefined, wasmSimd: undefined, wasmError: undefined };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    info.wasmThreads = wasm.getThreadsCount();
    info.wasmSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  } catch (e) {
    info.wasmError = e.message;
  }
  await tf.setBackend('cpu');
  return { tf, info };
}

/** Reads a tensor's values back (inside the timed call, as a user must) and frees it. */
function reader(tf) {
  return (make) => {
    const t = tf.tidy(make);
    const data = t.dataSync();
    t.dispose();
    return data;
  };
}

/**
 * TensorFlow.js's equivalent of `op`, on the backend already selected with tf.setBackend. The NCHW
 * inputs are converted to NHWC (and weights to HWIO) here, untimed. Returns `dispose` for the
 * tensors made here; `checkAgainst` names the reference semantics the answer is checked with.
 */
export function prepareTf(tf, op, w, inputs) {
  const read = reader(tf);
  const nhwc = (t) => {
    const [N, C, H, W] = t.shape;
    return tf.tensor4d(nchwToNhwc(t.data, t.shape), [N, H, W, C]);
  };
  const pad = w.pad === 0 ? 'valid' : w.pad;
  const strides = [w.stride, w.stride];
  const x = nhwc(inputs.x);
  const dy = nhwc(inputs.dy);
  const owned = [x, dy];
  const dispose = () => owned.forEach((t) => t.dispose());
  const fromNhwc = (shape) => (data) => nhwcToNchw(data, shape);
  if (op.startsWith('conv2d')) {
    // Depthwise workloads (groups = channels) run TensorFlow.js's depthwise ops, filter (kH, kW, C, m).
    const depthwise = groupsOf(w) > 1;
    const wShape = inputs.w.shape;
    const [Cout, , kH, kW] = wShape;
    const [N, Cin, H, W] = inputs.x.shape;
    const filterShape = depthwise ? [kH, kW, Cin, Cout / Cin] : [kH, kW, Cin, Cout];
    const filter = tf.tensor4d(oihwToHwio(inputs.w.data, wShape), filterShape);
    owned.push(filter);
    const attrs = { strides, pad, dilations: [1, 1], dataFormat: 'NHWC' };
    const [inputKernel, filterKernel] = depthwise
      ? ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
      : ['Conv2DBackpropInput', 'Conv2DBackpropFilter'];
    switch (op) {
      case 'conv2d': {
        const forward = depthwise ? tf.depthwiseConv2d : tf.conv2d;
        return { run: () => read(() => forward(x, filter, strides, pad, 'NHWC')), result: fromNhwc(inputs.dy.shape), dispose };
      }
      case 'conv2dBackwardInput':
        return {
          run: () => read(() => tf.engine().runKernel(inputKernel, { dy, filter }, { ...attrs, inputShape: [N, H, W, Cin] })),
          result: fromNhwc(inputs.x.shape),
          dispose,
        };
      case 'conv2dBackwardFilter':
        return {
          run: () => read(() => tf.engine().runKernel(filterKernel, { x, dy }, { ...attrs, filterShape })),
          result: (data) => hwioToOihw(data, wShape),
          dispose,
        };
    }
  }
  const poolAttrs = { filterSize: w.k, strides, pad };
  switch (op) {
    case 'maxPool2d':
      return { run: () => read(() => tf.maxPool(x, w.k, w.stride, pad)), result: fromNhwc(inputs.dy.shape), dispose };
    case 'maxPool2dBackward': {
      const y = tf.maxPool(x, w.k, w.stride, pad);
      owned.push(y);
      return {
        run: () => read(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, poolAttrs)),
        result: fromNhwc(inputs.x.shape),
        dispose,
      };
    }
    case 'avgPool2d':
      // TensorFlow's average pooling leaves padding out of the divisor (countIncludePad: false).
      return { run: () => read(() => tf.avgPool(x, w.k, w.stride, pad)), result: fromNhwc(inputs.dy.shape), dispose, checkAgainst: 'excludePad' };
    case 'avgPool2dBackward':
      // ...but its gradient divides by the full window, as countIncludePad: true does.
      return {
        run: () => read(() => tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, poolAttrs)),
        result: fromNhwc(inputs.x.shape),
        dispose,
      };
  }
  throw new Error(`no such op ${op}`);
}
