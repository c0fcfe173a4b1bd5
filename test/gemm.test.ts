// sgemm of every WASM build against the float64 reference triple loop, over sizes around the 4×8
// microtile and the cache blocks (K = 300 crosses a K block, M = 300 an M block, N = 2100 an N
// block) and, from 24 rows in the relaxed-SIMD build, the 3×12 tiles over strips of three panels
// (M = 33, 26 and 100 leave 0, 2 and 1 rows over 3·⌊M/3⌋: none, two and one 4-row panels; N = 26,
// 33 and 100 end on strips of 1 or 2 panels), with A and B plain, transposed or row-padded, C
// row-padded, accumulate 0 and 1. Padding columns of C and a canary after the scratch area must
// come back untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, backend } from '../src/runtime/backend.js';
import * as ref from '../src/reference/index.js';
import { WASM_BACKENDS, randArray, rng } from './helpers.js';

const SIZES = [1, 3, 4, 5, 8, 17, 26, 33, 100, 300];
const DEPTHS = [1, 4, 5, 17, 33, 300];
/** How A and B are laid out: row-major, transposed, or row-major with padded rows. */
type Layout = 'plain' | 'transposed' | 'padded';
const LAYOUTS: Layout[] = ['plain', 'transposed', 'padded'];
const CANARY = 64;

/** Strides of a rows×cols operand stored in `layout`, and the element count it spans. */
function strides(rows: number, cols: number, layout: Layout): { rs: number; cs: number; len: number } {
  if (layout === 'transposed') return { rs: 1, cs: rows, len: rows * cols };
  const rs = layout === 'padded' ? cols + 3 : cols;
  return { rs, cs: 1, len: rows * rs };
}

interface Case { M: number; N: number; K: number; layoutA: Layout; layoutB: Layout; accumulate: number }

/** Every M×N of SIZES with the depths, pruned to keep the float64 oracle fast; the layouts and
 *  the accumulate flag cycle so that every combination occurs at every tile-edge size. */
function cases(): Case[] {
  const out: Case[] = [];
  let i = 0;
  for (const M of SIZES) for (const N of SIZES) for (const K of DEPTHS) {
    if (M * N * K > 3e6) continue;
    out.push({ M, N, K, layoutA: LAYOUTS[i % 3], layoutB: LAYOUTS[Math.floor(i / 3) % 3], accumulate: (i >> 1) & 1 });
    i++;
  }
  out.push({ M: 5, N: 2100, K: 3, layoutA: 'plain', layoutB: 'plain', accumulate: 1 });
  out.push({ M: 9, N: 2100, K: 7, layoutA: 'transposed', layoutB: 'transposed', accumulate: 0 });
  return out;
}

/** Runs the backend's sgemm on one case and returns the worst violation of the tolerance (≤ 0
 *  passes), whether C's padding columns survived, and whether the canary after scratch survived. */
function runCase(c: Case, seed: number) {
  const { M, N, K, accumulate } = c;
  const r = rng(seed);
  const a = strides(M, K, c.layoutA), b = strides(K, N, c.layoutB);
  const rsC = N + 2;
  const A = randArray(a.len, r), B = randArray(b.len, r), C0 = randArray(M * rsC, r);
  const { heap, k } = backend();
  const pA = heap.put(A), pB = heap.put(B), pC = heap.put(C0);
  const scratchBytes = k.sgemm_scratch_bytes(M, N, K);
  const pS = heap.alloc(scratchBytes);
  const pCanary = heap.put(new Float32Array(CANARY).fill(-7));
  k.sgemm(M, N, K, pA, a.rs, a.cs, pB, b.rs, b.cs, pC, rsC, accumulate, pS);
  const got = heap.f32(pC, M * rsC).slice();
  const canaryOk = heap.f32(pCanary, CANARY).every((v) => v === -7);
  for (const p of [pA, pB, pC, pS, pCanary]) heap.release(p);

  const want = Float64Array.from(C0);
  ref.sgemm(M, N, K, A, a.rs, a.cs, B, b.rs, b.cs, want, rsC, accumulate);
  // Rounding error of a K-term f32 sum of products of values in [-1, 1) grows like √K.
  const scale = Math.max(1, Math.sqrt(K / 16));
  let worst = -Infinity;
  let paddingOk = true;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < rsC; j++) {
      const o = i * rsC + j;
      if (j >= N) {
        paddingOk &&= got[o] === C0[o];
        continue;
      }
      const err = Math.abs(got[o] - want[o]) - (1e-4 + 1e-4 * Math.abs(want[o])) * scale;
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
  }
  return { worst, paddingOk, canaryOk };
}

describe.each(WASM_BACKENDS)('sgemm on %s', (name) => {
  beforeAll(async () => {
    await init({ backend: name });
  });

  it('reports its build', () => {
    expect(backend().k.backend_id()).toBe({ scalar: 0, simd: 1, 'relaxed-simd': 2 }[name as string]);
  });

  it('matches the float64 reference around tile and block edges, all layouts, accumulate 0/1', () => {
    const failures: string[] = [];
    cases().forEach((c, i) => {
      const { worst, paddingOk, canaryOk } = runCase(c, 1000 + i);
      if (worst > 0 || !paddingOk || !canaryOk) {
        failures.push(`M=${c.M} N=${c.N} K=${c.K} A ${c.layoutA} B ${c.layoutB} acc=${c.accumulate}: ` +
          `excess error ${worst}, padding ${paddingOk ? 'ok' : 'CLOBBERED'}, canary ${canaryOk ? 'ok' : 'CLOBBERED'}`);
      }
    });
    expect(failures).toEqual([]);
  });

  it('K = 0 zeroes C when overwriting and leaves it alone when accumulating', () => {
    const { heap, k } = backend();
    const pC = heap.put(new Float32Array([1, 2, 3, 4, 5, 6]));
    k.sgemm(2, 3, 0, 0, 0, 1, 0, 3, 1, pC, 3, 1, 0);
    expect(Array.from(heap.f32(pC, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    k.sgemm(2, 3, 0, 0, 0, 1, 0, 3, 1, pC, 3, 0, 0);
    expect(Array.from(heap.f32(pC, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    heap.release(pC);
  });

  it('computes a hand-worked 2×2 product and its accumulation', () => {
    const { heap, k } = backend();
    // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
    const pA = heap.put(new Float32Array([1, 2, 3, 4]));
    const pB = heap.put(new Float32Array([5, 6, 7, 8]));
    const pC = heap.put(new Float32Array([100, 100, 100, 100]));
    const pS = heap.alloc(k.sgemm_scratch_bytes(2, 2, 2));
    k.sgemm(2, 2, 2, pA, 2, 1, pB, 2, 1, pC, 2, 0, pS);
    expect(Array.from(heap.f32(pC, 4))).toEqual([19, 22, 43, 50]);
    // Aᵀ·B via strides: [1 3; 2 4] · [5 6; 7 8] = [26 30; 38 44], added onto the previous C.
    k.sgemm(2, 2, 2, pA, 1, 2, pB, 2, 1, pC, 2, 1, pS);
    expect(Array.from(heap.f32(pC, 4))).toEqual([45, 52, 81, 94]);
    for (const p of [pA, pB, pC, pS]) heap.release(p);
  });
});
