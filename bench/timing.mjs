// One measurement: warm the function up, then let benchmark.js sample it, and keep every sample so
// that the median (not benchmark.js's mean) is what we report.
import Benchmark from 'benchmark';

/** Settings of a full run and of `--quick`. Times in seconds. */
export const SETTINGS = {
  full: { warmup: 0.5, maxTime: 1.0, minSamples: 5, minTime: 0.05, slowCall: 2, slowBudget: 6 },
  quick: { warmup: 0.1, maxTime: 0.15, minSamples: 2, minTime: 0.02, slowCall: 0.5, slowBudget: 0 },
};

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function seconds(fn) {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1e3;
}

/**
 * Times `fn` (synchronous; it must do all its work, including reading results back, before it
 * returns). Returns { medianMs, samples, rme, warmupCalls, cold } or throws what `fn` threw on its first
 * call. V8 compiles WASM with its baseline tier first and optimises in the background, and JS
 * likewise, so `fn` runs for `warmup` seconds before any sample is taken. A function whose first
 * call takes longer than `slowCall` is sampled fewer times (as many as `slowBudget` allows, at
 * least one); one longer than `slowBudget` (any slow call under `--quick`, whose budget is zero) is
 * measured by its first call alone, reported as cold.
 */
export async function measure(name, fn, settings) {
  const first = seconds(fn);
  // A call longer than the whole budget for slow functions (TensorFlow.js cpu's filter gradient
  // takes minutes) is measured once: its first call, where JIT warm-up is a rounding error.
  if (first > settings.slowCall && first > settings.slowBudget) {
    return { medianMs: first * 1e3, samples: [first], rme: NaN, warmupCalls: 0, cold: true };
  }
  let calls = 1;
  let spent = first;
  if (first <= settings.slowCall) {
    while (spent < settings.warmup || calls < 3) {
      spent += seconds(fn);
      calls++;
    }
  }
  const slow = first > settings.slowCall;
  // benchmark.js runs each sample of a plain function once more untimed (its "pretest"), which
  // doubles the cost of slow functions; a deferred benchmark skips that but recurses once per call
  // of a sample (resolve() starts the next call), which overflows the stack, inside TensorFlow.js's
  // emscripten code too, when a sample packs thousands of fast calls. So: deferred for slow ones only.
  const timed = first > 0.005
    ? { defer: true, fn: (deferred) => { fn(); deferred.resolve(); } }
    : { fn };
  const bench = new Benchmark(name, {
    ...timed,
    initCount: 1,
    minSamples: slow ? Math.max(1, Math.min(settings.minSamples, Math.floor(settings.slowBudget / first))) : settings.minSamples,
    maxTime: slow ? 0 : settings.maxTime,
    minTime: settings.minTime,
  });
  await new Promise((resolve, reject) => {
    bench.on('complete', resolve);
    bench.on('error', () => reject(bench.error));
    bench.run({ async: true });
  });
  if (bench.error) throw bench.error;
  const samples = bench.stats.sample.slice();
  return {
    medianMs: median(samples) * 1e3,
    samples,
    rme: bench.stats.rme,
    warmupCalls: calls,
    cold: false,
  };
}
