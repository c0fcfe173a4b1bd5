// The machine gauge. This VM's speed drifts: its two vCPUs behave as one core's two hardware
// threads, and work beside it slows every contender here by up to 2× for seconds to minutes at a
// time. Work from outside the VM too: the probe alone in a loop, this VM's other vCPU idle and no
// steal time in /proc/stat, still went from 0.21 to 0.34 ms a call for 20 s at a stretch. Ratios
// between contenders of one op mostly survive that (they take turns side by side); an absolute
// figure such as issue 3's 25 GFLOP/s does not, and cannot tell a slow machine from a slow kernel.
// So the rounds (timing.mjs) frame every turn of every contender with gauges of this probe: one
// fixed matrix product (64×256 by 256×256, 8.4 MFLOP, in cache) on our simd build, instantiated on
// its own from build/simd.wasm so that it shares no state with the contenders. The report divides
// the run's fastest gauge by each contender's.
import fs from 'node:fs';

const M = 64;
const N = 256;
const K = 256;
export const PROBE_FLOPS = 2 * M * N * K;

/** { fn }, one call of the probe, for the rounds' gauges (timing.mjs); or { error } when the build
 *  cannot be loaded (the rounds then take no gauges). */
export async function loadProbe(wasmPath) {
  try {
    const memory = new WebAssembly.Memory({ initial: 16 });
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), {
      env: { memory, abort: () => { throw new Error('probe: the kernel aborted'); } },
    });
    const k = instance.exports;
    let top = (k.heap_base() + 63) & ~63;
    const alloc = (floats) => {
      const p = top;
      top += (floats * 4 + 63) & ~63;
      return p;
    };
    const a = alloc(M * K);
    const b = alloc(K * N);
    const c = alloc(M * N);
    const scratch = alloc(k.sgemm_scratch_bytes(M, N, K) / 4);
    const pages = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
    if (pages > 0) memory.grow(pages);
    const f = new Float32Array(memory.buffer);
    const fill = (p, n) => { for (let i = 0; i < n; i++) f[p / 4 + i] = ((i * 7919) % 1000) / 1000 - 0.5; };
    fill(a, M * K);
    fill(b, K * N);
    return { fn: () => k.sgemm(M, N, K, a, K, 1, b, N, 1, c, N, 0, scratch) };
  } catch (e) {
    return { error: `machine probe unavailable: ${e.message}` };
  }
}
