// Buffers inside one WebAssembly.Memory. The host owns the memory (the modules import it), hands
// out 16-byte aligned offsets, and grows the memory when it must. Growth detaches every view made
// before it, so views are made at the moment of use and never kept across a call that may allocate.
import { ShapeError } from '../errors.js';

const ALIGN = 16;
const PAGE = 65536;
/** 65536 pages of 64 KiB: all that a 32-bit WebAssembly memory can hold. */
export const MAX_MEMORY_BYTES = 2 ** 32;

/** `n` rounded up to the heap's 16-byte alignment (SIMD loads, and the plan's slots). */
export const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks, sorted by offset, coalesced. */
  private free: { offset: number; bytes: number }[] = [];
  private used = new Map<number, number>();
  private top: number;
  /** The largest `top` ever reached: what this heap has needed at its peak. */
  highWater: number;

  /** `base` is the first byte the heap may use: where a module's static data ends (its lookup
   *  tables for exp and log live below it). Offset 0 means "no buffer" in the kernel ABI, so the
   *  heap never starts there. */
  constructor(memory: WebAssembly.Memory, base = 0) {
    this.memory = memory;
    this.top = this.highWater = alignUp(Math.max(base, ALIGN));
  }

  /** Bytes currently allocated. */
  get allocatedBytes(): number {
    let sum = 0;
    for (const b of this.used.values()) sum += b;
    return sum;
  }

  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < size) continue;
      const offset = block.offset;
      if (block.bytes === size) this.free.splice(i, 1);
      else {
        block.offset += size;
        block.bytes -= size;
      }
      this.used.set(offset, size);
      return offset;
    }
    const offset = this.top;
    this.ensure(offset + size);
    this.top = offset + size;
    this.highWater = Math.max(this.highWater, this.top);
    this.used.set(offset, size);
    return offset;
  }

  release(offset: number): void {
    const size = this.used.get(offset);
    if (size === undefined) throw new Error(`release of unknown buffer at ${offset}`);
    this.used.delete(offset);
    let i = 0;
    while (i < this.free.length && this.free[i].offset < offset) i++;
    this.free.splice(i, 0, { offset, bytes: size });
    // Coalesce with the neighbours, then give a trailing block back to `top`.
    if (i + 1 < this.free.length && offset + size === this.free[i + 1].offset) {
      this.free[i].bytes += this.free[i + 1].bytes;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].offset + this.free[i - 1].bytes === offset) {
      this.free[i - 1].bytes += this.free[i].bytes;
      this.free.splice(i, 1);
      i--;
    }
    const last = this.free[this.free.length - 1];
    if (last && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const short = () => `the heap needs ${end} bytes of WebAssembly memory (it has ${have})`;
    if (end > MAX_MEMORY_BYTES) throw new ShapeError(`${short()}, more than the 4 GiB a WebAssembly module can address`);
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch (e) {
      throw new ShapeError(`${short()}, and the engine could not grow it: ${(e as Error).message}`);
    }
  }

  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  /** Copies `data` into a new buffer and returns its offset. */
  put(data: Float32Array | Int32Array): number {
    const offset = this.alloc(data.byteLength);
    new Uint8Array(this.memory.buffer, offset, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return offset;
  }
}
