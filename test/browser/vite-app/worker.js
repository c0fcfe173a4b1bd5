// No top-level await here, so that Vite's default worker format (iife) bundles it as it is.
import { init, backendName } from 'wasm-cnn';
import { trainAFewSteps } from './train.js';

init().then(() => self.postMessage({ backend: backendName(), losses: trainAFewSteps() }));
