// The messages between the page (main.ts) and the training worker (worker.ts).

export type ToWorker =
  | { type: 'stop' }
  | { type: 'resume' }
  /** One 28×28 image, values in [0, 1]; answered by a 'prediction' with the same id. */
  | { type: 'predict'; id: number; pixels: Float32Array }
  | { type: 'save' }
  | { type: 'load'; name: string; bytes: Uint8Array };

export type FromWorker =
  | { type: 'ready'; backend: string; train: number; test: number; crossOriginIsolated: boolean }
  /** After every training step. `trainAccuracy` is the batch's. */
  | { type: 'step'; epoch: number; step: number; loss: number; trainAccuracy: number; imagesPerSecond: number }
  /** Loss and accuracy on the held-out digits, which training never sees. */
  | { type: 'evaluation'; epoch: number; step: number; loss: number; accuracy: number }
  | { type: 'state'; training: boolean; reason: string }
  | { type: 'prediction'; id: number; probabilities: Float32Array }
  | { type: 'weights'; bytes: Uint8Array }
  | { type: 'loaded'; name: string }
  | { type: 'error'; message: string };
