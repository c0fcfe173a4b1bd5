// 2-D max and average pooling over planes, forward and backward side by side.
//
// Layout: x and dx (NC, H, W), y and dy (NC, Hout, Wout), indices (NC, Hout, Wout) i32, with
// NC = N·C planes. Every output here is OVERWRITTEN (the backward kernels zero dx first, then add
// where windows overlap). The rules are PyTorch's CPU kernels:
//
// Max pooling (dilation dH, dW)
// - Window (oh, ow) covers rows oh·sH − pH + kh·dH (kh < kH), columns likewise; positions outside
//   the input are padding and never win (padding acts as -Infinity).
// - The running maximum starts at -Infinity and the index at the window's first in-bounds element,
//   so an all-negative or all -Infinity window still routes its gradient somewhere.
// - Scanning in row-major window order, a value replaces the maximum when `v > max || v != v`:
//   ties keep the first maximum, a NaN always wins (the last NaN if several).
// - indices hold h·W + w within the element's own plane. A dilated window can lie entirely in the
//   padding; it then yields -Infinity and its start position, which may be outside the plane; the
//   backward ignores indices outside [0, H·W).
//
// Average pooling (no dilation)
// - hstart = oh·sH − pH, hend = min(hstart + kH, H + pH), poolSize = (hend − hstart)·(wend − wstart);
//   then hstart = max(hstart, 0), hend = min(hend, H) (columns likewise) and the sum runs over that
//   clipped window.
// - divisor = countIncludePad ? poolSize : (hend − hstart)·(wend − wstart) after clipping.
// - A window with no in-bounds element yields 0 and receives no gradient.
// - The backward adds dy / divisor to every in-bounds element of the window.
//
// Speed: the outputs of a row whose window lies wholly inside the row ("interior" columns) are
// computed four at a time in the SIMD builds when the stride is 1 or 2; the few border columns and
// other strides take the scalar path; the usual 2×2 stride-2 window has its own unrolled loop
// (max forward, avg backward). The max comparisons are branchless (random data would make every
// branch a coin toss).
import { at, ld, st, zero, blend, sum, addScalar } from './simd';

/** First position start + i·step (i ≥ 0) that is ≥ 0. */
// @ts-ignore: decorator
@inline function firstInBounds(start: i32, step: i32): i32 {
  return start >= 0 ? start : start + (-start + step - 1) / step * step;
}

/** First output column ow whose window start ow·sW − pW is ≥ 0 (clamped to Wout). */
// @ts-ignore: decorator
@inline function interiorStart(Wout: i32, sW: i32, pW: i32): i32 {
  return min(Wout, (pW + sW - 1) / sW);
}

/** One past the last output column whose window end ow·sW − pW + span ≤ W (at least `lo`). */
// @ts-ignore: decorator
@inline function interiorEnd(Wout: i32, W: i32, sW: i32, pW: i32, span: i32, lo: i32): i32 {
  const room = W + pW - span;
  return room < 0 ? lo : max(lo, min(Wout, room / sW + 1));
}

/** Whether four consecutive outputs can be read as one vector: stride 1 or 2. */
// @ts-ignore: decorator
@inline function vectorStride(sW: i32): bool {
  return sW == 1 || sW == 2;
}

/** The four values at p, p + s, p + 2s, p + 3s for s = 1 or 2, reading nothing past the last. */
// @ts-ignore: decorator
@inline function load4(p: usize, s: i32): v128 {
  if (s == 1) return v128.load(p);
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7);
}

/** Lanes where v replaces the running maximum m: v > m, or v is NaN. */
// @ts-ignore: decorator
@inline function wins(v: v128, m: v128): v128 {
  return v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
}

/** An i32 that orders like the float with these bits (−0 and +0 equal); NaNs are handled apart. */
// @ts-ignore: decorator
@inline function orderKey(bits: i32): i32 {
  return (bits ^ ((bits >> 31) & 0x7fffffff)) + (bits >>> 31);
}

/** Scalar max over window rows [h0, h1) step dH, columns [w0, w1) step dW of the plane at xp;
 *  writes the maximum to y and its flat index to idx. The running maximum is compared as an
 *  integer key and chosen with integer selects (cmov): a float compare-and-branch would
 *  mispredict on every other element, and float selects chain through slow GPR↔XMM moves.
 *  A NaN gets the largest key, so no number displaces it and only a later NaN does. */
// @ts-ignore: decorator
@inline function maxWindow(y: usize, idx: usize, xp: usize, W: i32,
  h0: i32, h1: i32, dH: i32, w0: i32, w1: i32, dW: i32): void {
  let bits = 0xff800000 as i32; // -Infinity
  let key = orderKey(bits);
  let index = h0 * W + w0;
  for (let h = h0; h < h1; h += dH) {
    for (let w = w0; w < w1; w += dW) {
      const i = h * W + w;
      const vb = load<i32>(at(xp, i));
      const nan = <i32>(ld(xp, i) != ld(xp, i));
      const vk = select<i32>(i32.MAX_VALUE, orderKey(vb), nan);
      const take = <i32>(vk > key) | nan;
      key = select<i32>(vk, key, take);
      bits = select<i32>(vb, bits, take);
      index = select<i32>(i, index, take);
    }
  }
  store<i32>(y, bits);
  store<i32>(idx, index);
}

export function maxpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  indices: usize, // (NC, Hout, Wout) i32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  const span = (kW - 1) * dW + 1;
  const owA = interiorStart(Wout, sW, pW), owB = interiorEnd(Wout, W, sW, pW, span, owA);
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const hs = oh * sH - pH;
      const h0 = firstInBounds(hs, dH), h1 = min(hs + (kH - 1) * dH + 1, H);
      const o = (p * Hout + oh) * Wout;
      const yRow = at(y, o), iRow = at(indices, o);
      let ow = 0;
      for (; ow < owA; ow++) {
        const ws = ow * sW - pW;
        maxWindow(at(yRow, ow), at(iRow, ow), xp, W, h0, h1, dH, firstInBounds(ws, dW), min(ws + span, W), dW);
      }
      if (ASC_FEATURE_SIMD) {
        if (vectorStride(sW)) {
          const lanes = sW == 1 ? i32x4(0, 1, 2, 3) : i32x4(0, 2, 4, 6);
          if (kH == 2 && kW == 2 && sW == 2 && dH == 1 && dW == 1 && h1 - h0 == 2) {
            // The common 2×2 stride-2 window, both rows inside: each row's four windows are the
            // even/odd lanes of 8 floats, and `take` (−1 where the later element wins) doubles
            // as the index offset.
            for (; ow + 4 <= owB; ow += 4) {
              const i0 = h0 * W + ow * 2 - pW, i1 = i0 + W;
              const a0 = v128.load(at(xp, i0)), b0 = v128.load(at(xp, i0), 16);
              const a1 = v128.load(at(xp, i1)), b1 = v128.load(at(xp, i1), 16);
              const e0 = v128.shuffle<f32>(a0, b0, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, b0, 1, 3, 5, 7);
              const e1 = v128.shuffle<f32>(a1, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(a1, b1, 1, 3, 5, 7);
              const t0 = wins(o0, e0), t1 = wins(o1, e1);
              const m0 = blend(o0, e0, t0), m1 = blend(o1, e1, t1);
              const t = wins(m1, m0);
              const base = i32x4.add(i32x4.splat(i0), lanes);
              const idx0 = i32x4.sub(base, t0), idx1 = i32x4.sub(i32x4.add(base, i32x4.splat(W)), t1);
              v128.store(at(yRow, ow), blend(m1, m0, t));
              v128.store(at(iRow, ow), blend(idx1, idx0, t));
            }
          }
          for (; ow + 4 <= owB; ow += 4) {
            const ws = ow * sW - pW;
            // Each window row is reduced on its own from its first element, then merged into the
            // running result: the rows' chains are independent, and merging an earlier result
            // with a later one by the same rule keeps "first maximum, last NaN".
            let m = f32x4.splat(-Infinity);
            let index = i32x4.add(i32x4.splat(h0 * W + ws), lanes);
            for (let h = h0; h < h1; h += dH) {
              let i = h * W + ws;
              let rm = load4(at(xp, i), sW);
              let ri = i32x4.add(i32x4.splat(i), lanes);
              for (let kw = 1; kw < kW; kw++) {
                i += dW;
                const v = load4(at(xp, i), sW);
                const take = wins(v, rm);
                rm = blend(v, rm, take);
                ri = blend(i32x4.add(i32x4.splat(i), lanes), ri, take);
              }
              const take = wins(rm, m);
              m = blend(rm, m, take);
              index = blend(ri, index, take);
            }
            v128.store(at(yRow, ow), m);
            v128.store(at(iRow, ow), index);
          }
        }
      }
      for (; ow < Wout; ow++) {
        const ws = ow * sW - pW;
        maxWindow(at(yRow, ow), at(iRow, ow), xp, W, h0, h1, dH, firstInBounds(ws, dW), min(ws + span, W), dW);
      }
    }
  }
}

export function maxpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  indices: usize, // (NC, Hout, Wout) i32, from the forward
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32): void {
  const HW = H * W, P = Hout * Wout;
  for (let p = 0; p < NC; p++) {
    // Zeroing plane by plane keeps the plane in cache for the scatter that follows.
    const dxp = at(dx, p * HW), dyp = at(dy, p * P), ip = at(indices, p * P);
    zero(dxp, HW);
    for (let i = 0; i < P; i++) {
      const index = load<i32>(at(ip, i));
      if (<u32>index < <u32>HW) st(dxp, index, ld(dxp, index) + ld(dyp, i));
    }
  }
}

/** The PyTorch divisor of the average window over padded rows [phs, phe) and in-bounds rows
 *  [h0, h1), columns likewise; 0 means the window has no in-bounds element (its output is 0). */
// @ts-ignore: decorator
@inline function avgDivisor(phs: i32, phe: i32, h0: i32, h1: i32, pws: i32, pwe: i32, w0: i32,
  w1: i32, countIncludePad: i32): f32 {
  if (h0 >= h1 || w0 >= w1) return 0;
  return <f32>(countIncludePad ? (phe - phs) * (pwe - pws) : (h1 - h0) * (w1 - w0));
}

/** Scalar sum of x over rows [h0, h1), columns [w0, w1) of the plane at xp. */
// @ts-ignore: decorator
@inline function windowSum(xp: usize, W: i32, h0: i32, h1: i32, w0: i32, w1: i32): f32 {
  let s: f32 = 0;
  for (let h = h0; h < h1; h++) {
    s += sum(at(xp, h * W + w0), w1 - w0);
  }
  return s;
}

export function avgpool2d_forward(y: usize, // (NC, Hout, Wout) f32, overwritten
  x: usize, // (NC, H, W) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  const owA = interiorStart(Wout, sW, pW), owB = interiorEnd(Wout, W, sW, pW, kW, owA);
  for (let p = 0; p < NC; p++) {
    const xp = at(x, p * H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      const yRow = at(y, (p * Hout + oh) * Wout);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        // Interior columns: the window is never clipped horizontally, so one divisor serves them.
        const div = avgDivisor(phs, phe, h0, h1, 0, kW, 0, kW, countIncludePad);
        if (vectorStride(sW) && div != 0) {
          const divs = f32x4.splat(div);
          const pairs = kW == 2 && sW == 2;
          for (ow = owA; ow + 4 <= owB; ow += 4) {
            const ws = ow * sW - pW;
            let s = f32x4.splat(0);
            for (let h = h0; h < h1; h++) {
              const row = at(xp, h * W + ws);
              if (pairs) {
                const a = v128.load(row), b = v128.load(row, 16);
                s = f32x4.add(s, f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7)));
              } else {
                for (let kw = 0; kw < kW; kw++) s = f32x4.add(s, load4(at(row, kw), sW));
              }
            }
            v128.store(at(yRow, ow), f32x4.div(s, divs));
          }
        }
      }
      // Columns the vector loop did not cover: the left border, then from `ow` on.
      const vecStart = ow > 0 ? owA : 0;
      for (let c = 0; c < Wout; c++) {
        if (c >= vecStart && c < ow) continue;
        const pws = c * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        const div = avgDivisor(phs, phe, h0, h1, pws, pwe, w0, w1, countIncludePad);
        st(yRow, c, div == 0 ? 0 : windowSum(xp, W, h0, h1, w0, w1) / div);
      }
    }
  }
}

export function avgpool2d_backward(dx: usize, // (NC, H, W) f32, overwritten
  dy: usize, // (NC, Hout, Wout) f32
  NC: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, countIncludePad: i32): void {
  const owA = interiorStart(Wout, sW, pW), owB = interiorEnd(Wout, W, sW, pW, kW, owA);
  for (let p = 0; p < NC; p++) {
    const dxp = at(dx, p * H * W);
    zero(dxp, H * W);
    for (let oh = 0; oh < Hout; oh++) {
      const phs = oh * sH - pH, phe = min(phs + kH, H + pH);
      const h0 = max(phs, 0), h1 = min(phe, H);
      const dyRow = at(dy, (p * Hout + oh) * Wout);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        // 2-wide windows at stride 2 tile 8 floats per 4 outputs: each share goes to a lane pair.
        const div = avgDivisor(phs, phe, h0, h1, 0, kW, 0, kW, countIncludePad);
        if (kW == 2 && sW == 2 && div != 0) {
          const divs = f32x4.splat(div);
          for (ow = owA; ow + 4 <= owB; ow += 4) {
            const share = f32x4.div(v128.load(at(dyRow, ow)), divs);
            const lo = v128.shuffle<f32>(share, share, 0, 0, 1, 1);
            const hi = v128.shuffle<f32>(share, share, 2, 2, 3, 3);
            const ws = ow * sW - pW;
            for (let h = h0; h < h1; h++) {
              const row = at(dxp, h * W + ws);
              v128.store(row, f32x4.add(v128.load(row), lo));
              v128.store(row, f32x4.add(v128.load(row, 16), hi), 16);
            }
          }
        }
      }
      const vecStart = ow > 0 ? owA : 0;
      for (let c = 0; c < Wout; c++) {
        if (c >= vecStart && c < ow) continue;
        const pws = c * sW - pW, pwe = min(pws + kW, W + pW);
        const w0 = max(pws, 0), w1 = min(pwe, W);
        const div = avgDivisor(phs, phe, h0, h1, pws, pwe, w0, w1, countIncludePad);
        if (div == 0) continue;
        const share = ld(dyRow, c) / div;
        for (let h = h0; h < h1; h++) addScalar(at(dxp, h * W + w0), share, w1 - w0);
      }
    }
  }
}
