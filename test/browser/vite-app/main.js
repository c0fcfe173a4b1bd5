// A user's Vite app with no configuration for wasm-cnn: the page and a module worker both import
// the package, train a few steps and report what they ran on.
import { init, backendName } from 'wasm-cnn';
import { trainAFewSteps } from './train.js';

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const fromWorker = new Promise((resolve) => (worker.onmessage = (event) => resolve(event.data)));
await init();
const page = { backend: backendName(), losses: trainAFewSteps() };
globalThis.result = { page, worker: await fromWorker };
