// The memory plan of a compiled model: every tensor a layer, the loss or the optimizer needs is
// reserved first, by category, then each category becomes one heap allocation and the reserved
// slots get their offsets. After that nothing is allocated until dispose().
import { alignUp, type Heap } from '../runtime/memory.js';
import { sizeOf } from '../tensor.js';
import type { Initializer, ParamSlot, Planner, Slot } from '../layers/layer.js';

export const CATEGORIES = [
  'parameters', 'buffers', 'gradients', 'optimizer', 'activations', 'activationGradients', 'scratch',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Bytes per category, and their total. */
export type MemoryReport = Record<Category | 'total', number>;

interface MutableSlot {
  offset: number;
  length: number;
}

/** A tensor of the state dict: a parameter or a buffer, under its PyTorch name. */
export interface StateEntry {
  name: string;
  shape: readonly number[];
  slot: Slot;
  init: Initializer;
}

export class MemoryPlan implements Planner {
  readonly bytes: Record<Category, number> = {
    parameters: 0, buffers: 0, gradients: 0, optimizer: 0, activations: 0, activationGradients: 0, scratch: 0,
  };
  /** Parameters and buffers, in state dict order. */
  readonly entries: StateEntry[] = [];
  /** Prefixed to every state dict name: the layer's index in the Sequential and a dot. */
  prefix = '';
  private readonly slots: { slot: MutableSlot; category: Category }[] = [];
  private readonly bases = new Map<Category, number>();

  /** Reserves `elements` 4-byte elements (f32 or i32) in a category, 16-byte aligned. */
  reserve(category: Category, elements: number): Slot {
    const slot = { offset: this.bytes[category], length: elements };
    this.bytes[category] += alignUp(elements * 4);
    this.slots.push({ slot, category });
    return slot;
  }

  parameter(name: string, shape: readonly number[], init: Initializer): ParamSlot {
    const n = sizeOf(shape);
    const value = this.reserve('parameters', n);
    const grad = this.reserve('gradients', n);
    this.entries.push({ name: this.prefix + name, shape: [...shape], slot: value, init });
    return { value, grad };
  }

  buffer(name: string, shape: readonly number[], init: Initializer): Slot {
    const slot = this.reserve('buffers', sizeOf(shape));
    this.entries.push({ name: this.prefix + name, shape: [...shape], slot, init });
    return slot;
  }

  saved(elements: number): Slot {
    return this.reserve('activations', elements);
  }

  scratch(bytes: number): void {
    this.bytes.scratch = Math.max(this.bytes.scratch, alignUp(bytes));
  }

  /** The whole region of a category as one slot of 4-byte elements (0 when empty). */
  region(category: Category): Slot {
    return { offset: this.bases.get(category) ?? 0, length: this.bytes[category] / 4 };
  }

  /** One allocation per non-empty category; then every reserved slot gets its absolute offset. */
  allocate(heap: Heap): void {
    try {
      for (const c of CATEGORIES) if (this.bytes[c] > 0) this.bases.set(c, heap.alloc(this.bytes[c]));
    } catch (e) {
      this.release(heap);
      throw e;
    }
    for (const { slot, category } of this.slots) slot.offset += this.bases.get(category)!;
    // Gradients and optimizer state start at zero; the rest is written before it is read.
    for (const c of ['gradients', 'optimizer'] as const) {
      if (this.bytes[c] > 0) heap.f32(this.bases.get(c)!, this.bytes[c] / 4).fill(0);
    }
  }

  release(heap: Heap): void {
    for (const offset of this.bases.values()) heap.release(offset);
    this.bases.clear();
  }

  /** The offsets this plan holds, for a finalizer that must not keep the model alive. */
  allocations(): number[] {
    return [...this.bases.values()];
  }

  report(): MemoryReport {
    const total = CATEGORIES.reduce((sum, c) => sum + this.bytes[c], 0);
    return { ...this.bytes, total };
  }
}
