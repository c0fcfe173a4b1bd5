// im2col as GEMM packers, and col2im: the reshapings that turn a convolution into one GEMM.
//
// For one group with C input channels (Cin / groups), P = Hout·Wout positions and the batch folded
// in, the convolution's column matrix has one row per tap r = (c·kH + kh)·kW + kw and one column
// per (image n, position p = oh·Wout + ow); element (r, n·P + p) is
//   x[n, c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW], or 0 where that falls in the padding.
// It is never stored whole. `packIm2col` writes a block of it straight into the GEMM's packed-B
// panels (forward: B = col), `packIm2colT` a block of its transpose (filter gradient: B = colᵀ,
// whose rows are positions; a block of them never straddles two images, as gemm guarantees when
// aBlock = P). Both read the geometry from a ConvInput descriptor (gemm's PackB contract). In SIMD
// builds, packIm2col leaves panels whose 8 positions lie in one output row unpacked: gemm reads
// them through the table of tap offsets (`tapOffsets`) from a zero-padded copy of x split by
// column phase (`splitInput`), in which every such panel is 8 consecutive floats per tap; and
// packIm2colT transposes its panels from that copy, 4 positions of 8 taps at a time.
// col2im ADDS each element of a stored (C·kH·kW, ≥ P) column block (row stride rsCol) into the x
// position it came from (padding positions are dropped), so the caller zeroes x first.
//
// Each (tap, output row) pair reads one run of input columns; the in-bounds part of a run is one
// interval [lo, hi) of ow, found once. SIMD builds move runs 4 lanes at a time for strides 1 and 2.
import { packTransposed, storeTransposed, transposeColumn, noSources } from './gemm-core';
import { NR } from './gemm-tiles';
import { at, ld, st, zero, copy, storeInterleaved, evens, odds } from './simd';

/** First output o with o·s + off ≥ 0, clamped to [0, n]. */
// @ts-ignore: decorator
@inline export function firstInside(n: i32, s: i32, off: i32): i32 {
  return off >= 0 ? 0 : min(n, (s - 1 - off) / s);
}

/** First output o ≥ lo with o·s + off ≥ len (out of range at the far end), clamped to [lo, n]. */
// @ts-ignore: decorator
@inline export function firstPast(n: i32, s: i32, off: i32, len: i32, lo: i32): i32 {
  const d = len - off;
  return d <= 0 ? lo : max(lo, min(n, (d + s - 1) / s));
}

/** The input of one convolution group, kept in scratch for the packers. */
@unmanaged export class ConvInput {
  x: usize; // channel 0 of the group in image 0
  imageStride: i32; // floats between images: Cin·H·W
  C: i32; H: i32; W: i32; Hout: i32; Wout: i32; kH: i32; kW: i32;
  sH: i32; sW: i32; pH: i32; pW: i32; dH: i32; dW: i32;
  tmp: usize; // SIMD: the tap offsets (tapOffsets); scalar: 0, or packIm2colT's NR·KC floats
  // SIMD: where the packers read directly, channel 0 of the group in image 0 of the split input
  // (splitInput), its floats between images and per padded input row; 0 in the scalar build.
  xs: usize; xsImage: i32; xsRow: i32;
}

export function convInput(desc: usize, tmp: usize, x: usize, imageStride: i32, C: i32, H: i32,
  W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32,
  dW: i32): usize {
  const g = changetype<ConvInput>(desc);
  g.x = x; g.imageStride = imageStride; g.C = C; g.H = H; g.W = W; g.Hout = Hout; g.Wout = Wout;
  g.kH = kH; g.kW = kW; g.sH = sH; g.sW = sW; g.pH = pH; g.pW = pW; g.dH = dH; g.dW = dW;
  g.tmp = tmp;
  g.xs = 0; g.xsImage = 0; g.xsRow = 0;
  return desc;
}

/** Gives the packers their direct reads: the split input's group at xs, its image and row strides. */
export function directPanels(desc: usize, xs: usize, xsImage: i32, xsRow: i32): usize {
  const g = changetype<ConvInput>(desc);
  g.xs = xs; g.xsImage = xsImage; g.xsRow = xsRow;
  return desc;
}

/** x[img, c, ih, iw] for an in-range ih, or 0 when iw is out of [0, W). */
// @ts-ignore: decorator
@inline function pixel(row: usize, iw: i32, W: i32): f32 {
  return <u32>iw < <u32>W ? ld(row, iw) : 0;
}

/** Four lanes iw, iw+s, iw+2s, iw+3s of an input row, all in range, s = 1 or 2. */
// @ts-ignore: decorator
@inline function load4(row: usize, iw: i32, s: i32): v128 {
  const p = at(row, iw);
  if (s == 1) return v128.load(p);
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7);
}

/** Lanes 0..len of rows k0..k0+kc of a panel (row stride NR floats) for one run of positions:
 *  image `img`, output row oh, columns ow..ow+len. Taps go (c, kh) by (c, kh): each such pair
 *  reads one input row, checked once, at kW offsets. */
function im2colRun(dst: usize, g: ConvInput, img: usize, oh: i32, ow: i32, len: i32, k0: i32, kc: i32): void {
  const kW = g.kW, taps = g.kH * kW, H = g.H, W = g.W, sW = g.sW, dW = g.dW;
  const iwBase = ow * sW - g.pW;
  let c = k0 / taps, kh = (k0 - c * taps) / kW, kw = k0 - c * taps - kh * kW;
  for (let k = 0; k < kc;) {
    const n = min(kW - kw, kc - k);
    const ih = oh * g.sH - g.pH + kh * g.dH;
    let d = at(dst, k * NR);
    if (<u32>ih >= <u32>H) {
      for (let t = 0; t < n; t++) for (let q = 0; q < len; q++) st(d, t * NR + q, 0);
    } else {
      const row = at(img, (c * H + ih) * W);
      for (let t = 0; t < n; t++) {
        const iw0 = iwBase + (kw + t) * dW;
        let q = 0;
        if (ASC_FEATURE_SIMD) {
          if (sW <= 2) {
            for (; q + 4 <= len; q += 4) {
              const iw = iw0 + q * sW;
              if (iw >= 0 && iw + 3 * sW < W) {
                v128.store(at(d, q), load4(row, iw, sW));
              } else {
                for (let i = q; i < q + 4; i++) st(d, i, pixel(row, iw0 + i * sW, W));
              }
            }
          }
        }
        for (; q < len; q++) st(d, q, pixel(row, iw0 + q * sW, W));
        d = at(d, NR);
      }
    }
    k += n;
    kw = 0;
    if (++kh == g.kH) { kh = 0; c++; }
  }
}

// The split input. With stride sW, the 8 positions of a panel read every sW-th float of an input
// row, and near the borders some of them fall in the padding. `splitInput` therefore copies x
// once, padded with zeros (Hp = H + 2pH rows) and each padded row of W + 2pW floats split into sW
// phase rows of Wq = ⌈(W + 2pW) / sW⌉ floats, phase φ holding padded columns φ, φ + sW, ...:
//   xs[plane, h, φ, j] = x[plane, h − pH, j·sW + φ − pW], or 0 in the padding.
// Then tap (c, kh, kw) of the positions ow..ow+7 of output row oh is the 8 consecutive floats at
// row (c·Hp + oh·sH + kh·dH, φ = kw·dW mod sW), from j = ow + ⌊kw·dW / sW⌋: a panel within one
// output row can always be read in place. Unpadded stride-1 input is its own split (x as is).

/** Whether the convolution needs a split copy of x for its direct panels. */
// @ts-ignore: decorator
@inline export function needsSplit(sW: i32, pH: i32, pW: i32): bool {
  return sW != 1 || pH != 0 || pW != 0;
}

/** Floats per padded input row of the split input: sW phase rows of ⌈(W + 2pW) / sW⌉. */
// @ts-ignore: decorator
@inline export function splitRow(W: i32, sW: i32, pW: i32): i32 {
  return (W + 2 * pW + sW - 1) / sW * sW;
}

/** Where padded column c lies in a split row: its phase's part (c mod sW, each Wq floats), then
 *  its index there. */
// @ts-ignore: decorator
@inline function splitColumn(c: i32, sW: i32, Wq: i32): i32 {
  return c % sW * Wq + c / sW;
}

/** Writes the split input of `planes` planes (H, W) of x to xs (layout above). With `padded`, xs
 *  already holds the zeros of this geometry's padding (an earlier split of as many planes or more
 *  into the same buffer), and only the inside is written: in the stride-2 depthwise forward, the
 *  zeroing of each row's few padding floats took 15% of the kernel. */
export function splitInput(xs: usize, x: usize, planes: i32, H: i32, W: i32, sW: i32, pH: i32, pW: i32,
  padded: bool): void {
  const row = splitRow(W, sW, pW), Wq = row / sW, Hp = H + 2 * pH;
  for (let p = 0; p < planes; p++) {
    const src = at(x, p * H * W), dst = at(xs, p * Hp * row);
    if (!padded) {
      zero(dst, pH * row);
      zero(at(dst, (pH + H) * row), pH * row);
    }
    if (ASC_FEATURE_SIMD && sW == 2) {
      // Both phases in one pass over each input row: of 8 input floats the even ones go to one
      // phase row and the odd ones to the other (mergeSplit's inverse). Input column c is padded
      // column c + pW.
      const e = splitColumn(pW, 2, Wq), o = splitColumn(pW + 1, 2, Wq);
      const lo0 = firstInside(Wq, 2, -pW), hi0 = firstPast(Wq, 2, -pW, W, lo0);
      const lo1 = firstInside(Wq, 2, 1 - pW), hi1 = firstPast(Wq, 2, 1 - pW, W, lo1);
      for (let h = 0; h < H; h++) {
        const d = at(dst, (pH + h) * row), r = at(src, h * W);
        if (!padded) {
          zero(d, lo0);
          zero(at(d, hi0), Wq - hi0);
          zero(at(d, Wq), lo1);
          zero(at(d, Wq + hi1), Wq - hi1);
        }
        let c = 0;
        for (; c + 8 <= W; c += 8) {
          const v0 = v128.load(at(r, c)), v1 = v128.load(at(r, c), 16);
          v128.store(at(d, e + (c >> 1)), evens(v0, v1));
          v128.store(at(d, o + (c >> 1)), odds(v0, v1));
        }
        for (; c < W; c++) st(d, ((c & 1) ? o : e) + (c >> 1), ld(r, c));
      }
      continue;
    }
    for (let phase = 0; phase < sW; phase++) {
      // Phase rows hold input columns j·sW + off for j in [lo, hi), zeros around them.
      const off = phase - pW;
      const lo = firstInside(Wq, sW, off), hi = firstPast(Wq, sW, off, W, lo);
      for (let h = 0; h < H; h++) {
        const dp = at(dst, (pH + h) * row + phase * Wq);
        if (!padded) {
          zero(dp, lo);
          zero(at(dp, hi), Wq - hi);
        }
        gather(at(dp, lo), at(src, h * W + off), lo, hi, sW);
      }
    }
  }
}

/** x (planes, H, W) = the inside of the split image xs (layout above), dropping its padding:
 *  the inverse of splitInput, for the input gradient that was accumulated into xs. */
export function mergeSplit(x: usize, xs: usize, planes: i32, H: i32, W: i32, sW: i32, pH: i32, pW: i32): void {
  const row = splitRow(W, sW, pW), Wq = row / sW, Hp = H + 2 * pH;
  for (let p = 0; p < planes; p++) {
    for (let h = 0; h < H; h++) {
      const s = at(xs, (p * Hp + pH + h) * row), d = at(x, (p * H + h) * W);
      if (sW == 1) {
        copy(d, at(s, pW), W);
        continue;
      }
      let w = 0;
      if (ASC_FEATURE_SIMD) {
        if (sW == 2) {
          // Outputs w, w + 1 (w even) come from the two phases, at the same lane.
          const pa = at(s, splitColumn(pW, 2, Wq)), pb = at(s, splitColumn(pW + 1, 2, Wq));
          for (; w + 8 <= W; w += 8) {
            const va = v128.load(at(pa, w >> 1)), vb = v128.load(at(pb, w >> 1));
            storeInterleaved(at(d, w), va, vb);
          }
        }
      }
      for (; w < W; w++) st(d, w, ld(s, splitColumn(w + pW, sW, Wq)));
    }
  }
}

/** The tap offsets into the split input, shared by the three GEMMs: table[r] = byte offset of tap
 *  r = (c, kh, kw) from the first float its window's top-left position reads, for the C channels
 *  of a group of the split input of a (H, W) image. */
export function tapOffsets(table: usize, C: i32, H: i32, W: i32, kH: i32, kW: i32, sW: i32, pH: i32,
  pW: i32, dH: i32, dW: i32): void {
  const row = splitRow(W, sW, pW), Wq = row / sW, Hp = H + 2 * pH;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const col = kw * dW;
        store<i32>(table + (<usize>r << 2), ((c * Hp + kh * dH) * row + splitColumn(col, sW, Wq)) << 2);
        r++;
      }
    }
  }
}

/** Lanes 0..len (< NR) of kc rows of a panel: for each tap, `len` consecutive floats of the split
 *  input at xs + its offset (offs[k], bytes). A panel straddling two output rows is two such runs. */
function splitRun(dst: usize, xs: usize, offs: usize, len: i32, kc: i32): void {
  for (let k = 0; k < kc; k++) {
    const s = xs + <usize>load<i32>(offs + (<usize>k << 2)), d = at(dst, k * NR);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      if (len >= 4) {
        v128.store(d, v128.load(s));
        i = 4;
      }
    }
    for (; i < len; i++) st(d, i, ld(s, i));
  }
}

/** PackB of the column matrix: rows (taps) k0..k0+kc, columns (n·P + p) j0..j0+nc. In SIMD
 *  builds, a panel of 8 positions in one output row is not copied: the microkernel reads it from
 *  the split input (g.xs) through the tap offsets (g.tmp); other panels are copied from there. */
export function packIm2col(dst: usize, srcs: usize, desc: usize, k0: i32, kc: i32, j0: i32, nc: i32): usize {
  const g = changetype<ConvInput>(desc);
  const Wout = g.Wout, Hout = g.Hout;
  const direct = ASC_FEATURE_SIMD && g.xs != 0;
  // Position (n, oh, ow) of column j0, then stepped along with the columns (no division per panel).
  let n = j0 / (Hout * Wout), oh = (j0 - n * Hout * Wout) / Wout, ow = j0 - (n * Hout + oh) * Wout;
  let any = false;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const src = srcs + (<usize>(j / NR) << 2);
    store<usize>(src, 0);
    // A panel's 8 columns are one run of positions or several (at output row or image edges).
    for (let q = 0; q < cols;) {
      const len = min(cols - q, Wout - ow);
      const xs = at(g.xs, n * g.xsImage + oh * g.sH * g.xsRow + ow);
      if (direct && len == NR) {
        store<usize>(src, xs);
        any = true;
      } else if (direct) {
        splitRun(at(dst, q), xs, g.tmp + (<usize>k0 << 2), len, kc);
      } else {
        im2colRun(at(dst, q), g, at(g.x, n * g.imageStride), oh, ow, len, k0, kc);
      }
      q += len;
      ow += len;
      if (ow == Wout) {
        ow = 0;
        if (++oh == Hout) {
          oh = 0;
          n++;
        }
      }
    }
    dst = at(dst, kc * NR);
  }
  return any ? g.tmp + (<usize>k0 << 2) : 0;
}

/** d[i] = row[(o0 + i)·s] for o0 ≤ o0 + i < o1, every read in range. */
// @ts-ignore: decorator
@inline function gather(d: usize, row: usize, o0: i32, o1: i32, s: i32): void {
  let o = o0;
  if (ASC_FEATURE_SIMD) {
    if (s <= 2) for (; o + 4 <= o1; o += 4) v128.store(at(d, o - o0), load4(row, o * s, s));
  }
  for (; o < o1; o++) st(d, o - o0, ld(row, o * s));
}

/** Row `r` (one tap) of the column matrix over positions p0..p0+len of image `img`: d[0..len). */
function tapRun(d: usize, g: ConvInput, img: usize, r: i32, p0: i32, len: i32): void {
  const taps = g.kH * g.kW, Wout = g.Wout, H = g.H, W = g.W, sW = g.sW;
  const c = r / taps, kh = (r - c * taps) / g.kW, kw = r - c * taps - kh * g.kW;
  const offH = kh * g.dH - g.pH, offW = kw * g.dW - g.pW;
  const lo = firstInside(Wout, sW, offW), hi = firstPast(Wout, sW, offW, W, lo);
  // Output row by output row: zeros outside [lo, hi), the input row's run inside it.
  let oh = p0 / Wout, ow = p0 - oh * Wout, ih = oh * g.sH + offH;
  let row = at(img, (c * H + ih) * W + offW);
  const rowStep = <usize>(g.sH * W) << 2;
  for (let k = 0; k < len;) {
    const n = min(len - k, Wout - ow);
    if (<u32>ih >= <u32>H) {
      zero(d, n);
    } else if (lo == 0 && hi == Wout) {
      gather(d, row, ow, ow + n, sW);
    } else {
      const a = min(max(ow, lo), ow + n), b = max(a, min(ow + n, hi));
      zero(d, a - ow);
      gather(at(d, a - ow), row, a, b, sW);
      zero(at(d, b - ow), ow + n - b);
    }
    d = at(d, n);
    k += n;
    ow = 0;
    ih += g.sH;
    row += rowStep;
  }
}

/** PackB of the transposed column matrix: rows (positions n·P + p) k0..k0+kc, all in one image,
 *  columns (taps) j0..j0+nc. In SIMD builds each panel is transposed straight from the split input
 *  (`panelT`); otherwise each tap's run of positions is gathered into g.tmp (NR rows of kc), then
 *  transposed into the panel. */
export function packIm2colT(dst: usize, srcs: usize, desc: usize, k0: i32, kc: i32, j0: i32, nc: i32): usize {
  const g = changetype<ConvInput>(desc);
  noSources(srcs, nc);
  const P = g.Hout * g.Wout, n = k0 / P;
  if (ASC_FEATURE_SIMD) {
    const img = at(g.xs, n * g.xsImage);
    for (let j = 0; j < nc; j += NR) {
      panelT(dst, g, img, g.tmp + (<usize>(j0 + j) << 2), min(NR, nc - j), k0 - n * P, kc);
      dst = at(dst, kc * NR);
    }
    return 0;
  }
  const img = at(g.x, n * g.imageStride);
  for (let j = 0; j < nc; j += NR) {
    for (let q = 0; q < NR; q++) {
      const row = at(g.tmp, q * kc);
      if (j + q < nc) tapRun(row, g, img, j0 + j + q, k0 - n * P, kc);
      else zero(row, kc);
    }
    packTransposed(dst, g.tmp, kc, kc);
    dst = at(dst, kc * NR);
  }
  return 0;
}

/** One panel of packIm2colT from the split input of image `img`: positions p0..p0+kc (rows),
 *  `cols` taps whose byte offsets start at `offs` (columns; the rest zero). Within an output row
 *  a tap's positions are consecutive floats of the split input, so 4 positions of 8 taps are
 *  8 vector loads and one register transpose. */
function panelT(dst: usize, g: ConvInput, img: usize, offs: usize, cols: i32, p0: i32, kc: i32): void {
  // Missing taps (past nc) read tap 0's floats: gemm drops their products.
  const o0 = <usize>load<i32>(offs);
  const o1 = cols > 1 ? <usize>load<i32>(offs, 4) : o0, o2 = cols > 2 ? <usize>load<i32>(offs, 8) : o0;
  const o3 = cols > 3 ? <usize>load<i32>(offs, 12) : o0, o4 = cols > 4 ? <usize>load<i32>(offs, 16) : o0;
  const o5 = cols > 5 ? <usize>load<i32>(offs, 20) : o0, o6 = cols > 6 ? <usize>load<i32>(offs, 24) : o0;
  const o7 = cols > 7 ? <usize>load<i32>(offs, 28) : o0;
  const half = cols <= 4; // only lanes 0..3 of each row matter
  const Wout = g.Wout, rowStep = <usize>(g.sH * g.xsRow) << 2;
  let oh = p0 / Wout, ow = p0 - oh * Wout;
  let row = at(img, oh * g.sH * g.xsRow);
  let d = dst;
  for (let k = 0; k < kc;) {
    const len = min(kc - k, Wout - ow);
    let p = at(row, ow), i = 0;
    if (half) {
      for (; i + 4 <= len; i += 4) {
        const v0 = v128.load(p + o0), v1 = v128.load(p + o1), v2 = v128.load(p + o2), v3 = v128.load(p + o3);
        v128.store(d, transposeColumn(v0, v1, v2, v3, 0));
        v128.store(d, transposeColumn(v0, v1, v2, v3, 1), 32);
        v128.store(d, transposeColumn(v0, v1, v2, v3, 2), 64);
        v128.store(d, transposeColumn(v0, v1, v2, v3, 3), 96);
        p += 16;
        d += NR << 4;
      }
    } else {
      for (; i + 4 <= len; i += 4) {
        storeTransposed(d, v128.load(p + o0), v128.load(p + o1), v128.load(p + o2), v128.load(p + o3),
          v128.load(p + o4), v128.load(p + o5), v128.load(p + o6), v128.load(p + o7));
        p += 16;
        d += NR << 4;
      }
    }
    for (; i < len; i++) {
      for (let q = 0; q < cols; q++) {
        store<f32>(d + (<usize>q << 2), load<f32>(p + <usize>load<i32>(offs + (<usize>q << 2))));
      }
      p += 4;
      d += NR << 2;
    }
    k += len;
    ow = 0;
    row += rowStep;
  }
}

/** dst[i] += src[i] for i < n: inlined, since col2im's runs are often a single output row of 8. */
// @ts-ignore: decorator
@inline function addRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  }
  for (; i < n; i++) st(dst, i, ld(dst, i) + ld(src, i));
}

export function col2im(x: usize, // (C, H, W) f32: one image, one group; added into
  col: usize, // (C·kH·kW, ≥ Hout·Wout) f32, row stride rsCol
  rsCol: i32, C: i32, H: i32, W: i32, Hout: i32, Wout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32): void {
  for (let c = 0; c < C; c++) {
    const xc = at(x, c * H * W);
    for (let kh = 0; kh < kH; kh++) {
      const offH = kh * dH - pH;
      const ohLo = firstInside(Hout, sH, offH), ohHi = firstPast(Hout, sH, offH, H, ohLo);
      for (let kw = 0; kw < kW; kw++) {
        const row = at(col, ((c * kH + kh) * kW + kw) * rsCol);
        const offW = kw * dW - pW;
        const owLo = firstInside(Wout, sW, offW), owHi = firstPast(Wout, sW, offW, W, owLo);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = at(row, oh * Wout);
          const dst = at(xc, (oh * sH + offH) * W + offW);
          if (sW == 1) {
            addRun(at(dst, owLo), at(src, owLo), owHi - owLo);
          } else {
            let ow = owLo;
            if (ASC_FEATURE_SIMD) {
              if (sW == 2) {
                // 4 col values into every other float of 8: interleave them with zeros. The 8th
                // float (index 2·ow + 7) is read and written back unchanged, so it must exist.
                for (; ow + 4 <= owHi && (ow + 3) * 2 + 1 + offW < W; ow += 4) {
                  const v = v128.load(at(src, ow)), z = f32x4.splat(0), d = at(dst, ow * 2);
                  v128.store(d, f32x4.add(v128.load(d), v128.shuffle<f32>(v, z, 0, 4, 1, 4)));
                  v128.store(d, f32x4.add(v128.load(d, 16), v128.shuffle<f32>(v, z, 2, 4, 3, 4)), 16);
                }
              }
            }
            for (; ow < owHi; ow++) st(dst, ow * sW, ld(dst, ow * sW) + ld(src, ow));
          }
        }
      }
    }
  }
}
