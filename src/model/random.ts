// The seedable generator behind weight initialisation, dropout masks and shuffling, so that a run
// repeats exactly from its seed. mulberry32: 32 bits of state, fast, and good enough for these.
import { shown } from '../shapes.js';

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle(a: Int32Array): Int32Array {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** A seed for runs that did not ask for one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

/** Checks a seed option: any integer (taken modulo 2^32); undefined or null draws a random one. */
export function checkSeed(owner: string, seed: unknown): number {
  const v = seed ?? randomSeed();
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${owner}: seed must be an integer; got ${shown(v)}`);
  return v;
}
