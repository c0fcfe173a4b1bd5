// The workloads of issue 3 (NCHW, float32), their shapes and FLOP counts, and the seeded inputs
// every contender is given, so that all of them compute on the same numbers.
import { mulberry32 } from '../examples/split.mjs';

/** Convolutions: N, Cin→Cout, H×W, k×k, stride, padding (dilation 1), groups (1 unless given).
 *  C1-C4 are issue 3's; D1 and D2 are depthwise (groups = channels, MobileNet's 3×3 at stride 1
 *  and 2), measured beside them though issue 3 sets them no target. */
export const CONV_WORKLOADS = [
  { id: 'C1', N: 8, Cin: 64, Cout: 64, H: 32, W: 32, k: 3, stride: 1, pad: 1, note: '8×64→64, 32×32, 3×3 s1 p1' },
  { id: 'C2', N: 64, Cin: 1, Cout: 8, H: 28, W: 28, k: 5, stride: 1, pad: 0, note: '64×1→8, 28×28, 5×5 (LeNet conv1)' },
  { id: 'C3', N: 16, Cin: 32, Cout: 64, H: 56, W: 56, k: 3, stride: 2, pad: 1, note: '16×32→64, 56×56, 3×3 s2 p1' },
  { id: 'C4', N: 64, Cin: 8, Cout: 16, H: 12, W: 12, k: 5, stride: 1, pad: 0, note: '64×8→16, 12×12, 5×5 (LeNet conv2)' },
  { id: 'D1', N: 8, Cin: 64, Cout: 64, H: 56, W: 56, k: 3, stride: 1, pad: 1, groups: 64, note: 'depthwise 8×64, 56×56, 3×3 s1 p1' },
  { id: 'D2', N: 8, Cin: 64, Cout: 64, H: 56, W: 56, k: 3, stride: 2, pad: 1, groups: 64, note: 'depthwise 8×64, 56×56, 3×3 s2 p1' },
];

/** A conv workload's groups. */
export function groupsOf(c) {
  return c.groups ?? 1;
}

/** Pooling on N=16, C=64, 56×56. */
export const POOL_WORKLOADS = [
  { id: 'P1', kind: 'max', N: 16, C: 64, H: 56, W: 56, k: 2, stride: 2, pad: 0, note: 'max 2×2 s2 on 16×64×56×56' },
  { id: 'P2', kind: 'avg', N: 16, C: 64, H: 56, W: 56, k: 3, stride: 2, pad: 1, note: 'avg 3×3 s2 p1 on 16×64×56×56' },
];

/** --tiny: the same geometries shrunk (batch 1, channels ÷ 8), for developing the harness only. */
export function tiny(workload) {
  const w = { ...workload, N: 1, note: `${workload.note} [tiny: N=1, channels ÷ 8]` };
  for (const key of ['Cin', 'Cout', 'C']) if (key in w) w[key] = Math.max(1, Math.ceil(w[key] / 8));
  if (groupsOf(workload) > 1) w.groups = w.Cin; // depthwise stays depthwise
  return w;
}

export function outSize(size, k, stride, pad) {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** 2·N·Cout·Hout·Wout·(Cin/groups)·kH·kW, the same for forward, input and filter gradient. */
export function convFlops(c) {
  const Hout = outSize(c.H, c.k, c.stride, c.pad);
  const Wout = outSize(c.W, c.k, c.stride, c.pad);
  return 2 * c.N * c.Cout * Hout * Wout * (c.Cin / groupsOf(c)) * c.k * c.k;
}

/** Seeded, so every run and every contender sees the same data. */
export const rng = mulberry32;

/** Uniform in [-1, 1): no ties in practice, so max pooling's choice is the same everywhere. */
export function randomData(size, seed) {
  const next = rng(seed);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = next() * 2 - 1;
  return data;
}

export function sizeOf(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(shape, seed) {
  return { data: randomData(sizeOf(shape), seed), shape };
}

/** The NCHW inputs of a conv workload: x, w, and a gradient dy of the output's shape. */
export function convInputs(c) {
  const Hout = outSize(c.H, c.k, c.stride, c.pad);
  const Wout = outSize(c.W, c.k, c.stride, c.pad);
  return {
    x: tensor([c.N, c.Cin, c.H, c.W], 1),
    w: tensor([c.Cout, c.Cin / groupsOf(c), c.k, c.k], 2),
    dy: tensor([c.N, c.Cout, Hout, Wout], 3),
  };
}

/** The NCHW inputs of a pool workload: x and a gradient dy of the output's shape. */
export function poolInputs(p) {
  const Hout = outSize(p.H, p.k, p.stride, p.pad);
  const Wout = outSize(p.W, p.k, p.stride, p.pad);
  return { x: tensor([p.N, p.C, p.H, p.W], 4), dy: tensor([p.N, p.C, Hout, Wout], 5) };
}

/** NCHW → NHWC (TensorFlow.js's layout), done once outside every timed region. */
export function nchwToNhwc(data, [N, C, H, W]) {
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((n * H + h) * W + w) * C + c] = data[((n * C + c) * H + h) * W + w];
  return out;
}

/** NHWC data back to NCHW, for checking TensorFlow.js's answers. */
export function nhwcToNchw(data, [N, C, H, W]) {
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((n * C + c) * H + h) * W + w] = data[((n * H + h) * W + w) * C + c];
  return out;
}

/** PyTorch weights (Cout, Cin, kH, kW) → TensorFlow filters (kH, kW, Cin, Cout), and back. A depthwise
 *  weight (C·m, 1, kH, kW) becomes TensorFlow's depthwise filter (kH, kW, C, m) the same way: with
 *  Cin = 1 both hold output channel c·m + j at (y·kW + x)·C·m + c·m + j. */
export function oihwToHwio(data, [O, I, kH, kW]) {
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < kH; y++)
        for (let x = 0; x < kW; x++) out[((y * kW + x) * I + i) * O + o] = data[((o * I + i) * kH + y) * kW + x];
  return out;
}

export function hwioToOihw(data, [O, I, kH, kW]) {
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < kH; y++)
        for (let x = 0; x < kW; x++) out[((o * I + i) * kH + y) * kW + x] = data[((y * kW + x) * I + i) * O + o];
  return out;
}
