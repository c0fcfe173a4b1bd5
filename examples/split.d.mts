export interface Samples { x: Float32Array; labels: Int32Array; count: number }
export function mulberry32(seed: number): () => number;
export function split(samples: Samples, trainCount: number, seed: number): { train: Samples; test: Samples };
export function normalise(v: number): number;
