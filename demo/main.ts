// The page: starts the training worker, shows its progress (status line, numbers, chart), and
// sends the user's drawing to it for a prediction whenever the drawing changes.
import { trainingChart } from './chart.js';
import { drawingPad, toDigit } from './draw.js';
import type { FromWorker, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the page has seen, for anyone who wants more than the chart (the e2e test reads it). */
const history = {
  steps: [] as { epoch: number; step: number; loss: number; trainAccuracy: number }[],
  evaluations: [] as { epoch: number; step: number; loss: number; accuracy: number }[],
  predictions: 0,
};
(globalThis as any).wasmCnnDemo = history;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, { transfer });
const chart = trainingChart($('chart'));

let backend = '–';
let ready = false;
let last = { epoch: 1, step: 0, loss: Number.NaN };
let heldOut = Number.NaN;

function showStatus(): void {
  $('status').textContent =
    `epoch ${last.epoch} step ${last.step} loss ${last.loss.toFixed(4)} accuracy ${heldOut.toFixed(4)} backend ${backend}`;
}

function setTraining(training: boolean): void {
  $<HTMLButtonElement>('stop').disabled = !training;
  $<HTMLButtonElement>('resume').disabled = training;
}

const say = (text: string) => ($('message').textContent = text);

// Predictions: one request in flight at a time; a drawing that changes meanwhile is sent when the
// answer arrives, so the probabilities follow the pen without queueing stale requests.
const drawCanvas = $<HTMLCanvasElement>('draw');
let inFlight = false;
let dirty = false;
let nextId = 0;
/** Answers to requests made before the last Clear are dropped. */
let firstCurrentId = 0;

function requestPrediction(): void {
  if (!ready || inFlight) {
    dirty = true;
    return;
  }
  dirty = false;
  const pixels = toDigit(drawCanvas, $<HTMLCanvasElement>('seen'));
  if (!pixels) return;
  inFlight = true;
  send({ type: 'predict', id: nextId++, pixels }, [pixels.buffer]);
}

let frame = 0;
const pad = drawingPad(drawCanvas, () => {
  if (!frame) frame = requestAnimationFrame(() => ((frame = 0), requestPrediction()));
});

const bars = $('probabilities');
for (let d = 0; d < 10; d++) {
  bars.insertAdjacentHTML('beforeend',
    `<li data-digit="${d}"><span>${d}</span><span class="bar"><span style="width:0%"></span></span><span class="value">–</span></li>`);
}

function showPrediction(probabilities: Float32Array): void {
  let best = 0;
  probabilities.forEach((p, d) => {
    if (p > probabilities[best]) best = d;
    const li = bars.children[d] as HTMLElement;
    (li.querySelector('.bar span') as HTMLElement).style.width = `${(p * 100).toFixed(1)}%`;
    li.querySelector('.value')!.textContent = p.toFixed(3);
  });
  [...bars.children].forEach((li, d) => li.classList.toggle('best', d === best));
  $('prediction').textContent = String(best);
  bars.dataset.probabilities = Array.from(probabilities, (p) => p.toFixed(6)).join(' ');
  history.predictions++;
}

function clearPrediction(): void {
  pad.clear();
  firstCurrentId = nextId;
  dirty = false;
  $<HTMLCanvasElement>('seen').getContext('2d')!.clearRect(0, 0, 28, 28);
  $('prediction').textContent = '–';
  delete bars.dataset.probabilities;
  for (const li of bars.children) {
    (li.querySelector('.bar span') as HTMLElement).style.width = '0%';
    li.querySelector('.value')!.textContent = '–';
    li.classList.remove('best');
  }
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready':
      ready = true;
      backend = m.backend;
      $('backend').textContent = m.backend;
      $('digits').textContent = `${m.train} training, ${m.test} held out`;
      $('isolated').textContent = m.crossOriginIsolated ? 'yes' : 'no';
      for (const id of ['download', 'load']) $<HTMLInputElement>(id).disabled = false;
      if (dirty) requestPrediction();
      break;
    case 'step':
      last = { epoch: m.epoch, step: m.step, loss: m.loss };
      history.steps.push({ epoch: m.epoch, step: m.step, loss: m.loss, trainAccuracy: m.trainAccuracy });
      chart.step(m.step, m.loss, m.trainAccuracy);
      $('loss').textContent = m.loss.toFixed(4);
      if (Number.isFinite(m.imagesPerSecond)) $('speed').textContent = Math.round(m.imagesPerSecond).toLocaleString('en');
      showStatus();
      break;
    case 'evaluation':
      heldOut = m.accuracy;
      if (m.step === 0) last = { epoch: m.epoch, step: 0, loss: m.loss };
      history.evaluations.push({ epoch: m.epoch, step: m.step, loss: m.loss, accuracy: m.accuracy });
      chart.evaluation(m.step, m.accuracy);
      $('accuracy').textContent = `${(m.accuracy * 100).toFixed(2)}%`;
      showStatus();
      // The model changed: let the drawing be read again by the better model.
      if (bars.dataset.probabilities) requestPrediction();
      break;
    case 'state':
      setTraining(m.training);
      say(m.reason);
      break;
    case 'prediction':
      inFlight = false;
      if (m.id >= firstCurrentId) showPrediction(m.probabilities);
      if (dirty) requestPrediction();
      break;
    case 'weights': {
      const url = URL.createObjectURL(new Blob([m.bytes as BlobPart], { type: 'application/octet-stream' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: 'lenet-mnist.safetensors' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(`saved ${m.bytes.length.toLocaleString('en')} bytes of weights`);
      break;
    }
    case 'loaded':
      say(`loaded weights from ${m.name}`);
      break;
    case 'error':
      inFlight = false;
      say(`error: ${m.message}`);
      $('message').classList.add('error');
      console.error(m.message);
      break;
  }
};
worker.onerror = (event) => say(`the worker failed: ${event.message}`);

$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('resume').addEventListener('click', () => send({ type: 'resume' }));
$('download').addEventListener('click', () => send({ type: 'save' }));
$('clear').addEventListener('click', clearPrediction);
$<HTMLInputElement>('load').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  send({ type: 'load', name: file.name, bytes }, [bytes.buffer]);
  input.value = '';
});
