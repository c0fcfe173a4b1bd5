// The kernel correctness suite, bundled into a page and run inside Chromium: every functional op on
// the WASM build the browser picks (relaxed SIMD in Chromium) against the same op on the 'js'
// backend, which runs the float64 reference kernels. kernels.spec.ts loads the page and asserts on
// what `runKernelTests()` returns.
import {
  init, backendName, conv2d, conv2dBackwardInput, conv2dBackwardFilter, conv2dBackwardBias, convTranspose2d,
  maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, linear, type BackendName, type TensorLike,
} from 'wasm-cnn';
import { conv, convName, convOptions, convSums, rng, randArray, tolFor, wShape, xShape, yShape, type ConvGeom, type Tol } from '../helpers.js';

type Output = { values: Float32Array; tol: Tol } | { ints: Int32Array };
interface Case { name: string; run(): Record<string, Output> }

export interface Failure { name: string; output: string; detail: string }
export interface KernelReport { backend: BackendName; cases: number; comparisons: number; passed: number; failed: number; failures: Failure[] }

const CHANNELS = [1, 3, 4, 5, 8, 17];
const exact = { atol: 0, rtol: 0 };

let seed = 1;
function tensor(shape: number[], values?: (r: () => number, n: number) => Float32Array): TensorLike {
  const r = rng(seed++);
  const n = shape.reduce((p, d) => p * d, 1);
  return { data: values ? values(r, n) : randArray(n, r), shape };
}

// ---- convolution: forward, the three gradients, and the transposed convolution ----

function convCase(g: ConvGeom, withBias: boolean): Case {
  const x = tensor(xShape(g));
  const w = tensor(wShape(g));
  const b = withBias ? tensor([g.Cout]) : null;
  const dy = tensor(yShape(g));
  const o = convOptions(g);
  const sums = convSums(g);
  return {
    name: `${convName(g)}${withBias ? ' bias' : ''}`,
    run: () => ({
      forward: { values: conv2d(x, w, b, o).data, tol: tolFor(sums.forward) },
      input: { values: conv2dBackwardInput(dy, w, xShape(g), o).data, tol: tolFor(sums.input) },
      filter: { values: conv2dBackwardFilter(x, dy, wShape(g), o).data, tol: tolFor(sums.filter) },
      bias: { values: conv2dBackwardBias(dy).data, tol: tolFor(g.N * g.Hout * g.Wout) },
    }),
  };
}

/** convTranspose2d maps g's output shape back to its input shape; outputPadding adds rows. */
function convTransposeCase(g: ConvGeom, outputPadding: number, withBias: boolean): Case {
  const x = tensor(yShape(g));
  const w = tensor([g.Cout, g.Cin / g.groups, g.kH, g.kW]);
  const b = withBias ? tensor([g.Cin]) : null;
  const name = convName(g, 'convTranspose2d').replace(`C${g.Cin}→${g.Cout}`, `C${g.Cout}→${g.Cin}`);
  return {
    name: `${name} outputPadding ${outputPadding}${withBias ? ' bias' : ''}`,
    run: () => ({
      forward: { values: convTranspose2d(x, w, b, { ...convOptions(g), outputPadding }).data, tol: tolFor(convSums(g).input + 1) },
    }),
  };
}

/** (kernel, stride, padding, dilation, input height × width) around the usual and the edge cases. */
const CONV_GEOMETRIES: [number | [number, number], number | [number, number], number | [number, number], number | [number, number], [number, number]][] = [
  [3, 1, 0, 1, [7, 9]],
  [3, 1, 1, 1, [8, 8]],
  [3, 2, 1, 1, [9, 10]],
  [3, 1, 2, 2, [9, 7]],
  [1, 1, 0, 1, [5, 6]],
  [5, 1, 0, 1, [12, 12]],
  [[2, 3], [2, 1], [1, 0], [1, 2], [8, 11]],
  [3, 3, 4, 1, [6, 5]],
];

function convCases(): Case[] {
  const cases: Case[] = [];
  let i = 0;
  for (const Cin of CHANNELS) {
    for (const Cout of CHANNELS) {
      for (const [k, s, p, d, hw] of CONV_GEOMETRIES) {
        cases.push(convCase(conv(i % 2 ? 3 : 1, Cin, Cout, hw, k, s, p, d), i % 3 !== 0));
        i++;
      }
    }
  }
  // Grouped and depthwise convolutions, batch 1 and 3.
  for (const [Cin, Cout, groups] of [[4, 8, 2], [6, 3, 3], [8, 8, 8], [5, 10, 5], [3, 3, 3], [12, 4, 4], [34, 17, 17]]) {
    for (const N of [1, 3]) {
      for (const [k, s, p, d, hw] of CONV_GEOMETRIES.slice(1, 4)) cases.push(convCase(conv(N, Cin, Cout, hw, k, s, p, d, groups), N === 3));
    }
  }
  for (const [Cin, Cout, groups] of [[1, 1, 1], [3, 4, 1], [5, 8, 1], [8, 17, 1], [17, 3, 1], [4, 6, 2], [8, 8, 4]]) {
    for (const N of [1, 3]) {
      cases.push(convTransposeCase(conv(N, Cin, Cout, [9, 10], 3, 2, 1, 1, groups), 1, N === 1));
      cases.push(convTransposeCase(conv(N, Cin, Cout, [8, 8], 4, 2, 1, 1, groups), 0, N === 3));
      cases.push(convTransposeCase(conv(N, Cin, Cout, [6, 7], 3, 1, 0, 1, groups), 0, true));
      cases.push(convTransposeCase(conv(N, Cin, Cout, [11, 11], 3, 3, 1, 2, groups), 2, false));
    }
  }
  return cases;
}

// ---- pooling both ways ----

type PoolGeometry = { kernelSize: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number]; hw: [number, number] };
const POOL_GEOMETRIES: PoolGeometry[] = [
  { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], hw: [8, 8] },
  { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], hw: [9, 10] },
  { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [2, 2], hw: [7, 9] },
  { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1], dilation: [1, 1], hw: [6, 11] },
  { kernelSize: [3, 3], stride: [3, 3], padding: [0, 0], dilation: [1, 1], hw: [10, 10] },
];

const pairName = ([a, b]: [number, number]) => (a === b ? `${a}` : `${a}x${b}`);

function poolCases(): Case[] {
  const cases: Case[] = [];
  // Small integers make ties, where the first maximum must win; NaN must win its window.
  const ties = (r: () => number, n: number) => Float32Array.from({ length: n }, () => Math.floor(r() * 3));
  const nans = (r: () => number, n: number) => Float32Array.from({ length: n }, () => (r() < 0.05 ? Number.NaN : 2 * r() - 1));
  for (const C of CHANNELS) {
    for (const N of [1, 3]) {
      for (const g of POOL_GEOMETRIES) {
        const shape = [N, C, ...g.hw];
        const geometry = `N${N} C${C} ${g.hw.join('x')} kernel ${pairName(g.kernelSize)} stride ${pairName(g.stride)} pad ${pairName(g.padding)}`;
        for (const [kind, values] of [['random', undefined], ['ties', ties], ['NaN', nans]] as const) {
          const x = tensor(shape, values);
          const options = { kernelSize: g.kernelSize, stride: g.stride, padding: g.padding, dilation: g.dilation };
          cases.push({
            name: `maxPool2d ${geometry} dilation ${pairName(g.dilation)} ${kind}`,
            run: () => {
              const { output, indices } = maxPool2d(x, options);
              const dy = { data: Float32Array.from(output.data, (_, i) => ((i * 7) % 5) - 2), shape: output.shape };
              return {
                forward: { values: output.data, tol: exact },
                indices: { ints: indices },
                backward: { values: maxPool2dBackward(dy, indices, shape).data, tol: tolFor(g.kernelSize[0] * g.kernelSize[1]) },
              };
            },
          });
        }
        if (g.dilation[0] !== 1) continue;
        for (const countIncludePad of [true, false]) {
          const x = tensor(shape);
          const options = { kernelSize: g.kernelSize, stride: g.stride, padding: g.padding, countIncludePad };
          cases.push({
            name: `avgPool2d ${geometry} countIncludePad ${countIncludePad}`,
            run: () => {
              const y = avgPool2d(x, options);
              const dy = { data: Float32Array.from(y.data, (_, i) => Math.sin(i)), shape: y.shape };
              const window = g.kernelSize[0] * g.kernelSize[1];
              return {
                forward: { values: y.data, tol: tolFor(window) },
                backward: { values: avgPool2dBackward(dy, shape, options).data, tol: tolFor(window) },
              };
            },
          });
        }
      }
    }
  }
  return cases;
}

// ---- linear ----

function linearCases(): Case[] {
  const cases: Case[] = [];
  for (const N of [1, 3, 64]) {
    for (const inF of [...CHANNELS, 256]) {
      for (const outF of [...CHANNELS, 10, 120]) {
        const x = tensor([N, inF]);
        const w = tensor([outF, inF]);
        const b = (inF + outF) % 2 ? tensor([outF]) : null;
        cases.push({
          name: `linear N${N} ${inF}→${outF}${b ? ' bias' : ''}`,
          run: () => ({ forward: { values: linear(x, w, b).data, tol: tolFor(inF + 1) } }),
        });
      }
    }
  }
  return cases;
}

// ---- comparison ----

/** The first element outside |a − b| <= atol + rtol·|b| (NaN matches NaN, ±∞ itself), or undefined. */
function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, tol: Tol): string | undefined {
  if (a.length !== b.length) return `length ${a.length}, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isFinite(b[i])
      ? Math.abs(a[i] - b[i]) <= tol.atol + tol.rtol * Math.abs(b[i])
      : Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]));
    if (!ok) return `[${i}] got ${a[i]}, reference ${b[i]} (atol ${tol.atol.toExponential(2)}, rtol ${tol.rtol.toExponential(2)})`;
  }
  return undefined;
}

export async function runKernelTests(): Promise<KernelReport> {
  await init();
  const backend = backendName();
  const cases = [...convCases(), ...poolCases(), ...linearCases()];
  const report: KernelReport = { backend, cases: cases.length, comparisons: 0, passed: 0, failed: 0, failures: [] };
  const fail = (failure: Failure) => {
    report.failed++;
    if (report.failures.length < 30) report.failures.push(failure);
  };
  for (const c of cases) {
    await init({ backend });
    let wasm: Record<string, Output>;
    try {
      wasm = c.run();
    } catch (error) {
      fail({ name: c.name, output: '(threw)', detail: String(error) });
      continue;
    }
    await init({ backend: 'js' });
    const reference = c.run();
    for (const [output, expected] of Object.entries(reference)) {
      const actual = wasm[output];
      report.comparisons++;
      const detail = 'ints' in expected
        ? firstMismatch((actual as { ints: Int32Array }).ints, expected.ints, exact)
        : firstMismatch((actual as { values: Float32Array }).values, expected.values, expected.tol);
      if (detail) fail({ name: c.name, output, detail });
      else report.passed++;
    }
  }
  await init({ backend });
  return report;
}

(globalThis as any).runKernelTests = runKernelTests;
