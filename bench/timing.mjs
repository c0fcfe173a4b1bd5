// Times groups of contenders (the backends on one op, or on the LeNet step) in interleaved rounds.
// This VM has slow stretches, from seconds to minutes, in which everything runs up to 2x slower.
// Timed in one block each, a slow stretch would land on one contender and skew the ratios between
// contenders of a group; timed one group after another, it lands on whole groups and moves their
// absolute figures (issue 3's 25 GFLOP/s). So every contender of every group is first called once
// and warmed up (prepareGroup), then `rounds` rounds each visit every group (run.mjs). In a round a
// contender takes one turn of ONE benchmark.js sample (at least minTime seconds of calls), the
// contenders of a group one after another, in their order in even rounds and reversed in odd ones:
// neighbours in that order (run.mjs puts each pair a target compares side by side) sample within
// tens of milliseconds of each other, each first in half the rounds. The machine's speed changes
// within a second too (turns of 0.2 s, measured: one contender's turns 0.77 to 1.36 ms, its peer's
// next to them 1.03 to 1.62), which is why a turn is one sample. A contender whose sample is
// longer takes fewer turns, spread evenly over the rounds, so that its samples add up to about
// maxTime seconds (at least minSamples turns). Its samples from all rounds are pooled, and their
// median (not benchmark.js's mean) is what we report. Functions slower than `slowCall` keep a
// budget of their own outside the rounds, where they would otherwise dominate.
// Given a probe (probe.mjs), every turn of a contender is framed by two gauges, each the median of
// a few single calls of the probe: how fast the machine was going around that contender's samples.
import Benchmark from 'benchmark';

/** Settings of a full run and of `--quick`. Times in seconds. */
export const SETTINGS = {
  full: { warmup: 0.5, maxTime: 1.0, rounds: 20, minSamples: 5, minTime: 0.05, slowCall: 2, slowBudget: 6 },
  quick: { warmup: 0.1, maxTime: 0.15, rounds: 2, minSamples: 2, minTime: 0.02, slowCall: 0.5, slowBudget: 0 },
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

/** One benchmark.js run of `fn`, whose first call took `first` seconds, starting with `count`
 *  calls per sample; returns its samples and the calls per sample it ended with. */
async function sample(name, fn, first, { minSamples, maxTime, minTime }, count = 1) {
  // benchmark.js runs each sample of a plain function once more untimed (its "pretest"), which
  // doubles the cost of slow functions; a deferred benchmark skips that but recurses once per call
  // of a sample (resolve() starts the next call), which overflows the stack, inside TensorFlow.js's
  // emscripten code too, when a sample packs thousands of fast calls. So: deferred for slow ones only.
  const timed = first > 0.005
    ? { defer: true, fn: (deferred) => { fn(); deferred.resolve(); } }
    : { fn };
  const bench = new Benchmark(name, { ...timed, initCount: count, minSamples, maxTime, minTime });
  await new Promise((resolve, reject) => {
    bench.on('complete', resolve);
    bench.on('error', () => reject(bench.error));
    bench.run({ async: true });
  });
  if (bench.error) throw bench.error;
  return { samples: bench.stats.sample.slice(), count: bench.count };
}

/**
 * First call, warm-up, and (for slow functions) the whole measurement of one contender. V8
 * compiles WASM with its baseline tier first and optimises in the background, and JS likewise, so
 * a fast function runs for `warmup` seconds before any sample is taken. A function whose first call
 * takes longer than `slowCall` is sampled here, as many times as `slowBudget` allows (at least
 * once); one longer than `slowBudget` (any slow call under `--quick`, whose budget is zero; TF.js
 * cpu's filter gradient takes minutes) is measured by its first call alone, reported as cold.
 */
async function prepare(c, settings) {
  const first = seconds(c.fn);
  if (first > settings.slowCall) {
    if (first > settings.slowBudget) return { first, samples: [first], warmupCalls: 0, cold: true, done: true };
    const minSamples = Math.max(1, Math.min(settings.minSamples, Math.floor(settings.slowBudget / first)));
    const { samples } = await sample(c.name, c.fn, first, { minSamples, maxTime: 0, minTime: settings.minTime });
    return { first, samples, warmupCalls: 1, cold: false, done: true };
  }
  let calls = 1;
  let warm = 0;
  for (; warm < settings.warmup || calls < 3; calls++) warm += seconds(c.fn);
  // The rounds' plan from the warm-up's calls after the first: calls per sample, and turns.
  const perCall = warm / (calls - 1);
  const count = Math.max(1, Math.ceil(settings.minTime / perCall));
  const turns = Math.min(settings.rounds, Math.max(settings.minSamples, Math.round(settings.maxTime / (count * perCall))));
  return { first, samples: [], warmupCalls: calls, cold: false, done: false, count, turns };
}

/** Whether a contender planned for `turns` of `rounds` turns takes one in `round`: spread evenly,
 *  the first in round 0. */
function takesTurn(turns, rounds, round) {
  return Math.ceil(((round + 1) * turns) / rounds) > Math.ceil((round * turns) / rounds);
}

/** Calls of the probe per gauge; their median time, in seconds, is the gauge. */
const GAUGE_CALLS = 9;

function gauge(probe) {
  const times = [];
  for (let i = 0; i < GAUGE_CALLS; i++) times.push(seconds(probe.fn));
  return median(times);
}

/**
 * Prepares `contenders` ({ name, fn, enter?, leave? }) to be measured against each other: each is
 * called once and warmed up (slow ones measured whole, see `prepare`). `fn` is synchronous and must
 * do all its work, reading results back included, before it returns; `enter` (may be async)
 * selects what `fn` needs, a backend, before each stretch of calls, and `leave` follows it; neither
 * is timed. Returns the group for `runRound` and `groupResults`. Given a `probe` (probe.mjs:
 * { fn }), every turn is framed by gauges.
 */
export async function prepareGroup(contenders, settings, probe) {
  const group = { contenders, settings, probe, state: new Map(), gauges: new Map(contenders.map((c) => [c, []])) };
  for (const c of contenders) {
    await attempt(group, c, () => gauged(group, c, async () => group.state.set(c, await prepare(c, settings)),
      () => group.state.get(c).done));
  }
  return group;
}

/** Round `round` of a group: every contender still sampled whose turn it is takes one benchmark.js
 *  sample, in the contenders' order (reversed in odd rounds). */
export async function runRound(group, round) {
  const { contenders, settings, state } = group;
  const one = { minSamples: 1, maxTime: 0, minTime: settings.minTime };
  const order = round % 2 ? [...contenders].reverse() : contenders;
  for (const c of order) {
    const s = state.get(c);
    if (s.error || s.done || !takesTurn(s.turns, settings.rounds, round)) continue;
    await attempt(group, c, () => gauged(group, c, async () => {
      const { samples, count } = await sample(c.name, c.fn, s.first, one, s.count);
      s.samples.push(...samples);
      s.count = count;
    }));
  }
}

/** In the contenders' order, { medianMs, samples, warmupCalls, cold, probeMs } or { error }: what
 *  `fn` threw, after which that contender was called no more. `probeMs` is the median of the
 *  gauges around the contender's sampling, when the group has a probe. */
export function groupResults(group) {
  return group.contenders.map((c) => {
    const { error, samples, warmupCalls, cold } = group.state.get(c);
    const g = group.gauges.get(c);
    const probeMs = g.length ? median(g) * 1e3 : undefined;
    return error ? { error } : { medianMs: median(samples) * 1e3, samples, warmupCalls, cold, probeMs };
  });
}

/** Runs `work` (which samples c) between two gauges; `keep` says whether it did sample. */
async function gauged(group, c, work, keep = () => true) {
  if (!group.probe?.fn) return work();
  const before = gauge(group.probe);
  await work();
  if (keep()) group.gauges.get(c).push(before, gauge(group.probe));
}

async function attempt(group, c, work) {
  try {
    await c.enter?.();
    await work();
  } catch (e) {
    group.state.set(c, { error: e });
  } finally {
    c.leave?.();
  }
}
