// The one path every functional op takes to a kernel: buffers on the backend's heap, allocated
// before any view is made (growth detaches views), inputs copied in, the kernel called, outputs
// copied out into JS-owned arrays, and every buffer released in `finally`, so a throw anywhere
// leaves the heap as it was. Ops validate all their arguments before they call `run`.
import { ShapeError } from '../errors.js';
import { backend } from '../runtime/backend.js';
import type { Kernels } from '../runtime/kernels.js';
import { checkTensor } from '../shapes.js';
import type { TensorLike } from '../tensor.js';

type Data = Float32Array | Int32Array;

export interface Output {
  /** Element count. */
  size: number;
  /** Int32 instead of float32 (max pooling's indices). */
  int?: boolean;
  /** Zero the buffer first: the kernel accumulates into it (parameter gradients). Zeroed once, so
   *  with `planes` > 1 only for a `whole` output. */
  zero?: boolean;
  /** Not made of `planes` planes: every chunk's kernel gets the whole buffer (a gradient summed
   *  over the batch). */
  whole?: boolean;
}

/** Input bytes per chunk of planes: what the copy writes is still in cache when the kernel reads
 *  it. Measured on P1/P2 (12.8 MB in): 1 MB chunks took the API's median from 3.7 to 2.5-3.0 ms;
 *  256 KB and 4 MB did less well. */
export const CHUNK_BYTES = 1 << 20;

/**
 * Calls `kernel(k, pointers, scratch, planes)` with the pointers of the outputs followed by those
 * of the inputs (0 for a null input, an absent bias), and returns the outputs. Buffers that do
 * not fit in WebAssembly memory make a ShapeError that names `op`, before any kernel runs. When an
 * output or an input has no elements (a batch of 0), no kernel runs and the outputs are zeros:
 * every op's result over an empty sum.
 *
 * `planes` > 1 says that every input (but those listed in `whole`) is that many equal,
 * independent planes, as is every output (but those marked `whole`): pooling's N·C, or a
 * convolution's N images. The kernel then runs on chunks of whole planes, each input chunk copied
 * in just before, so that the kernel reads from cache what the copy just wrote rather than from
 * main memory, and each output chunk copied out just after, from cache too (through the API, A/B
 * medians: maxPool2dBackward and avgPool2dBackward, 12.8 MB out, −11..28%; the forwards and the
 * depthwise convolutions within noise). The kernel's `planes` is the chunk's count (all of them
 * when 1), and the chunked buffers hold one chunk; `whole` inputs are copied in once, and `whole`
 * outputs copied out once at the end.
 */
export function run(
  op: string,
  inputs: readonly (Data | null)[],
  outputs: readonly Output[],
  scratchBytes: (k: Kernels) => number,
  kernel: (k: Kernels, pointers: number[], scratch: number, planes: number) => void,
  planes = 1,
  whole: readonly number[] = [],
): Data[] {
  const fresh = () => outputs.map((o) => (o.int ? new Int32Array(o.size) : new Float32Array(o.size)));
  if (outputs.some((o) => o.size === 0) || inputs.some((d) => d !== null && d.length === 0)) return fresh();

  const { heap, k } = backend();
  const chunked = inputs.map((d, i) => d !== null && !whole.includes(i));
  const inPlane = inputs.map((d, i) => (d && chunked[i] ? d.length / planes : 0));
  const perPlane = inPlane.reduce((a, b) => a + b, 0);
  const chunk = perPlane === 0 ? planes : Math.max(1, Math.min(planes, Math.floor(CHUNK_BYTES / (4 * perPlane))));
  const allocated: number[] = [];
  const alloc = (bytes: number) => {
    let p: number;
    try {
      p = heap.alloc(bytes);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(`${op}: ${e.message}`);
      throw e;
    }
    allocated.push(p);
    return p;
  };
  try {
    const outPlane = outputs.map((o) => (o.whole ? 0 : o.size / planes));
    const outFloats = outputs.map((o, i) => (o.whole ? o.size : outPlane[i] * chunk));
    const outPtrs = outFloats.map((n) => alloc(n * 4));
    const results = outputs.map((o) => unfilled(o.size, o.int));
    const inPtrs = inputs.map((d, i) => (d ? alloc((chunked[i] ? inPlane[i] * chunk : d.length) * 4) : 0));
    const bytes = scratchBytes(k);
    const scratch = bytes > 0 ? alloc(bytes) : 0;
    // No allocation from here on, so views stay attached.
    const view = (p: number, n: number, int?: boolean): Data => (int ? heap.i32(p, n) : heap.f32(p, n));
    outputs.forEach((o, i) => {
      if (o.zero) heap.f32(outPtrs[i], outFloats[i]).fill(0);
    });
    const copyIn = (i: number, part: Data) => view(inPtrs[i], part.length, part instanceof Int32Array).set(part);
    inputs.forEach((d, i) => {
      if (d && !chunked[i]) copyIn(i, d);
    });
    for (let p0 = 0; p0 < planes; p0 += chunk) {
      const count = Math.min(chunk, planes - p0);
      inputs.forEach((d, i) => {
        if (d && chunked[i]) copyIn(i, d.subarray(p0 * inPlane[i], (p0 + count) * inPlane[i]));
      });
      kernel(k, [...outPtrs, ...inPtrs], scratch, count);
      outputs.forEach((o, i) => {
        if (o.whole) return;
        const n = count * outPlane[i];
        results[i].set(view(outPtrs[i], n, o.int), p0 * outPlane[i]);
      });
    }
    outputs.forEach((o, i) => {
      if (o.whole) results[i].set(view(outPtrs[i], o.size, o.int));
    });
    return results;
  } finally {
    for (const p of allocated) heap.release(p);
  }
}

const nodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(bytes: number): Uint8Array } }).Buffer;

/** A new array of n elements that the caller overwrites whole. Under Node a large one is not
 *  zeroed first (Buffer.allocUnsafeSlow: an ArrayBuffer of its own, uninitialized), which spares
 *  a pass over memory that the copy-out rewrites at once: through the API, maxPool2d on P1 (two
 *  3.2 MB outputs) took 3-12% less time, its backward (12.8 MB) 5-21% (medians of interleaved
 *  runs on a noisy machine). Browsers zero it. */
function unfilled(n: number, int?: boolean): Data {
  if (!nodeBuffer || n < 4096) return int ? new Int32Array(n) : new Float32Array(n);
  const bytes = nodeBuffer.allocUnsafeSlow(n * 4);
  return int ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

/** An optional bias: undefined or null means none; otherwise a float32 tensor [channels]. */
export function checkBias(
  op: string, bias: TensorLike | null | undefined, channels: number, per = 'output channel',
): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(bias, `${op}: bias`, 1);
  if (bias.shape[0] !== channels) {
    throw new ShapeError(`${op}: bias has ${bias.shape[0]} elements, expected ${channels} (one per ${per})`);
  }
  return bias.data;
}
