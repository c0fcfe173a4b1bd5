// The row kernels of depthwise convolutions on a split plane, read through tap offsets as
// depthwise.ts's header says (SIMD builds; depthwise.ts chooses the kernel): forwardPlane keeps 16
// (then 8, then 4) outputs of a row in registers over all taps, filterTaps 4 taps' sums over a whole
// plane of dy (filterTapsPair: for two output channels at once), inputPlane adds each tap's w·dy
// into a zeroed split plane of dx.
import { needsSplit, splitInput } from './im2col';
import { at, ld, st, madd } from './simd';

/** Whether the SIMD row kernels apply: a SIMD build and rows of at least one vector. */
// @ts-ignore: decorator
@inline export function depthwiseRows(Wout: i32): bool {
  return ASC_FEATURE_SIMD && Wout >= 4;
}

/** Byte offset of tap t from the table at offs. */
// @ts-ignore: decorator
@inline export function tapAt(offs: usize, t: i32): usize {
  return <usize>load<i32>(offs + (<usize>t << 2));
}

/** Lanes ≥ 4 − rem set: the `rem` lanes of an overlapping last group that are new. */
// @ts-ignore: decorator
@inline export function newLanes(rem: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(4 - rem));
}

/** The split of the plane xp (H, W) at buf (im2col.ts's layout, one plane), or xp itself when the
 *  geometry needs none. One plane at a time, so that it is still in L1 while its taps read it;
 *  `padded` once buf holds an earlier plane's split (its padding zeros stay). */
export function splitPlane(buf: usize, xp: usize, H: i32, W: i32, sW: i32, pH: i32, pW: i32, padded: bool): usize {
  if (!needsSplit(sW, pH, pW)) return xp;
  splitInput(buf, xp, 1, H, W, sW, pH, pW, padded);
  return buf;
}

/** 16 outputs at d = bias b + the T taps (weights wc, offsets offs) from p. */
// @ts-ignore: decorator
@inline export function forward16(d: usize, p: usize, wc: usize, b: v128, offs: usize, T: i32): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = 0; t < T; t++) {
    const q = p + tapAt(offs, t), wt = v128.load32_splat(wc + (<usize>t << 2));
    a0 = madd(wt, v128.load(q), a0);
    a1 = madd(wt, v128.load(q, 16), a1);
    a2 = madd(wt, v128.load(q, 32), a2);
    a3 = madd(wt, v128.load(q, 48), a3);
  }
  v128.store(d, a0);
  v128.store(d, a1, 16);
  v128.store(d, a2, 32);
  v128.store(d, a3, 48);
}

/** One output plane yp = bias + the T taps (weights wc) of the split plane xp. */
export function forwardPlane(yp: usize, xp: usize, wc: usize, bias: f32, offs: usize, Hout: i32, Wout: i32,
  T: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const b = f32x4.splat(bias);
    for (let oh = 0; oh < Hout; oh++) {
      const base = at(xp, oh * sH * row), yRow = at(yp, oh * Wout);
      let ow = 0;
      for (; ow + 16 <= Wout; ow += 16) forward16(at(yRow, ow), at(base, ow), wc, b, offs, T);
      if (ow > 0 && Wout - ow > 8) {
        // 9 to 15 left: one more group of 16, overlapping the one before (the same values again),
        // rather than groups of 8 and 4 whose few chains of dependent adds bound them.
        forward16(at(yRow, Wout - 16), at(base, Wout - 16), wc, b, offs, T);
        ow = Wout;
      }
      if (ow + 8 <= Wout) {
        let a0 = b, a1 = b;
        const p = at(base, ow);
        for (let t = 0; t < T; t++) {
          const q = p + tapAt(offs, t), wt = v128.load32_splat(wc + (<usize>t << 2));
          a0 = madd(wt, v128.load(q), a0);
          a1 = madd(wt, v128.load(q, 16), a1);
        }
        const d = at(yRow, ow);
        v128.store(d, a0);
        v128.store(d, a1, 16);
        ow += 8;
      }
      for (; ow < Wout; ow += 4) {
        const o = min(ow, Wout - 4), p = at(base, o);
        let a = b;
        for (let t = 0; t < T; t++) a = madd(v128.load32_splat(wc + (<usize>t << 2)), v128.load(p + tapAt(offs, t)), a);
        v128.store(at(yRow, o), a);
      }
    }
  }
}

/** Byte offset of tap t0 + i of a group of `count` taps (count ≤ 4), the last one again past it. */
// @ts-ignore: decorator
@inline function groupTap(offs: usize, t0: i32, i: i32, count: i32): usize {
  return tapAt(offs, t0 + min(i, count - 1));
}

/** acc + (a · b, in the lanes set in mask): an overlapping last group's new lanes, masked after the
 *  product so that a non-finite tap in a lane already counted adds nothing twice. */
// @ts-ignore: decorator
@inline export function maddNew(a: v128, b: v128, acc: v128, mask: v128): v128 {
  return f32x4.add(acc, v128.and(f32x4.mul(a, b), mask));
}

/** dwc[t0 .. t0 + count) (count ≤ 4) += Σ over the plane of dy · tap, for one (image, channel). */
export function filterTaps(dwc: usize, dyp: usize, xp: usize, offs: usize, t0: i32, count: i32, Hout: i32,
  Wout: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const o0 = groupTap(offs, t0, 0, count), o1 = groupTap(offs, t0, 1, count);
    const o2 = groupTap(offs, t0, 2, count), o3 = groupTap(offs, t0, 3, count);
    const tail = Wout & 3, mask = newLanes(tail);
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let oh = 0; oh < Hout; oh++) {
      const d = at(dyp, oh * Wout), base = at(xp, oh * sH * row);
      let ow = 0;
      for (; ow + 4 <= Wout; ow += 4) {
        const v = v128.load(at(d, ow)), p = at(base, ow);
        a0 = madd(v, v128.load(p + o0), a0);
        a1 = madd(v, v128.load(p + o1), a1);
        a2 = madd(v, v128.load(p + o2), a2);
        a3 = madd(v, v128.load(p + o3), a3);
      }
      if (tail) {
        // The last 4 positions again, only the lanes not yet counted.
        const o = Wout - 4, v = v128.load(at(d, o)), p = at(base, o);
        a0 = maddNew(v, v128.load(p + o0), a0, mask);
        a1 = maddNew(v, v128.load(p + o1), a1, mask);
        a2 = maddNew(v, v128.load(p + o2), a2, mask);
        a3 = maddNew(v, v128.load(p + o3), a3, mask);
      }
    }
    addLanes(dwc, t0, a0);
    if (count > 1) addLanes(dwc, t0 + 1, a1);
    if (count > 2) addLanes(dwc, t0 + 2, a2);
    if (count > 3) addLanes(dwc, t0 + 3, a3);
  }
}

/** filterTaps for two output channels that read the same input plane: dwc and the T floats after
 *  it, dy planes dyp and dyp + dq bytes. Each tap's 4 floats are loaded once for both, and the loop
 *  runs on the dy pointer with x addressed from it (one add per step instead of three). Kernels
 *  alone (simd, A/B minima): LeNet's first layer (64 images, 1 -> 6 channels, 28x28, 5x5) 0.60 ->
 *  0.41 ms; C2 (1 -> 8) 0.71 -> 0.55. The same loop on filterTaps made D1 and D2 2-12% slower. */
export function filterTapsPair(dwc: usize, T: i32, dyp: usize, dq: usize, xp: usize, offs: usize, t0: i32,
  count: i32, Hout: i32, Wout: i32, sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const o0 = groupTap(offs, t0, 0, count), o1 = groupTap(offs, t0, 1, count);
    const o2 = groupTap(offs, t0, 2, count), o3 = groupTap(offs, t0, 3, count);
    const tail = Wout & 3, mask = newLanes(tail), full = <usize>(Wout & ~3) << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (let oh = 0; oh < Hout; oh++) {
      const d = at(dyp, oh * Wout), xd = at(xp, oh * sH * row) - d;
      for (let q = d, end = d + full; q < end; q += 16) {
        const u = v128.load(q), v = v128.load(q + dq), p = q + xd;
        let x = v128.load(p + o0);
        a0 = madd(u, x, a0); b0 = madd(v, x, b0);
        x = v128.load(p + o1);
        a1 = madd(u, x, a1); b1 = madd(v, x, b1);
        x = v128.load(p + o2);
        a2 = madd(u, x, a2); b2 = madd(v, x, b2);
        x = v128.load(p + o3);
        a3 = madd(u, x, a3); b3 = madd(v, x, b3);
      }
      if (tail) {
        const q = at(d, Wout - 4), u = v128.load(q), v = v128.load(q + dq), p = q + xd;
        let x = v128.load(p + o0);
        a0 = maddNew(u, x, a0, mask); b0 = maddNew(v, x, b0, mask);
        x = v128.load(p + o1);
        a1 = maddNew(u, x, a1, mask); b1 = maddNew(v, x, b1, mask);
        x = v128.load(p + o2);
        a2 = maddNew(u, x, a2, mask); b2 = maddNew(v, x, b2, mask);
        x = v128.load(p + o3);
        a3 = maddNew(u, x, a3, mask); b3 = maddNew(v, x, b3, mask);
      }
    }
    const dwd = at(dwc, T);
    addLanes(dwc, t0, a0); addLanes(dwd, t0, b0);
    if (count > 1) { addLanes(dwc, t0 + 1, a1); addLanes(dwd, t0 + 1, b1); }
    if (count > 2) { addLanes(dwc, t0 + 2, a2); addLanes(dwd, t0 + 2, b2); }
    if (count > 3) { addLanes(dwc, t0 + 3, a3); addLanes(dwd, t0 + 3, b3); }
  }
}

/** dw[t] += the sum of a's lanes. */
// @ts-ignore: decorator
@inline export function addLanes(dw: usize, t: i32, a: v128): void {
  st(dw, t, ld(dw, t) + (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) +
    f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)));
}

/** The split plane xp (zeroed) += each tap's wc[t] · dy over the output plane dyp. */
export function inputPlane(xp: usize, dyp: usize, wc: usize, offs: usize, Hout: i32, Wout: i32, T: i32,
  sH: i32, row: i32): void {
  if (ASC_FEATURE_SIMD) {
    const tail = Wout & 3, mask = newLanes(tail);
    // Tap by tap over the plane: the 4-float runs one tap adds to never overlap each other.
    for (let t = 0; t < T; t++) {
      const wt = v128.load32_splat(wc + (<usize>t << 2)), off = tapAt(offs, t);
      for (let oh = 0; oh < Hout; oh++) {
        const d = at(dyp, oh * Wout), base = at(xp, oh * sH * row) + off;
        let ow = 0;
        for (; ow + 4 <= Wout; ow += 4) {
          const p = at(base, ow);
          v128.store(p, madd(wt, v128.load(at(d, ow)), v128.load(p)));
        }
        if (tail) {
          const p = at(base, Wout - 4);
          v128.store(p, f32x4.add(v128.load(p), v128.and(f32x4.mul(wt, v128.load(at(d, Wout - 4))), mask)));
        }
      }
    }
  }
}
