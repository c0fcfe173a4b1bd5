import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, SGD } from 'wasm-cnn';

/** Five steps of a small CNN on one fixed batch: the loss must fall. */
export function trainAFewSteps() {
  const model = new Sequential([new Conv2d(1, 4, 3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3)]);
  model.compile({ inputShape: [1, 10, 10], batchSize: 6, loss: 'crossEntropy', optimizer: new SGD({ lr: 0.1 }) });
  const x = Float32Array.from({ length: 6 * 100 }, (_, i) => Math.sin(i * 0.37));
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const losses = [];
  for (let i = 0; i < 5; i++) losses.push(model.trainStep(x, labels));
  model.dispose();
  return losses;
}
